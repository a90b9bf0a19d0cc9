"""Traditional -> simplified Chinese, character by character, for keyword matching.

`zhconv.convert(text, "zh-hans")` converts phrase by phrase (regional vocabulary too)
and costs ~30x a `str.translate`. The classifier needs only characters, so it asks the
library's public `convert` once per code point of the CJK blocks at import (~0.1 s)
and keeps the answers as a translate table; no private zhconv table is read.
tests/unit/test_classify_data.py proves that, for the corpus, the table gives the same
intents as `zhconv.convert`.
"""

from __future__ import annotations

import zhconv

_BLOCKS = (
    (0x3000, 0x3040),  # CJK punctuation (「」 -> “”)
    (0x3400, 0xA000),  # extension A, unified ideographs
    (0xF900, 0xFB00),  # compatibility ideographs
    (0xFF00, 0xFFF0),  # half- and full-width forms
    (0x20000, 0x31350),  # extensions B-H
)


def _table() -> dict[int, str]:
    table = {}
    for lo, hi in _BLOCKS:
        for code in range(lo, hi):
            char = chr(code)
            simple = zhconv.convert(char, "zh-hans")
            if simple != char and len(simple) == 1:
                table[code] = simple
    return table


T2S: dict[int, str] = _table()
TRADITIONAL = frozenset(map(chr, T2S))


def to_simplified(text: str) -> str:
    """`text` with every traditional character replaced by its simplified form."""
    return text.translate(T2S) if not TRADITIONAL.isdisjoint(text) else text
