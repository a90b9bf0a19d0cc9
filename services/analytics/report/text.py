"""Plain text building blocks: aligned tables (CJK-aware widths) and CSV."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from typing import Any


def width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def grid(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> str:
    """An aligned table: text columns left, numbers right."""
    texts = [[cell(v) for v in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in texts]) for i, h in enumerate(headers)]
    numeric = [all(_numeric(row[i]) for row in rows) and rows for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, text in enumerate(values):
            pad = " " * (widths[i] - width(text))
            parts.append(pad + text if numeric[i] else text + pad)
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in texts)])


def _numeric(value: Any) -> bool:
    """Right-aligned: numbers, percentages and the `-` of a missing figure."""
    return (value is None or isinstance(value, int | float)
            or (isinstance(value, str) and (value.endswith("%") or value == "-")))


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue()
