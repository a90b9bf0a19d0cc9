"""Training the intent model (needs scikit-learn: `pip install 'kefu[train]'`).

Deterministic: the same examples in the same order give the same weights file. A
linear SVM (liblinear) learns from `features`; its five-fold out-of-fold scores of
the training examples, with the rules' verdicts, then fit a small logistic regression
that weighs model and rules (`combine`) and calibrates the confidence. No test data
is touched. The regression's score part is folded into the SVM's weights, so the
run-time cost is one linear model plus a few evidence vectors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .classifier import Classifier
from .combine import RuleVerdict, evidence
from .corpus import Example
from .features import FEATURES_VERSION, STAGE_TOKENS, message_features, stage_token
from .lexicon import INTENTS
from .normalise import normalise

C = 1.0
FOLDS = 5
MIN_EXAMPLES = 2  # a feature seen in fewer training messages is left out (file size)
_TEMPERATURES = np.geomspace(0.05, 50, 121)
STACK_C = 3.0


class TrainingUnavailable(RuntimeError):
    """scikit-learn is not installed."""


def _sklearn():
    """(LinearSVC, StratifiedKFold, csr_matrix, LogisticRegression), or
    TrainingUnavailable."""
    try:
        from scipy.sparse import csr_matrix  # installed with scikit-learn
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC
    except ImportError as e:
        raise TrainingUnavailable(
            "training needs scikit-learn: pip install 'kefu[train]'") from e
    return LinearSVC, StratifiedKFold, csr_matrix, LogisticRegression


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


def _stack_inputs(scores: np.ndarray, verdicts: list[RuleVerdict]) -> np.ndarray:
    """Rows of [model scores (9) | terms of combine.evidence (9 + 9 + 9 + 1)]."""
    offsets = {"rule_found": 9, "rule_confidence": 18, "rule_negated": 27, "no_rule": 36}
    x = np.zeros((len(scores), 37))
    x[:, :9] = scores
    for r, verdict in enumerate(verdicts):
        for key, row, value in evidence(verdict):
            x[r, offsets[key] + max(row, 0)] = value
    return x


def _stacker(scores: np.ndarray, verdicts: list[RuleVerdict], y: np.ndarray):
    """The logistic regression that reads model scores and rule evidence, fitted on
    out-of-fold scores; returns (its [37, 9] weights, its intercept [9])."""
    LogisticRegression = _sklearn()[3]
    lr = LogisticRegression(C=STACK_C, max_iter=5000).fit(_stack_inputs(scores, verdicts), y)
    return lr.coef_.T, lr.intercept_


def train(examples: Sequence[Example], rules: Classifier, source: str) -> dict:
    """Train on `examples`; returns the arrays of a weights file (see model.py).
    `rules` (a rules-only Classifier with the shop's keywords) gives the evidence that
    the stacked combination learns to weigh."""
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
    coef, intercept = _stacker(oof, verdicts, y)
    names, weights, bias = _fit(feats, y)
    # Fold the stacker's score part into the SVM: one linear map of the features.
    weights = (weights.astype(np.float64) @ coef[:9]).astype(np.float32)
    bias = (bias @ coef[:9] + intercept).astype(np.float32)
    stacked = oof @ coef[:9] + intercept
    meta = {
        "features_version": FEATURES_VERSION,
        "intents": list(INTENTS),
        "temperature": _temperature(stacked, y),
        "rule_found": coef[9:18].tolist(),
        "rule_confidence": coef[18:27].tolist(),
        "rule_negated": coef[27:36].tolist(),
        "no_rule": coef[36].tolist(),
        "trained_on": source,
        "examples": len(examples),
        "out_of_fold_accuracy": {
            "model": round(float(np.mean(oof.argmax(axis=1) == y)), 4),
            "combined (in-sample stacker)": round(float(np.mean(
                (_stack_inputs(oof, verdicts) @ coef + intercept).argmax(axis=1) == y)), 4),
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
