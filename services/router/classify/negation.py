"""Negation: "不是要退货", "不用退款", "not asking for a refund", "no complaints".

A keyword is negated when a cue ends right before it, with at most a few filler
characters/words in between ("不是[要]退货", "don't want [to] return"). General cues
negate any intent. Bare cues ("不", "没", "no", "not") are too common to negate every
intent ("怎么还没发货" must stay urgent), so they apply only to the intents listed in
`_ZH_BARE` / `_EN_BARE` ("没坏", "不退", "not defective", "no complaints").
"""

from __future__ import annotations

import re

from .normalise import en_view, normalise

_ZH_CUES = (
    "(?<!是)不是|不想|不用|不需要|不必|无需|没有要|没想|没打算|不打算|并非|并不是|"
    "不会|不要|不再|没说要|没说"
)
_ZH_FILL = "[要想申请去给帮我你们再的说来找这个是做进行]{0,4}"
_ZH_GENERAL = re.compile(f"(?:{_ZH_CUES}){_ZH_FILL}$")
_ZH_BARE = {
    "return_refund": re.compile(f"(?<![还么再何])不{_ZH_FILL}$"),
    "complaint": re.compile(f"(?<![还么再何])不{_ZH_FILL}$"),
    "quality_issue": re.compile(f"(?:(?<![还么再何])不|没有|没|无){_ZH_FILL}$"),
}

_EN_CUES = (
    "not asking",
    "not asking for",
    "not requesting",
    "not about",
    "not a",
    "not for",
    "not looking for",
    "not trying to",
    "not here to",
    "not planning to",
    "not going to",
    "no need",
    "no need to",
    "no need for",
    "do not want",
    "do not need",
    "don't want",
    "not want",
    "not need",
    "will not",
    "no longer",
    "never mind",
)
_EN_FILL = (
    "a",
    "an",
    "the",
    "to",
    "for",
    "any",
    "my",
    "this",
    "it",
    "that",
    "about",
    "request",
    "ask",
    "file",
    "make",
    "get",
    "do",
    "be",
    "again",
    "yet",
    "open",
    "is",
    "was",
    "are",
    "were",
)


def _alt(words: tuple[str, ...]) -> str:
    forms = sorted({en_view(normalise(w)).strip() for w in words}, key=len, reverse=True)
    return "|".join(re.escape(f) for f in forms)


_EN_TAIL = f"(?: (?:{_alt(_EN_FILL)})){{0,4}} $"
_EN_GENERAL = re.compile(f"(?<![^ ])(?:{_alt(_EN_CUES)}){_EN_TAIL}")
_EN_BARE = {
    "complaint": re.compile(f"(?<![^ ])(?:{_alt(('no', 'not', 'never', 'without'))}){_EN_TAIL}"),
    "quality_issue": re.compile(
        f"(?<![^ ])(?:{_alt(('no', 'not', 'nothing', 'without'))}){_EN_TAIL}"
    ),
}


_ZH_ANY = re.compile("[不没无并]")
_EN_ANY = re.compile(" (?:no|not|never|nothing|noth|without) ")


def is_negated(view: str, start: int, intent: str, *, english: bool) -> bool:
    """True if the keyword of `intent` starting at `start` in `view` is negated.

    `view` is the normalised text for Chinese keywords, or its `en_view` for English.
    """
    lo = start - (60 if english else 12)
    lo = lo if lo > 0 else 0
    if not (_EN_ANY if english else _ZH_ANY).search(view, lo, start):
        return False  # no cue word near: the common case, decided by one cheap search
    general, bare = (_EN_GENERAL, _EN_BARE) if english else (_ZH_GENERAL, _ZH_BARE)
    if general.search(view, lo, start):
        return True
    rx = bare.get(intent)
    return bool(rx and rx.search(view, lo, start))
