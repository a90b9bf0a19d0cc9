"""Load, merge and validate the operator policy file (docs/contract.md, "The policy file").

Layers, each deep-merged onto the previous one (mappings merge key by key, lists and
scalars replace): built-in ``defaults.yaml`` <- the file's ``shops.default`` <- the file's
``shops.<shop_id>``. Every shop is validated at load time; any error raises
``PolicyError`` and nothing is applied.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.core.policy.errors import PolicyError, describe
from services.core.policy.model import ShopPolicy

BUILTIN_SOURCE = "<built-in defaults>"


@dataclass(frozen=True)
class Policy:
    """All shops' validated policies; ``for_shop`` falls back to ``default``."""

    default: ShopPolicy
    shops: Mapping[str, ShopPolicy]
    source: str

    def for_shop(self, shop_id: str) -> ShopPolicy:
        """The shop's policy (built once at load time), or the default for unknown shops."""
        return self.shops.get(shop_id, self.default)


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate mapping keys instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable: SafeLoader reports it below
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: mappings recursively, anything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@lru_cache(maxsize=1)
def _builtin_default() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("defaults.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_Loader)["shops"]["default"]


def _validate(raw: dict[str, Any], prefix: str, source: str) -> tuple[ShopPolicy | None, list]:
    try:
        return ShopPolicy.model_validate(raw), []
    except ValidationError as exc:
        return None, [f"{source}: {describe(err, prefix)}" for err in exc.errors()]


def _mapping(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError([f"{source}: {where}: expected a mapping, got {type(value).__name__}"])
    return value


def parse_policy(data: Any, source: str = "<policy>") -> Policy:
    """Validate an already-parsed policy document (``{"shops": {...}}``) against the rules."""
    if not isinstance(data, Mapping):
        got = type(data).__name__
        raise PolicyError([f"{source}: expected a mapping with a 'shops' key, got {got}"])
    for key in data:
        if key != "shops":
            raise PolicyError([f"{source}: {key}: unknown key (expected 'shops')"])
    shops = _mapping(data.get("shops", {}), "shops", source)
    default_raw = deep_merge(
        _builtin_default(), _mapping(shops.get("default", {}), "shops.default", source)
    )
    default, errors = _validate(default_raw, "shops.default", source)
    if default is None:
        raise PolicyError(errors)
    policies: dict[str, ShopPolicy] = {}
    for shop_id, override in shops.items():
        if shop_id == "default":
            continue
        if not isinstance(shop_id, str) or not 1 <= len(shop_id) <= 64:
            errors.append(f"{source}: shops.{shop_id}: shop id must be a string of 1..64 chars")
            continue
        if not isinstance(override, Mapping):
            got = type(override).__name__
            errors.append(f"{source}: shops.{shop_id}: expected a mapping, got {got}")
            continue
        shop, shop_errors = _validate(deep_merge(default_raw, override), f"shops.{shop_id}", source)
        errors += shop_errors
        if shop is not None:
            policies[shop_id] = shop
    if errors:
        raise PolicyError(errors)
    return Policy(default=default, shops=policies, source=source)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate the policy file at ``path``; ``None`` means built-in defaults only."""
    if path is None:
        return parse_policy({}, BUILTIN_SOURCE)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{source}: cannot read policy file: {exc}"]) from exc
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = "; ".join(filter(None, [exc.context, exc.problem]))
        raise PolicyError([f"{source}: {where}invalid YAML: {problem}"]) from exc
    except yaml.YAMLError as exc:
        raise PolicyError([f"{source}: invalid YAML: {exc}"]) from exc
    return parse_policy(data, source)
