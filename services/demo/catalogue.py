"""The traffic catalogue (`catalogue.yaml`, package data): products, colours, sizes,
platforms, carriers, cities, buyer nicks and phrases, agent replies, reviews and the demo
shops' listings. One copy for every traffic generator: the demo feed here, and the soak
and the benchmark workloads under `benchmarks/`, which import it from this module.

`CATALOGUE` is loaded once, at import, and checked against the schema below: unknown or
missing keys, empty lists, duplicate codes, platforms the contract does not know and
template placeholders no generator fills all raise `CatalogueError`."""

from __future__ import annotations

import random
import string
from functools import cached_property
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.enums import LogisticsStatus, Platform
from services.core.package_data import read_yaml

CATALOGUE_FILE = "catalogue.yaml"
PLACEHOLDERS = frozenset({"p", "pe", "c", "s", "n", "o", "city"})
"""What `Catalogue.fill` puts into a template (see the file's header)."""

Texts = Annotated[tuple[str, ...], Field(min_length=1)]


class CatalogueError(ValueError):
    """The catalogue file does not match its schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Product(_Strict):
    zh: str = Field(min_length=1)
    en: str | None = Field(default=None, min_length=1)


class PlatformEntry(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    name: Platform
    order_prefix: str = Field(pattern=r"^[A-Z]{2,4}$")


class Carrier(_Strict):
    name: str = Field(min_length=1)
    code: str = Field(pattern=r"^[A-Z]{2,4}$")
    """The prefix of the carrier's tracking numbers."""


class Listing(_Strict):
    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    title: str = Field(min_length=1)
    price: float = Field(gt=0)


class Stages(_Strict):
    """Buyer phrases by the stage of the buyer's order (the file's comment says which)."""

    greeting: tuple[str, ...]
    presale: Texts
    order: Texts
    shipped: Texts
    aftersale: Texts
    angry: Texts
    ack: Texts

    @property
    def every(self) -> tuple[str, ...]:
        """Every phrase, stage after stage in the file's order."""
        return (self.greeting + self.presale + self.order + self.shipped + self.aftersale
                + self.angry + self.ack)


class ByLanguage(_Strict):
    zh: Texts
    en: Texts


class Phrases(_Strict):
    zh: Stages
    en: Stages


class Catalogue(_Strict):
    products: Annotated[tuple[Product, ...], Field(min_length=1)]
    colours: Texts
    sizes: Texts
    platforms: Annotated[tuple[PlatformEntry, ...], Field(min_length=1)]
    carriers: Annotated[tuple[Carrier, ...], Field(min_length=1)]
    cities: Texts
    scans: dict[LogisticsStatus, str]
    buyer_nicks: Texts
    buyer_phrases: Phrases
    buyer_phrases_traditional: Texts
    buyer_openers: ByLanguage
    buyer_closers: ByLanguage
    agent_replies: ByLanguage
    reviews: dict[Annotated[int, Field(ge=1, le=5)], str]
    listings: Annotated[tuple[Listing, ...], Field(min_length=1)]

    @field_validator("platforms", "carriers", "listings")
    @classmethod
    def _unique(cls, entries: tuple, info: ValidationInfo) -> tuple:
        key = {"platforms": "name", "carriers": "code", "listings": "sku"}[info.field_name]
        keys = [getattr(entry, key) for entry in entries]
        if repeated := sorted({str(k) for k in keys if keys.count(k) > 1}):
            raise ValueError(f"repeated {key}: {', '.join(repeated)}")
        return entries

    @field_validator("reviews")
    @classmethod
    def _every_rating(cls, reviews: dict[int, str]) -> dict[int, str]:
        if set(reviews) != {1, 2, 3, 4, 5}:
            raise ValueError("needs a text for each rating 1 to 5")
        return reviews

    # -- what the generators use ---------------------------------------------------------
    @cached_property
    def product_names(self) -> tuple[str, ...]:
        return tuple(product.zh for product in self.products)

    @cached_property
    def product_names_en(self) -> tuple[str, ...]:
        return tuple(product.en for product in self.products if product.en)

    def platform(self, name: str) -> PlatformEntry:
        return _only(self.platforms, "name", name)

    def carrier(self, code: str) -> Carrier:
        return _only(self.carriers, "code", code)

    def listing(self, sku: str) -> Listing:
        return _only(self.listings, "sku", sku)

    def fill(self, template: str, rng: random.Random, *, order_id: str,
             days: tuple[int, int] = (2, 30)) -> str:
        """`template` with its placeholders drawn from `rng`. Every value is drawn whatever
        the template uses, so the random stream does not depend on the template."""
        return template.format(
            p=rng.choice(self.product_names), pe=rng.choice(self.product_names_en),
            c=rng.choice(self.colours), s=rng.choice(self.sizes), n=rng.randint(*days),
            city=rng.choice(self.cities), o=order_id,
        )

    @model_validator(mode="after")
    def _known_placeholders(self) -> Catalogue:
        for where, template in self._templates():
            for _, name, _, _ in string.Formatter().parse(template):
                if name is not None and name not in PLACEHOLDERS:
                    raise ValueError(f"{where}: unknown placeholder {{{name}}} in {template!r}")
        if not self.product_names_en:
            raise ValueError("products: no product has an English name")
        return self

    def _templates(self):
        for language in ("zh", "en"):
            stages = getattr(self.buyer_phrases, language)
            yield from ((f"buyer_phrases.{language}", t) for t in stages.every)
            yield from ((f"buyer_openers.{language}", t)
                        for t in getattr(self.buyer_openers, language))
            yield from ((f"buyer_closers.{language}", t)
                        for t in getattr(self.buyer_closers, language))
        yield from (("buyer_phrases_traditional", t) for t in self.buyer_phrases_traditional)


def _only(entries: tuple, key: str, value: str):
    for entry in entries:
        if getattr(entry, key) == value:
            return entry
    raise KeyError(f"{CATALOGUE_FILE} has no entry with {key} {value!r}")


def check_catalogue(data: object, source: str = CATALOGUE_FILE) -> Catalogue:
    """`data` (the parsed YAML) as a checked `Catalogue`; CatalogueError names what is wrong."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(top)'}: {err['msg']}"
                             for err in e.errors())
        raise CatalogueError(f"{source}: {problems}") from None


def load_catalogue() -> Catalogue:
    """The catalogue shipped with the package (checked; CatalogueError if bad)."""
    return check_catalogue(read_yaml(__package__, CATALOGUE_FILE, CatalogueError))


CATALOGUE = load_catalogue()
