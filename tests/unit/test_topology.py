"""The topology is declared once, by each service's composition root (the topics its
subscribers consume, the publishers it declares; the runtime refuses to send anywhere
else). The tables users read, in README.md and docs/architecture.md, must say exactly
that."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.cli.services import SERVICES, create_app
from services.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TOPIC = re.compile(r"`(kefu\.[a-z.]+)`")


def declared(service: str, tmp_path: Path) -> tuple[set[str], set[str]]:
    settings = Settings(analytics_data_dir=tmp_path / "analytics", ingest_secret="unused")
    app = create_app(service, settings)
    consumed = {topic for topics, _consumer in app.consumers for topic in topics}
    return consumed, set(app.publishers)


def table_rows(document: Path) -> dict[str, tuple[set[str], set[str]]]:
    """{service: (consumed, published)} from the `| service | consumes | publishes |` table."""
    lines = document.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| service | consumes"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        service, consumes, publishes = (cell.strip() for cell in line.split("|")[1:4])
        rows[service] = (set(TOPIC.findall(consumes)), set(TOPIC.findall(publishes)))
    return rows


@pytest.mark.parametrize("document", ["README.md", "docs/architecture.md"])
def test_the_services_table_says_what_each_composition_root_wires(document, tmp_path):
    rows = table_rows(ROOT / document)
    assert set(rows) == set(SERVICES), f"{document} lists other services"
    for service in SERVICES:
        assert rows[service] == declared(service, tmp_path), f"{document}: {service}"
