"""Training the intent model (needs scikit-learn: `pip install 'kefu[train]'`).

Deterministic: the same examples in the same order give the same weights file. A
linear SVM (liblinear) learns from `features`; five-fold out-of-fold scores of the
training examples then fit, without touching any test data, the temperature that
calibrates confidence and the weights `combine` gives the rules' evidence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .classifier import Classifier
from .combine import RuleVerdict, combined_scores, model_choice
from .corpus import Example
from .features import FEATURES_VERSION, STAGE_TOKENS, message_features, stage_token
from .lexicon import INTENTS
from .normalise import normalise

C = 1.0
FOLDS = 5
MIN_EXAMPLES = 2  # a feature seen in fewer training messages is left out (file size)
_TEMPERATURES = np.geomspace(0.05, 50, 121)
_RULE_WEIGHTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5)
_MARGINS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)


class TrainingUnavailable(RuntimeError):
    """scikit-learn is not installed."""


def _sklearn():
    """(LinearSVC, StratifiedKFold, csr_matrix), or TrainingUnavailable."""
    try:
        from scipy.sparse import csr_matrix  # installed with scikit-learn
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC
    except ImportError as e:
        raise TrainingUnavailable(
            "training needs scikit-learn: pip install 'kefu[train]'") from e
    return LinearSVC, StratifiedKFold, csr_matrix


def _matrix(feats: list[set[str]], index: dict[str, int]):
    csr_matrix = _sklearn()[2]
    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        scale = 1.0 / math.sqrt(len(fs) or 1)  # as IntentModel.scores: all features count
        for f in fs:
            if f in index:
                rows.append(r)
                cols.append(index[f])
                vals.append(scale)
    return csr_matrix((vals, (rows, cols)), shape=(len(feats), len(index)))


def _without_stage(feats: list[set[str]], y: np.ndarray):
    """The examples plus a copy of each one with a known stage, without it: the model
    must also read a message whose order it does not know."""
    staged = [i for i, fs in enumerate(feats) if not fs.isdisjoint(STAGE_TOKENS)]
    copies = [feats[i] - STAGE_TOKENS for i in staged]
    return feats + copies, np.concatenate([y, y[staged]])


def _fit(feats: list[set[str]], y: np.ndarray):
    """(feature names, weights [n, 9], bias [9]) of one linear SVM."""
    LinearSVC = _sklearn()[0]
    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    names = sorted(f for f, n in counts.items() if n >= MIN_EXAMPLES)
    feats, y = _without_stage(feats, y)
    index = {f: i for i, f in enumerate(names)}
    svm = LinearSVC(C=C, random_state=0, max_iter=5000).fit(_matrix(feats, index), y)
    return names, svm.coef_.T.astype(np.float32), svm.intercept_.astype(np.float32)


def _scores(names, weights, bias, feats):
    index = {f: i for i, f in enumerate(names)}
    return _matrix(feats, index) @ weights.astype(np.float64) + bias


def _temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature of the softmax that best predicts y (least log loss)."""
    best, best_loss = 1.0, math.inf
    for t in _TEMPERATURES:
        z = scores * t
        z = z - z.max(axis=1, keepdims=True)
        loss = -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def _combination(scores: np.ndarray, verdicts: list[RuleVerdict], y: np.ndarray):
    """(rule_weight, negated_weight, actionable_margin) with the best out-of-fold
    accuracy (ties: the smaller values)."""
    best, best_acc = (0.0, 0.0, 0.0), -1.0
    for rw in _RULE_WEIGHTS:
        for nw in _RULE_WEIGHTS:
            combined = [combined_scores(s, v, rw, nw) for s, v in zip(scores, verdicts,
                                                                     strict=True)]
            for margin in _MARGINS:
                pred = [model_choice(s, v, margin) for s, v in zip(combined, verdicts,
                                                                  strict=True)]
                acc = float(np.mean(np.array(pred) == y))
                if acc > best_acc + 1e-9:
                    best, best_acc = (rw, nw, margin), acc
    return best, best_acc


def train(examples: Sequence[Example], rules: Classifier, source: str) -> dict:
    """Train on `examples`; returns the arrays of a weights file (see model.py).
    `rules` (a rules-only Classifier with the shop's keywords) gives the evidence that
    the combination weights are fitted on."""
    StratifiedKFold = _sklearn()[1]
    feats = [message_features(normalise(e.text), stage_token(e.stage)) for e in examples]
    y = np.array([INTENTS.index(e.intent) for e in examples])
    if len(set(y.tolist())) < len(INTENTS):
        missing = sorted(set(INTENTS) - {e.intent for e in examples})
        raise ValueError(f"every intent needs examples; none for {missing}")
    oof = np.zeros((len(y), len(INTENTS)))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    for fit_idx, held_idx in folds.split(np.zeros(len(y)), y):
        fold = _fit([feats[i] for i in fit_idx], y[fit_idx])
        oof[held_idx] = _scores(*fold, [feats[i] for i in held_idx])
    verdicts = [rules.rules_intent(e.text, stage=e.stage) for e in examples]
    (rule_weight, negated_weight, margin), combined_acc = _combination(oof, verdicts, y)
    combined = np.array([combined_scores(s, v, rule_weight, negated_weight)
                         for s, v in zip(oof, verdicts, strict=True)])
    names, weights, bias = _fit(feats, y)
    meta = {
        "features_version": FEATURES_VERSION,
        "intents": list(INTENTS),
        "temperature": _temperature(oof, y),
        "combined_temperature": _temperature(combined, y),
        "rule_weight": rule_weight,
        "negated_weight": negated_weight,
        "actionable_margin": margin,
        "trained_on": source,
        "examples": len(examples),
        "out_of_fold_accuracy": {
            "model": round(float(np.mean(oof.argmax(axis=1) == y)), 4),
            "combined": round(combined_acc, 4),
        },
    }
    return {"features": np.array(names), "weights": weights, "bias": bias,
            "meta": np.array(json.dumps(meta, ensure_ascii=False))}


def write_model(arrays: dict, path: str | Path) -> None:
    """Write a weights file (compressed .npz; a temporary file renamed into place)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
