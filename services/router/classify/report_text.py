"""The text of `kefu route --report`: tables of report.Evaluation objects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .lexicon import INTENTS
from .report import Evaluation

_SHORT = {i: i[:8] for i in INTENTS}


def summary(evals: Sequence[Evaluation]) -> str:
    """One line per method: intent and role accuracy, worst F1, ECE, per script."""
    out = [f"{'method':<9} {'intent':>6} {'role':>6} {'worst F1':>22} {'ECE':>6}  by script"]
    for ev in evals:
        worst, f1 = ev.worst_f1
        langs = Counter(ev.langs)
        right = Counter(lang for lang, (a, b) in zip(ev.langs, ev.pairs, strict=True)
                        if a == b)
        by = ", ".join(f"{k} {right[k] / n:.3f}" for k, n in sorted(langs.items()))
        out.append(f"{ev.method:<9} {ev.accuracy:>6.3f} {ev.role_accuracy:>6.3f} "
                   f"{worst:>16} {f1:.3f} {ev.ece:>6.3f}  {by}")
    return "\n".join(out)


def per_intent(ev: Evaluation) -> str:
    """Precision, recall, F1 and support per intent."""
    out = [f"{ev.method}: {'intent':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>5}"]
    for intent in INTENTS:
        p, r, f1, n = ev.scores(intent)
        out.append(f"{'':<{len(ev.method) + 2}}{intent:<18} {p:>9.3f} {r:>7.3f} {f1:>6.3f} {n:>5}")
    return "\n".join(out)


def confusion(ev: Evaluation) -> str:
    """Rows: the labelled intent; columns: what the method said."""
    counts = Counter(ev.pairs)
    out = [f"{ev.method} confusion (row: expected, column: got)",
           " " * 9 + "".join(f"{_SHORT[i]:>9}" for i in INTENTS)]
    for a in INTENTS:
        out.append(f"{_SHORT[a]:<9}" + "".join(f"{counts[(a, b)] or '.':>9}" for b in INTENTS))
    return "\n".join(out)


def reliability(ev: Evaluation) -> str:
    """Mean confidence against accuracy per confidence bin."""
    out = [f"{ev.method} calibration: {'confidence':>10} {'mean':>6} {'accuracy':>8} {'n':>5}"]
    for lo, mean, acc, n in ev.reliability():
        out.append(f"{'':<{len(ev.method) + 14}}{lo:.1f}-{lo + 0.1:.1f}"
                   f" {mean:>6.3f} {acc:>8.3f} {n:>5}")
    out.append(f"{'':<{len(ev.method) + 14}}ECE {ev.ece:.3f}")
    return "\n".join(out)


def full_report(evals: Sequence[Evaluation], title: str) -> str:
    """Everything `kefu route --report` prints."""
    parts = [title, summary(evals)]
    for ev in evals:
        parts += [per_intent(ev), confusion(ev), reliability(ev)]
    return "\n\n".join(parts)
