"""Rules and the learned model together: one intent, a calibrated confidence, a reason.

In order:
1. a shop's own keyword (policy `routing.keywords`) decides: the shop said so;
2. a decisive phrase (lexicon `decisive`, e.g. "投诉", "12315"), not negated, decides;
3. otherwise the model's scores decide, with the rules' evidence added: the intent the
   keywords chose gets `rule_weight`, an intent whose keywords were all negated loses
   `negated_weight`;
4. when the keywords found the model's intent and a more actionable one too ("杯子碎了，
   我要退款"), the more actionable one wins, as the contract says, if its score is
   within `actionable_margin` of the best.
The weights, the margin and the temperature that turns scores into a calibrated
probability were fitted on out-of-fold predictions of the training split (train.py),
never on the test split.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .lexicon import INTENTS, RANK
from .model import probabilities

_INDEX = {intent: i for i, intent in enumerate(INTENTS)}


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


def combined_scores(
    scores: np.ndarray, rules: RuleVerdict, rule_weight: float, negated_weight: float
) -> np.ndarray:
    """The model's scores with the rules' evidence added (step 3 above)."""
    s = np.array(scores, dtype=np.float64)
    if rules.found:
        s[_INDEX[rules.intent]] += rule_weight
    for intent in rules.negated:
        if intent not in rules.kept:
            s[_INDEX[intent]] -= negated_weight
    return s


def model_choice(s: np.ndarray, rules: RuleVerdict, margin: float) -> int:
    """The index of the intent chosen from combined scores `s` (steps 3 and 4): the
    more actionable intent needs a score within `margin` of the best."""
    best = int(s.argmax())
    if rules.found and INTENTS[best] in rules.kept and RANK[rules.intent] > best:
        ranked = _INDEX[rules.intent]
        if s[ranked] >= s[best] - margin:
            return ranked
    return best


def combine(rules: RuleVerdict, scores: np.ndarray, meta: dict) -> tuple[str, float, str]:
    """(intent, confidence, reason) of the rules' verdict and the model's scores."""
    if rules.shop_word is not None:
        return rules.intent, max(rules.confidence, 0.9), (
            f'{rules.intent}: shop keyword "{rules.shop_word}"')
    if rules.decisive_word is not None:
        return rules.intent, max(rules.confidence, 0.95), rules.reason + " (decisive)"
    s = combined_scores(scores, rules, meta["rule_weight"], meta["negated_weight"])
    p = probabilities(s, meta["combined_temperature"])
    best = model_choice(s, rules, meta["actionable_margin"])
    intent, conf = INTENTS[best], round(float(p[best]), 2)
    return intent, conf, _reason(intent, conf, rules)


def _reason(intent: str, conf: float, rules: RuleVerdict) -> str:
    head = f"{intent}: model {conf:.2f}"
    said = rules.reason.split(": ", 1)[-1]
    if rules.found and rules.intent == intent:
        return f"{head}, keywords agree: {said}"
    if rules.found:
        return f"{head} over keywords ({rules.intent}: {said})"
    return f"{head} ({said})"
