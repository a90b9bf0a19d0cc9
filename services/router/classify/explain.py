"""Confidence and operator-readable reasons for classifications."""

from __future__ import annotations

import re

from .lexicon import RANK
from .matcher import Hit
from .normalise import ASCII_WORD, CJK

QUESTION = re.compile(
    r"[?吗呢嘛]|么(?:$|[,.!~\s])|^(?:what|how|is|are|can|could|do|does|will|which|why)\b"
)


def content_size(norm: str, ev: str | None, greet: list[tuple[Hit, bool]]) -> int:
    """Rough amount of content besides greeting words: CJK characters + 2 per English word."""
    zh = list(norm)
    covered: set[int] = set()
    for (_, _, start, end), english in greet:
        if english and ev:
            covered.update(range(ev.count(" ", 0, start), ev.count(" ", 0, end) + 1))
        else:
            zh[start:end] = " " * (end - start)
    words = ev.split(" ") if ev else []
    n_words = sum(1 for i, w in enumerate(words) if i not in covered and w.isalpha())
    return sum(1 for c in zh if CJK.match(c) and c not in "吗呢嘛么") + 2 * n_words


def _quote(intent: str, labels: list[str]) -> str:
    return intent + ' "' + '", "'.join(labels[:3]) + '"'


def explain(
    intent: str, kept: dict[str, list[str]], negated: dict[str, list[str]]
) -> tuple[float, str]:
    """Confidence and operator-readable reason for an actionable intent.

    Confidence grows with the number of distinct deciding words and with a long
    (specific) word, and shrinks with competing intents and negated words.
    """
    words = kept[intent]
    reason = intent + ': "' + '", "'.join(words[:3]) + '"'
    conf = 0.6 + 0.1 * min(len(words), 3) + (0.05 if max(map(len, words)) >= 3 else 0.0)
    notes = []
    if len(kept) > 1:
        others = sorted(kept, key=RANK.__getitem__, reverse=True)[1:]
        conf -= 0.05 * len(others)
        notes.append("also: " + "; ".join(_quote(i, kept[i]) for i in others[:3]))
    if negated:
        conf -= 0.05
        notes.append("negated: " + "; ".join(_quote(i, w) for i, w in negated.items()))
    if notes:
        reason += " (" + "; ".join(notes) + ")"
    return round(min(0.95, max(0.3, conf)), 2), reason


def explain_greeting(
    norm: str, greet: list[str], negated: dict[str, list[str]]
) -> tuple[float, str]:
    """Confidence and reason when no actionable word was found."""
    if negated:
        notes = "; ".join(_quote(i, w) for i, w in negated.items())
        return 0.6, f"greeting: no actionable words (negated: {notes})"
    if not norm or not (CJK.search(norm) or ASCII_WORD.search(norm)):
        return 0.95, "greeting: empty message" if not norm else "greeting: emoji/punctuation only"
    if greet:
        return 0.9, _quote("greeting", list(dict.fromkeys(greet))).replace(" ", ": ", 1) + (
            " (no actionable words)"
        )
    return 0.4, "greeting: no actionable words"
