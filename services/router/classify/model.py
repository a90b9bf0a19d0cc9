"""The learned intent model at run time: a linear model over `features`, loaded once
from a weights file (numpy .npz, no pickle) and scored in plain Python: a message has
a few dozen features, and summing their 9-float rows with zip/sum costs a fraction of
numpy's per-call overhead on arrays that small.

File layout (written by `train.py`): `features` (str[n]), `weights` (float32[n, 9],
one column per intent in INTENTS order, each row already multiplied by its feature's
idf), `idf` (float32[n], for the message's norm), `bias` (float32[9]), `meta` (a JSON
string: features_version, intents, the idf of a feature the model does not know, the
temperature of the model alone, the evidence vectors of `combine`, what it was
trained on). A file of another shape or version raises ModelError naming it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .features import FEATURES_VERSION
from .lexicon import INTENTS

BUILTIN_MODEL = "data/intent_model.npz"
_KEYS = {"features", "weights", "idf", "bias", "meta"}
_META = ("features_version", "intents", "idf_unseen", "temperature", "rule_found",
         "rule_confidence", "rule_negated", "no_rule", "stage")


class ModelError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, eq=False)
class IntentModel:
    """Intent scores of a message's features; thread-safe, build once per file."""

    rows: dict[str, tuple[float, ...]]  # feature -> its weight per intent, then idf**2
    bias: tuple[float, ...]
    meta: dict[str, Any]
    source: str
    unseen: float  # idf**2 of a feature the model does not know

    def scores(self, features: set[str]) -> list[float]:
        """One raw score per intent (INTENTS order); higher is likelier."""
        found = [r for r in map(self.rows.get, features) if r is not None]
        if not found:
            return list(self.bias)
        *columns, squares = zip(*found, strict=True)
        scale = 1.0 / math.sqrt(sum(squares) + (len(features) - len(found)) * self.unseen)
        return [b + sum(col) * scale for b, col in zip(self.bias, columns, strict=True)]


def probabilities(scores: Sequence[float], temperature: float) -> list[float]:
    """Softmax of `scores` scaled by the calibrated temperature."""
    top = max(scores)
    e = [math.exp((x - top) * temperature) for x in scores]
    total = sum(e)
    return [x / total for x in e]


def _check(arrays: dict[str, np.ndarray], source: str) -> IntentModel:
    def fail(problem: str) -> ModelError:
        return ModelError(f"{source}: {problem}")

    if "meta" not in arrays:
        raise fail(f"expected arrays {sorted(_KEYS)}, got {sorted(arrays)}")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as e:
        raise fail(f"meta is not JSON: {e}") from e
    if not isinstance(meta, dict) or meta.get("features_version") != FEATURES_VERSION:
        version = meta.get("features_version") if isinstance(meta, dict) else None
        raise fail(f"features version {version} (this kefu reads "
                   f"{FEATURES_VERSION}): retrain with `kefu route --train`")
    if set(arrays) != _KEYS:  # after the version: an older file names its version
        raise fail(f"expected arrays {sorted(_KEYS)}, got {sorted(arrays)}")
    missing = [k for k in _META if k not in meta]
    if missing:
        raise fail(f"meta lacks {missing}")
    if list(meta["intents"]) != list(INTENTS):
        raise fail(f"intents {meta['intents']} are not {list(INTENTS)}")
    features, weights, bias = arrays["features"], arrays["weights"], arrays["bias"]
    idf = arrays["idf"]
    n = len(features)
    if (weights.shape != (n, len(INTENTS)) or bias.shape != (len(INTENTS),)
            or idf.shape != (n,)):
        raise fail(f"weights {weights.shape} / idf {idf.shape} / bias {bias.shape} "
                   f"do not fit {n} features")
    unseen = meta["idf_unseen"]
    if not (np.isfinite(weights).all() and np.isfinite(bias).all()
            and (idf > 0).all() and isinstance(unseen, (int, float))
            and math.isfinite(unseen) and unseen > 0):
        raise fail("weights are not all finite (or an idf not positive)")
    squares = idf.astype(np.float64) ** 2
    rows = np.column_stack([weights.astype(np.float64), squares])
    rows = dict(zip(features.tolist(), map(tuple, rows.tolist()), strict=True))
    return IntentModel(rows, tuple(bias.astype(np.float64).tolist()), meta, source,
                       unseen * unseen)


def load_model(path: str | Path) -> IntentModel:
    """A weights file written by `kefu route --train`; ModelError if unusable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as e:
        raise ModelError(f"{path}: cannot read model: {e}") from e
    return _check(arrays, str(path))


@lru_cache(maxsize=1)
def builtin_model() -> IntentModel:
    """The model trained on the built-in corpus, shipped as package data (loaded once)."""
    with resources.as_file(resources.files(__package__).joinpath(BUILTIN_MODEL)) as path:
        return load_model(path)


@lru_cache(maxsize=64)
def cached_model(path: str) -> IntentModel:
    """`load_model` once per path, for shops whose policy names their own model."""
    return load_model(path)
