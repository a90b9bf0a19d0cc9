"""How well the classifier does on labelled messages: per intent precision, recall and
F1, a confusion matrix, intent and role accuracy, per script, and the calibration of
`confidence` (reliability table, expected calibration error), for the rules only, the
model only and the two combined."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .classifier import Classifier
from .combine import with_stage
from .corpus import Example
from .features import stage_token
from .lexicon import INTENTS
from .model import probabilities
from .normalise import normalise
from .roles import decide_role

METHODS = ("rules", "model", "combined")
BINS = 10

Predict = Callable[[Example], tuple[str, float]]


@dataclass
class Evaluation:
    """Predictions of one method on a labelled set."""

    method: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, got)
    roles: list[bool] = field(default_factory=list)
    confidences: list[tuple[float, bool]] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(a == b for a, b in self.pairs) / max(len(self.pairs), 1)

    @property
    def role_accuracy(self) -> float:
        return sum(self.roles) / max(len(self.roles), 1)

    def scores(self, intent: str) -> tuple[float, float, float, int]:
        """(precision, recall, F1, support) of one intent."""
        tp = sum(a == b == intent for a, b in self.pairs)
        predicted = sum(b == intent for _, b in self.pairs)
        support = sum(a == intent for a, _ in self.pairs)
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0), support

    @property
    def worst_f1(self) -> tuple[str, float]:
        """The lowest F1 among the intents the set labels (one it lacks has none)."""
        labelled = {expected for expected, _ in self.pairs}
        judged = [i for i in INTENTS if i in labelled] or list(INTENTS)
        return min(((i, self.scores(i)[2]) for i in judged), key=lambda x: x[1])

    def reliability(self) -> list[tuple[float, float, float, int]]:
        """(low, mean confidence, accuracy, count) per confidence bin of width 0.1."""
        rows = []
        for b in range(BINS):
            lo, hi = b / BINS, (b + 1) / BINS
            inside = [(c, ok) for c, ok in self.confidences if lo <= c < hi or (b == BINS - 1
                                                                          and c == 1.0)]
            if inside:
                mean = sum(c for c, _ in inside) / len(inside)
                rows.append((lo, mean, sum(ok for _, ok in inside) / len(inside), len(inside)))
        return rows

    @property
    def ece(self) -> float:
        """Expected calibration error: |confidence - accuracy| weighted by bin size."""
        n = max(len(self.confidences), 1)
        return sum(k * abs(mean - acc) for _, mean, acc, k in self.reliability()) / n


def predictors(clf: Classifier) -> dict[str, Predict]:
    """(intent, confidence) of each method; the model ones need clf.model."""
    def rules(e: Example) -> tuple[str, float]:
        v = clf.rules_intent(e.text, stage=e.stage)
        return v.intent, v.confidence

    def model(e: Example) -> tuple[str, float]:
        m = clf.model
        scores = with_stage(m.scores(_features(e)), stage_token(e.stage), m.meta)
        p = probabilities(scores, m.meta["temperature"])
        return INTENTS[p.index(max(p))], max(p)

    def combined(e: Example) -> tuple[str, float]:
        intent, conf, _ = clf.intent(e.text, stage=e.stage)
        return intent, conf

    found = {"rules": rules, "model": model, "combined": combined}
    return found if clf.model is not None else {"rules": rules}


def _features(e: Example) -> set[str]:
    from .features import message_features

    return message_features(normalise(e.text), stage_token(e.stage))


def evaluate(examples: Sequence[Example], clf: Classifier) -> list[Evaluation]:
    """One Evaluation per method (rules, model, combined) of `clf` on `examples`."""
    out = []
    for method, predict in predictors(clf).items():
        ev = Evaluation(method)
        for e in examples:
            got, conf = predict(e)
            ev.pairs.append((e.intent, got))
            ev.roles.append(decide_role(got, e.stage)[0] == e.role)
            ev.confidences.append((conf, got == e.intent))
            ev.langs.append(e.lang or "?")
        out.append(ev)
    return out
