"""Toneless pinyin of common shop-chat words -> Chinese, so that "kuai di zai na",
"kuaidi zai na" and "快递在哪" share their features and keywords.

Only words of two or more syllables are converted (a lone "ma" or "dan" is too often
English or a name), written with the syllables apart ("fa huo") or joined ("fahuo");
a few joined forms that are English words ("pole", "bale") are left alone. A final
particle right after a converted word ("bao you ma", "huai le") is converted with it,
and the spaces between converted words are dropped ("我的快递", not "我的 快递"), as a
Chinese buyer writes them.
"""

from __future__ import annotations

import re

from services.core.package_data import read_yaml

PINYIN_FILE = "data/pinyin.yaml"


class PinyinError(ValueError):
    """The pinyin file does not match its shape."""


def _load() -> tuple[dict[str, str], dict[str, str], frozenset[str]]:
    """The word list shipped with the package (data/pinyin.yaml), checked at import."""
    data = read_yaml(__package__, PINYIN_FILE, PinyinError)
    if not isinstance(data, dict) or set(data) != {"words", "particles", "not_joined"}:
        raise PinyinError(f"{PINYIN_FILE}: expected exactly words, particles, not_joined")
    for key in ("words", "particles"):
        table = data[key]
        if not isinstance(table, dict) or not table or not all(
                isinstance(k, str) and _SYLLABLES.fullmatch(k) and isinstance(v, str) and v
                for k, v in table.items()):
            raise PinyinError(f"{PINYIN_FILE}: {key} must map lower-case syllables to text")
    if not all(isinstance(w, str) for w in data["not_joined"] or ()):
        raise PinyinError(f"{PINYIN_FILE}: not_joined must be a list of words")
    return data["words"], data["particles"], frozenset(data["not_joined"] or ())


_SYLLABLES = re.compile(r"[a-z]+(?: [a-z]+)*")
WORDS, PARTICLES, _NOT_JOINED = _load()
_JOINED = {k.replace(" ", ""): v for k, v in WORDS.items()
           if " " in k and k.replace(" ", "") not in _NOT_JOINED}
_SPELLINGS = {**WORDS, **_JOINED}
_WORD_RE = re.compile(
    r"(?<![a-z])(?P<w>" + "|".join(map(re.escape, sorted(_SPELLINGS, key=len, reverse=True)))
    + r")(?: (?P<p>" + "|".join(PARTICLES) + r"))?(?![a-z'])")
_LETTERS = re.compile(r"[a-z]+")
_PAIRS = frozenset(" ".join(k.split()[:2]) for k in WORDS)  # the first two syllables
_BETWEEN = re.compile(r"(?<=\x00) (?=\x00)")


def _convert(m: re.Match[str]) -> str:
    return "\x00" + _SPELLINGS[m["w"]] + PARTICLES.get(m["p"] or "", "") + "\x00"


def from_pinyin(text: str) -> str:
    """`text` (lower case) with the pinyin of WORDS written in Chinese."""
    if not has_pinyin(text):
        return text
    out = _WORD_RE.sub(_convert, text)
    if out is text or "\x00" not in out:
        return text
    return _BETWEEN.sub("", out).replace("\x00", "")


def has_pinyin(text: str) -> bool:
    """Whether `text` may have a word of WORDS: a joined one, or the first two
    syllables of a spaced one (a set look-up, far cheaper than the pattern)."""
    words = _LETTERS.findall(text)
    if not _JOINED.keys().isdisjoint(words):
        return True
    return not _PAIRS.isdisjoint(map(" ".join, zip(words, words[1:], strict=False)))
