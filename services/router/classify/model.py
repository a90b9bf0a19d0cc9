"""The learned intent model at run time: a linear model over `features`, loaded once
from a weights file (numpy .npz, no pickle) and scored with numpy alone.

File layout (written by `train.py`): `features` (str[n]), `weights` (float32[n, 9],
one column per intent in INTENTS order), `bias` (float32[9]), `meta` (a JSON string:
features_version, intents, temperature and the rule weights of `combine`, what it
was trained on). A file of another shape or version raises ModelError naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .features import FEATURES_VERSION
from .lexicon import INTENTS

BUILTIN_MODEL = "data/intent_model.npz"
_KEYS = {"features", "weights", "bias", "meta"}
_META = ("features_version", "intents", "temperature", "combined_temperature", "rule_weight",
         "negated_weight", "actionable_margin")


class ModelError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, eq=False)
class IntentModel:
    """Intent scores of a message's features; thread-safe, build once per file."""

    index: dict[str, int]
    weights: np.ndarray
    bias: np.ndarray
    meta: dict[str, Any]
    source: str

    def scores(self, features: set[str]) -> np.ndarray:
        """One raw score per intent (INTENTS order); higher is likelier."""
        get = self.index.get
        rows = [i for i in map(get, features) if i is not None]
        if not rows:
            return self.bias
        return self.weights[rows].sum(axis=0) * (1.0 / math.sqrt(len(features))) + self.bias


def probabilities(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of `scores` scaled by the calibrated temperature."""
    z = np.asarray(scores, dtype=np.float64) * temperature
    z = np.exp(z - z.max())
    return z / z.sum()


def _check(arrays: dict[str, np.ndarray], source: str) -> IntentModel:
    def fail(problem: str) -> ModelError:
        return ModelError(f"{source}: {problem}")

    if set(arrays) != _KEYS:
        raise fail(f"expected arrays {sorted(_KEYS)}, got {sorted(arrays)}")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as e:
        raise fail(f"meta is not JSON: {e}") from e
    missing = [k for k in _META if k not in meta]
    if missing:
        raise fail(f"meta lacks {missing}")
    if meta["features_version"] != FEATURES_VERSION:
        raise fail(f"features version {meta['features_version']} (this kefu reads "
                   f"{FEATURES_VERSION}): retrain with `kefu route --train`")
    if list(meta["intents"]) != list(INTENTS):
        raise fail(f"intents {meta['intents']} are not {list(INTENTS)}")
    features, weights, bias = arrays["features"], arrays["weights"], arrays["bias"]
    n = len(features)
    if weights.shape != (n, len(INTENTS)) or bias.shape != (len(INTENTS),):
        raise fail(f"weights {weights.shape} / bias {bias.shape} do not fit {n} features")
    if not (np.isfinite(weights).all() and np.isfinite(bias).all()):
        raise fail("weights are not all finite")
    index = {str(f): i for i, f in enumerate(features.tolist())}
    return IntentModel(index, weights.astype(np.float64), bias.astype(np.float64), meta, source)


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
