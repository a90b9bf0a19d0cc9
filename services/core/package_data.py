"""YAML files shipped inside a package (package data): the router's word lists, the
traffic catalogue. Read one way: as UTF-8, with the safe loader (libyaml's C one where
it is installed: these files are large), a file that is not YAML an error naming it."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(package: str, name: str, error: type[Exception]) -> Any:
    """The parsed file `name` of `package`; `error("<name>: invalid YAML: ...")` when it
    does not parse. Its shape is the caller's to check."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        raise error(f"{name}: invalid YAML: {e}") from e
