"""Accuracy of the classifier on a labelled corpus (JSON lines)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .classifier import classifier_for
from .lexicon import INTENTS


@dataclass
class IntentStats:
    """Counts for one intent: true positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def support(self) -> int:
        """Corpus lines labelled with this intent."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        """Share of lines predicted as this intent that were labelled so (1.0 if none)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of lines labelled with this intent that were predicted so (1.0 if none)."""
        return self.tp / self.support if self.support else 1.0


@dataclass
class Report:
    """Result of `accuracy_report`; `failures` holds (line, text, expected, got)."""

    total: int = 0
    correct: int = 0
    role_correct: int = 0
    per_intent: dict[str, IntentStats] = field(
        default_factory=lambda: {i: IntentStats() for i in INTENTS}
    )
    per_lang: dict[str, list[int]] = field(default_factory=dict)  # lang -> [correct, total]
    failures: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of lines whose intent was right."""
        return self.correct / self.total if self.total else 1.0

    @property
    def role_accuracy(self) -> float:
        """Share of lines whose role was right."""
        return self.role_correct / self.total if self.total else 1.0


def accuracy_report(
    corpus_path: str | Path, line_filter: Callable[[int], bool] | None = None
) -> Report:
    """Classify every line of the corpus (built-in keywords only) and count hits.

    Each line: {"text", "intent", "role", "order_stage"?, "lang"?}. `line_filter`
    (1-based line number -> bool) selects a subset, e.g. a held-out fifth.
    """
    clf, rep = classifier_for(None), Report()
    lines = Path(corpus_path).read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip() or (line_filter and not line_filter(n)):
            continue
        row = json.loads(line)
        got = clf.classify(row["text"], order_stage=row.get("order_stage"))
        want = row["intent"]
        rep.total += 1
        lang = rep.per_lang.setdefault(row.get("lang", "?"), [0, 0])
        lang[1] += 1
        rep.role_correct += got.role == row.get("role", got.role)
        if got.intent == want:
            rep.correct += 1
            lang[0] += 1
            rep.per_intent[want].tp += 1
        else:
            rep.per_intent[want].fn += 1
            rep.per_intent[got.intent].fp += 1
            rep.failures.append((n, row["text"], want, f"{got.intent} ({got.reason})"))
    return rep


def format_report(report: Report, *, failures: int = 0) -> str:
    """A readable table; `failures` > 0 also lists that many misclassified lines."""
    out = [f"{'intent':<18} {'support':>7} {'precision':>9} {'recall':>7}"]
    for name, s in report.per_intent.items():
        out.append(f"{name:<18} {s.support:>7} {s.precision:>9.3f} {s.recall:>7.3f}")
    out.append(
        f"overall accuracy {report.accuracy:.3f} ({report.correct}/{report.total}),"
        f" role accuracy {report.role_accuracy:.3f}"
    )
    out.append(
        "by script: "
        + ", ".join(f"{k} {c / t:.3f} ({c}/{t})" for k, (c, t) in sorted(report.per_lang.items()))
    )
    for n, text, want, got in report.failures[:failures]:
        out.append(f"  line {n}: {text!r} expected {want}, got {got}")
    return "\n".join(out)
