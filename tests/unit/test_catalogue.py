"""The traffic catalogue (services/demo/catalogue.yaml): shipped as package data, checked at
load, and the one copy the demo, the soak and the benchmark workloads draw from."""

from __future__ import annotations

import copy
import random
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import yaml

from contracts import Platform
from services.demo.catalogue import CATALOGUE, CatalogueError, check_catalogue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data() -> dict:
    text = resources.files("services.demo").joinpath("catalogue.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def test_the_catalogue_is_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["services.demo"]
    assert "catalogue.yaml" in globs
    assert resources.files("services.demo").joinpath("catalogue.yaml").is_file()


def test_the_shipped_catalogue_is_what_the_generators_need():
    assert len(CATALOGUE.product_names) > len(CATALOGUE.product_names_en) > 0
    assert {p.name for p in CATALOGUE.platforms} <= set(Platform)
    assert CATALOGUE.platform("jd").order_prefix == "JD"
    assert CATALOGUE.carrier("SF").name == "顺丰速运"
    assert CATALOGUE.listing("sweater-gray-M").price == 289.0
    assert set(CATALOGUE.reviews) == {1, 2, 3, 4, 5}
    zh, en = CATALOGUE.buyer_phrases.zh, CATALOGUE.buyer_phrases.en
    assert zh.greeting and not en.greeting  # English first messages come from presale
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in CATALOGUE.agent_replies.zh)
    assert all(text.isascii() for text in en.every + CATALOGUE.agent_replies.en)
    with pytest.raises(KeyError, match="no-such-sku"):
        CATALOGUE.listing("no-such-sku")


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d.pop("cities"), "cities: Field required"),
    (lambda d: d.update(colours=[]), "colours"),
    (lambda d: d.update(surprise=1), "surprise"),
    (lambda d: d["platforms"].append({"name": "ebay", "order_prefix": "EB"}), "platforms.5.name"),
    (lambda d: d["carriers"].append({"name": "另一家", "code": "ZT"}), "repeated code: ZT"),
    (lambda d: d["listings"].append(dict(d["listings"][0])), "repeated sku: sweater-gray-M"),
    (lambda d: d["buyer_phrases"]["zh"]["ack"].append("{price}块"), "unknown placeholder {price}"),
    (lambda d: d["buyer_closers"]["en"].append(" {x}"), "buyer_closers.en"),
    (lambda d: d["reviews"].pop(3), "each rating 1 to 5"),
    (lambda d: d["scans"].update(teleported="!"), "scans"),
    (lambda d: d["listings"][0].update(price=0), "listings.0.price"),
])
def test_a_bad_catalogue_is_refused_at_load_naming_the_place(data, mutate, needle):
    broken = copy.deepcopy(data)
    mutate(broken)
    with pytest.raises(CatalogueError, match=re.escape(needle)):
        check_catalogue(broken)


def test_fill_is_seeded_and_draws_the_same_whatever_the_template():
    def draw(template: str) -> tuple[str, float]:
        rng = random.Random(5)
        return CATALOGUE.fill(template, rng, order_id="TB-1", days=(2, 9)), rng.random()

    text, after = draw("{p}{c}{s}码 {n}天 {city} {o} {pe}")
    assert draw("{p}{c}{s}码 {n}天 {city} {o} {pe}") == (text, after)
    assert "TB-1" in text and "{" not in text
    assert draw("在吗")[1] == after  # the stream does not depend on the placeholders used


def test_the_generators_keep_no_copy_of_the_catalogue():
    """Product, colour and carrier names live in the catalogue file only (a scripted demo
    story may still name the city its parcel passes through)."""
    generators = [ROOT / "services" / "demo", ROOT / "benchmarks" / "soak",
                  ROOT / "benchmarks" / "router_workload.py",
                  ROOT / "benchmarks" / "roles_workload.py"]
    names = ([*CATALOGUE.product_names[:3], *CATALOGUE.colours[3:], CATALOGUE.sizes[-1]]
             + [c.name for c in CATALOGUE.carriers])
    sources = [p for g in generators for p in ([g] if g.is_file() else sorted(g.rglob("*.py")))]
    copies = [(str(p.relative_to(ROOT)), name) for p in sources
              for name in names if f'"{name}"' in p.read_text("utf-8")]
    assert copies == []
