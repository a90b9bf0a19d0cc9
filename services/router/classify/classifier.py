"""The intent classifier: keyword rules (hits, negation, most actionable wins), the
learned model, their combination (combine.py), and the role decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from .combine import RuleVerdict, combine
from .explain import QUESTION, content_size, explain, explain_greeting
from .features import message_features, stage_token
from .lexicon import DECISIVE, INTENTS, LEXICON, RANK
from .matcher import Builder, Hit, Matcher
from .model import IntentModel, builtin_model, cached_model
from .negation import is_negated
from .normalise import ASCII_WORD, CJK, en_view, normalise
from .roles import decide_role

MAX_CHARS = 20_000
BUILTIN = object()
"""Classifier(model=BUILTIN): the model shipped with the package."""
_STAGED = {  # pseudo-intent -> (before shipment, after shipment or unknown)
    "_exchange": ("order_change", "return_refund"),
    "_mismatch": ("order_change", "quality_issue"),
}


class Classification(NamedTuple):
    """Router output for one buyer message (the `routing` object of the contract)."""

    intent: str
    role: str
    priority: str
    confidence: float
    reason: str


class Classifier:
    """Keyword rules plus the learned model; build once per keyword set and model, and
    reuse (thread-safe).

    `extra_keywords` maps intent name -> a shop's own words (policy `routing.keywords`);
    they decide over the model. An unknown intent name raises ValueError. `model` is
    the learned model (default: the built-in one; None: rules only).
    """

    def __init__(
        self,
        extra_keywords: Mapping[str, Sequence[str]] | None = None,
        model: IntentModel | None | object = BUILTIN,
    ) -> None:
        main, greet = Builder(), Builder()
        for intent, langs in LEXICON.items():
            for word in (w for words in langs.values() for w in words):
                (greet if intent == "greeting" else main).add(intent, word)
        shop = Builder()
        for intent, words in (extra_keywords or {}).items():
            if intent not in RANK:
                raise ValueError(f"routing.keywords: unknown intent {intent!r}")
            if isinstance(words, str):
                raise ValueError(f"routing.keywords.{intent}: expected a list of words")
            for word in words:
                (greet if intent == "greeting" else main).add(intent, str(word))
                shop.add(intent, str(word))
        self._shop_words = {(i, label) for table in shop.words.values()
                            for entries in table.values() for i, label in entries}
        self._shop_words |= {(i, label) for gaps in shop.gaps.values() for *_, i, label in gaps}
        self._main = {e: Matcher(main.words[e], main.gaps[e], english=e) for e in (False, True)}
        self._greet = {e: Matcher(greet.words[e], greet.gaps[e], english=e) for e in (False, True)}
        self.model: IntentModel | None = builtin_model() if model is BUILTIN else model

    def _scan(self, matchers: dict[bool, Matcher], norm: str, ev: str | None):
        hits: list[tuple[Hit, bool]] = []
        if CJK.search(norm):
            hits += [(h, False) for h in matchers[False].scan(norm)]
        if ev:
            hits += [(h, True) for h in matchers[True].scan(ev)]
        return hits

    def classify(
        self, text: str, *, order_stage: str | None = None, sticky_role: str | None = None
    ) -> Classification:
        """Classify one buyer message; the most actionable intent found wins.

        Messages over MAX_CHARS characters are judged on their head and tail (half each),
        which bounds the time any input can take. Short messages ("在吗", "好的谢谢",
        template questions) recur all day: their intent is remembered (_recent_intent).
        """
        text = text or ""
        if len(text) > MAX_CHARS:
            text = text[: MAX_CHARS // 2] + "\n" + text[-(MAX_CHARS // 2) :]
        stage_tok = stage_token(order_stage)
        if len(text) <= REMEMBERED_CHARS:
            intent, conf, reason = _recent_intent(self, text, stage_tok)
        else:
            intent, conf, reason = self._intent(text, stage_tok)
        role, priority = decide_role(intent, order_stage, sticky_role)
        return Classification(intent, role, priority, conf, reason)

    def intent(self, text: str, *, stage: str | None = None) -> tuple[str, float, str]:
        """(intent, confidence, reason) of a message at an order stage (None: unknown)."""
        return self._intent(text, stage_token(stage))

    def _intent(self, text: str, stage_tok: str) -> tuple[str, float, str]:
        norm = normalise(text)
        rules = self._rules(norm, stage_tok)
        if self.model is None or not (CJK.search(norm) or ASCII_WORD.search(norm)):
            return rules.intent, rules.confidence, rules.reason  # no words: nothing to learn
        if rules.shop_word is not None or rules.decisive_word is not None:
            return combine(rules, (), stage_tok, self.model.meta)  # the rules decide
        scores = self.model.scores(message_features(norm, stage_tok))
        return combine(rules, scores, stage_tok, self.model.meta)

    def rules_intent(self, text: str, *, stage: str | None = None) -> RuleVerdict:
        """What the keyword rules alone say (for reports and training)."""
        return self._rules(normalise(text), stage_token(stage))

    def _rules(self, norm: str, stage_tok: str) -> RuleVerdict:
        shipped = stage_tok != "§pre"  # unknown counts as shipped for staged words
        ev = en_view(norm) if ASCII_WORD.search(norm) else None
        kept: dict[str, list[str]] = {}
        negated: dict[str, list[str]] = {}
        for (intent, label, start, _), english in self._scan(self._main, norm, ev):
            if intent == "_neutral":
                continue
            if intent in _STAGED:
                intent = _STAGED[intent][shipped]
            neg = is_negated(ev if english else norm, start, intent, english=english)
            labels = (negated if neg else kept).setdefault(intent, [])
            if label not in labels:
                labels.append(label)
        if kept:
            intent = max(kept, key=RANK.__getitem__)
            conf, reason = explain(intent, kept, negated)
            words = kept[intent]
            shop = next((w for w in words if (intent, w) in self._shop_words), None)
            decisive = next((w for w in words if w in DECISIVE.get(intent, ())), None)
            return RuleVerdict(intent, conf, reason, True, kept, negated, shop, decisive)
        greet = self._scan(self._greet, norm, ev)
        if not negated and QUESTION.search(norm) and content_size(norm, ev, greet) >= 3:
            reason = "product_inquiry: a question without known keywords"
            return RuleVerdict("product_inquiry", 0.35, reason, False, kept, negated)
        labels = list(dict.fromkeys(h[1] for h, _ in greet))
        conf, reason = explain_greeting(norm, labels, negated)
        shop = next((w for w in labels if ("greeting", w) in self._shop_words), None)
        return RuleVerdict("greeting", conf, reason, conf >= 0.9, kept, negated, shop)


REMEMBERED_CHARS = 200
"""Messages up to this length have their intent remembered (most chat lines are)."""


@lru_cache(maxsize=16_384)
def _recent_intent(classifier: Classifier, text: str, stage_tok: str) -> tuple[str, float, str]:
    """Classifier._intent for recent short messages, across all keyword sets: at most
    16,384 entries (a few MB) whatever the number of shops."""
    return classifier._intent(text, stage_tok)


@lru_cache(maxsize=256)
def _cached(frozen: tuple[tuple[str, tuple[str, ...]], ...], model: str | None) -> Classifier:
    return Classifier(dict(frozen), cached_model(model) if model else BUILTIN)


def classifier_for(
    extra_keywords: Mapping[str, Sequence[str]] | None = None, model: str | None = None
) -> Classifier:
    """The Classifier for a shop's keyword set and model file (policy `routing.model`;
    None: the built-in model), built once and cached by both."""
    if not extra_keywords:
        return _cached((), model)
    frozen = []
    for intent, words in extra_keywords.items():
        if isinstance(words, str):
            raise ValueError(f"routing.keywords.{intent}: expected a list of words")
        frozen.append((str(intent), tuple(sorted({str(w) for w in words or ()}))))
    return _cached(tuple(sorted(frozen)), model)


__all__ = ["Classification", "Classifier", "INTENTS", "classifier_for"]
