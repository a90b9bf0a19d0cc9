"""The intent classifier: keyword hits, negation, most-actionable-wins, role decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from .explain import QUESTION, content_size, explain, explain_greeting
from .lexicon import INTENTS, LEXICON, RANK
from .matcher import Builder, Hit, Matcher
from .negation import is_negated
from .normalise import ASCII_WORD, CJK, en_view, normalise
from .roles import decide_role

MAX_CHARS = 20_000
_PRE_SHIPMENT = frozenset({"created", "paid"})
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
    """Keyword intent classifier; build once per keyword set and reuse (thread-safe).

    `extra_keywords` maps intent name -> a shop's own words (policy `routing.keywords`);
    they count exactly like built-in keywords. An unknown intent name raises ValueError.
    """

    def __init__(self, extra_keywords: Mapping[str, Sequence[str]] | None = None) -> None:
        main, greet = Builder(), Builder()
        for intent, langs in LEXICON.items():
            for word in (w for words in langs.values() for w in words):
                (greet if intent == "greeting" else main).add(intent, word)
        for intent, words in (extra_keywords or {}).items():
            if intent not in RANK:
                raise ValueError(f"routing.keywords: unknown intent {intent!r}")
            if isinstance(words, str):
                raise ValueError(f"routing.keywords.{intent}: expected a list of words")
            for word in words:
                (greet if intent == "greeting" else main).add(intent, str(word))
        self._main = {e: Matcher(main.words[e], main.gaps[e], english=e) for e in (False, True)}
        self._greet = {e: Matcher(greet.words[e], greet.gaps[e], english=e) for e in (False, True)}

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
        shipped = order_stage not in _PRE_SHIPMENT
        if len(text) <= REMEMBERED_CHARS:
            intent, conf, reason = _recent_intent(self, text, shipped)
        else:
            intent, conf, reason = self.intent(text, shipped=shipped)
        role, priority = decide_role(intent, order_stage, sticky_role)
        return Classification(intent, role, priority, conf, reason)

    def intent(self, text: str, *, shipped: bool) -> tuple[str, float, str]:
        """(intent, confidence, reason) of a message; `shipped` is False only for an
        order known to be before shipment (it decides the staged intents)."""
        norm = normalise(text)
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
            return intent, conf, reason
        greet = self._scan(self._greet, norm, ev)
        if not negated and QUESTION.search(norm) and content_size(norm, ev, greet) >= 3:
            return "product_inquiry", 0.35, "product_inquiry: a question without known keywords"
        labels = list(dict.fromkeys(h[1] for h, _ in greet))
        conf, reason = explain_greeting(norm, labels, negated)
        return "greeting", conf, reason


REMEMBERED_CHARS = 200
"""Messages up to this length have their intent remembered (most chat lines are)."""


@lru_cache(maxsize=16_384)
def _recent_intent(classifier: Classifier, text: str, shipped: bool) -> tuple[str, float, str]:
    """Classifier.intent for recent short messages, across all keyword sets: at most
    16,384 entries (a few MB) whatever the number of shops."""
    return classifier.intent(text, shipped=shipped)


@lru_cache(maxsize=256)
def _cached(frozen: tuple[tuple[str, tuple[str, ...]], ...]) -> Classifier:
    return Classifier(dict(frozen))


def classifier_for(extra_keywords: Mapping[str, Sequence[str]] | None = None) -> Classifier:
    """The Classifier for a shop's keyword set, built once and cached by that set."""
    if not extra_keywords:
        return _cached(())
    frozen = []
    for intent, words in extra_keywords.items():
        if isinstance(words, str):
            raise ValueError(f"routing.keywords.{intent}: expected a list of words")
        frozen.append((str(intent), tuple(sorted({str(w) for w in words or ()}))))
    return _cached(tuple(sorted(frozen)))


__all__ = ["Classification", "Classifier", "INTENTS", "classifier_for"]
