"""Rules and the learned model together: one intent, a calibrated confidence, a reason.

In order:
1. a shop's own keyword (policy `routing.keywords`) decides: the shop said so;
2. a decisive phrase (lexicon `decisive`, e.g. "投诉", "12315"), not negated, decides;
3. otherwise the model decides, reading the rules' verdict and the order stage as
   evidence: the model's scores plus learned vectors for "the keywords chose intent X
   (with confidence c)", "X's keywords were all negated", "no keyword" and "the order
   is before shipment / after it / cancelled / unknown". These vectors are a small
   logistic regression stacked on out-of-fold predictions of the training split
   (train.py; never the test split), so its softmax is a calibrated probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .lexicon import INTENTS
from .model import probabilities

_INDEX = {intent: i for i, intent in enumerate(INTENTS)}
EVIDENCE = ("rule_found", "rule_confidence", "rule_negated", "no_rule", "stage")
"""meta keys of the evidence vectors: 9x9, 9x9, 9x9 (row: the rules' intent), 9, and
4x9 (row: the order stage, STAGES)."""
STAGES = ("§pre", "§post", "§cancelled", "")
"""Rows of the stage vectors: before shipment, after it, cancelled, unknown."""
_STAGE_ROW = {tok: i for i, tok in enumerate(STAGES)}


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


def evidence(rules: RuleVerdict, stage_tok: str) -> list[tuple[str, int, float]]:
    """The rules' verdict and the order stage as (meta key, row, value) terms of the
    stacked model. The stage is a term of its own, not only a feature of the model:
    there its weight shrinks with the message's length (1/sqrt of the feature count),
    here it is a prior per stage whatever the length."""
    if not rules.found:
        terms = [("no_rule", -1, 1.0)]
    else:
        row = _INDEX[rules.intent]
        terms = [("rule_found", row, 1.0), ("rule_confidence", row, rules.confidence)]
    terms.append(("stage", _STAGE_ROW[stage_tok], 1.0))
    return terms + [("rule_negated", _INDEX[i], 1.0) for i in rules.negated
                    if i not in rules.kept]


def with_stage(scores: Sequence[float], stage_tok: str, meta: dict) -> list[float]:
    """The model's scores plus the stage vector alone (the model without the rules)."""
    return [a + b for a, b in zip(scores, meta["stage"][_STAGE_ROW[stage_tok]], strict=True)]


def combined_scores(scores: Sequence[float], rules: RuleVerdict, stage_tok: str,
                    meta: dict) -> list[float]:
    """The model's (stacked) scores plus the evidence vectors (step 3)."""
    s = list(scores)
    for key, row, value in evidence(rules, stage_tok):
        vector = meta[key] if row < 0 else meta[key][row]
        s = [a + value * b for a, b in zip(s, vector, strict=True)]
    return s


def combine(rules: RuleVerdict, scores: Sequence[float], stage_tok: str,
            meta: dict) -> tuple[str, float, str]:
    """(intent, confidence, reason) of the rules' verdict, the model's scores and the
    order stage (a `features.stage_token`)."""
    if rules.shop_word is not None:
        return rules.intent, max(rules.confidence, 0.9), (
            f'{rules.intent}: shop keyword "{rules.shop_word}"')
    if rules.decisive_word is not None:
        return rules.intent, max(rules.confidence, 0.95), rules.reason + " (decisive)"
    p = probabilities(combined_scores(scores, rules, stage_tok, meta), 1.0)
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
