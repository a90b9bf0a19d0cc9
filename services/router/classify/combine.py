"""Rules and the learned model together: one intent, a calibrated confidence, a reason.

In order:
1. a shop's own keyword (policy `routing.keywords`) decides: the shop said so;
2. a decisive phrase (lexicon `decisive`, e.g. "投诉", "12315"), not negated, decides;
3. otherwise the model decides, reading the rules' verdict as evidence: the model's
   scores plus learned vectors for "the keywords chose intent X (with confidence c)",
   "X's keywords were all negated" and "no keyword". These vectors are a small
   logistic regression stacked on out-of-fold predictions of the training split
   (train.py; never the test split), so its softmax is a calibrated probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .lexicon import INTENTS
from .model import probabilities

_INDEX = {intent: i for i, intent in enumerate(INTENTS)}
EVIDENCE = ("rule_found", "rule_confidence", "rule_negated", "no_rule")
"""meta keys of the evidence vectors: 9x9, 9x9, 9x9 (row: the rules' intent) and 9."""


class RuleVerdict(NamedTuple):
    """What the keyword rules found in one message."""

    intent: str
    confidence: float
    reason: str
    found: bool  # an actionable keyword (or a greeting word) decided, not a fallback
    kept: dict[str, list[str]]
    negated: dict[str, list[str]]
    shop_word: str | None = None  # a shop keyword of the rules' intent
    decisive_word: str | None = None


def evidence(rules: RuleVerdict) -> list[tuple[str, int, float]]:
    """The rules' verdict as (meta key, row, value) terms of the stacked model."""
    if not rules.found:
        terms = [("no_rule", -1, 1.0)]
    else:
        row = _INDEX[rules.intent]
        terms = [("rule_found", row, 1.0), ("rule_confidence", row, rules.confidence)]
    return terms + [("rule_negated", _INDEX[i], 1.0) for i in rules.negated
                    if i not in rules.kept]


def combined_scores(scores: Sequence[float], rules: RuleVerdict, meta: dict) -> list[float]:
    """The model's (stacked) scores plus the rules' evidence vectors (step 3)."""
    s = list(scores)
    for key, row, value in evidence(rules):
        vector = meta[key] if row < 0 else meta[key][row]
        s = [a + value * b for a, b in zip(s, vector, strict=True)]
    return s


def combine(rules: RuleVerdict, scores: Sequence[float], meta: dict) -> tuple[str, float, str]:
    """(intent, confidence, reason) of the rules' verdict and the model's scores."""
    if rules.shop_word is not None:
        return rules.intent, max(rules.confidence, 0.9), (
            f'{rules.intent}: shop keyword "{rules.shop_word}"')
    if rules.decisive_word is not None:
        return rules.intent, max(rules.confidence, 0.95), rules.reason + " (decisive)"
    p = probabilities(combined_scores(scores, rules, meta), 1.0)
    best = p.index(max(p))
    intent, conf = INTENTS[best], round(p[best], 2)
    return intent, conf, _reason(intent, conf, rules)


def _reason(intent: str, conf: float, rules: RuleVerdict) -> str:
    head = f"{intent}: model {conf:.2f}"
    said = rules.reason.split(": ", 1)[-1]
    if rules.found and rules.intent == intent:
        return f"{head}, keywords agree: {said}"
    if rules.found:
        return f"{head} over keywords ({rules.intent}: {said})"
    return f"{head} ({said})"
