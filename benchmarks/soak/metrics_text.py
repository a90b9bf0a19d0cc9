"""Parsing Prometheus /metrics text."""

from __future__ import annotations

import re
from collections import Counter

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every sample of metric `name` in Prometheus text format."""
    out = []
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = _SAMPLE.match(line)
        if match is None or match.group(1) != name:
            continue
        labels = dict(_LABEL.findall(match.group(2) or ""))
        out.append((labels, float(match.group(3))))
    return out


def metric_total(text: str, name: str) -> float:
    return sum(value for _, value in metric_samples(text, name))


def metric_by(text: str, name: str, label: str) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for labels, value in metric_samples(text, name):
        totals[labels.get(label, "")] += value
    return dict(totals)
