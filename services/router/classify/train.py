"""Training the intent model (needs scikit-learn: `pip install -e '.[train]'` in
the checkout).

Deterministic: the same examples in the same order give the same weights file. A
linear SVM (liblinear) learns from `features`; its five-fold out-of-fold scores of
the training examples, with the rules' verdicts and the order stage, then fit a small
logistic regression that weighs model, rules and stage (`combine`) and calibrates the
confidence. No test data is touched. The regression's score part is folded into the
SVM's weights, and so is each feature's idf (features.py; the idf of the training
messages, kept in the file for the message's norm), so the run-time cost is one
linear model plus a few evidence vectors.

Every example with a known stage is also learned without it (`_unstaged`): a buyer
without a known order still writes about a broken parcel. The copies weigh fully in
the SVM and STACK_COPY_WEIGHT in the regression, so its stage prior stays mostly that
of real messages. These settings, C and the features were chosen by five-fold
cross-validation of the whole training (stacking included) on the training split.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .classifier import Classifier
from .combine import STAGES, RuleVerdict, evidence
from .corpus import Example
from .features import FEATURES_VERSION, message_features, stage_token
from .lexicon import INTENTS
from .normalise import normalise

C = 1.0
FOLDS = 5
MIN_EXAMPLES = 2  # a feature seen in fewer training messages is left out (file size)
_TEMPERATURES = np.geomspace(0.05, 50, 121)
STACK_C = 3.0
SVM_COPY_WEIGHT = 1.0
STACK_COPY_WEIGHT = 0.3


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
            "training needs scikit-learn: pip install -e '.[train]' in kefu's checkout") from e
    return LinearSVC, StratifiedKFold, csr_matrix, LogisticRegression


def _idf(messages: int, df: int) -> float:
    """The idf of a feature seen in `df` of `messages` messages; a feature the model
    leaves out counts as seen in one."""
    return math.log((1 + messages) / (1 + df)) + 1


def _matrix(feats: list[set[str]], index: dict[str, int], idf: np.ndarray, unseen: float):
    """Rows of idf-weighted features, each of unit norm as IntentModel.scores scales
    them: every feature counts in the norm, one left out of `index` as `unseen`."""
    csr_matrix = _sklearn()[2]
    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        known = sorted(index[f] for f in fs if f in index)  # a set's order varies by run
        norm = float(np.sum(idf[known] ** 2)) + (len(fs) - len(known)) * unseen * unseen
        scale = 1.0 / math.sqrt(norm or 1)
        rows += [r] * len(known)
        cols += known
        vals += (idf[known] * scale).tolist()
    return csr_matrix((vals, (rows, cols)), shape=(len(feats), len(index)))


def _unstaged(examples: Sequence[Example], rules: Classifier) -> tuple[list[Example], np.ndarray]:
    """A copy without its stage of each example with one, and the index of its
    original: the model must also read a message whose order it does not know. Not
    copied: a message the keywords read otherwise without its stage ("能换成红色的吗"
    is an order change before shipment, a return once shipped or unknown: lexicon.yaml
    `_exchange`), whose label would change with it."""
    origin = [i for i, e in enumerate(examples) if e.stage is not None
              and rules.rules_intent(e.text, stage=None).intent
              == rules.rules_intent(e.text, stage=e.stage).intent]
    return [examples[i]._replace(stage=None) for i in origin], np.array(origin, dtype=int)


def _fit(feats: list[set[str]], y: np.ndarray, weight: np.ndarray, originals: int):
    """(feature names, weights [n, 9], bias [9], idf [n], unseen idf) of one linear
    SVM. The vocabulary and the idf are those of the first `originals` rows (the rest
    are their copies without a stage)."""
    LinearSVC = _sklearn()[0]
    counts: dict[str, int] = {}
    for fs in feats[:originals]:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    names = sorted(f for f, n in counts.items() if n >= MIN_EXAMPLES)
    index = {f: i for i, f in enumerate(names)}
    idf, unseen = np.array([_idf(originals, counts[f]) for f in names]), _idf(originals, 1)
    svm = LinearSVC(C=C, random_state=0, max_iter=5000).fit(
        _matrix(feats, index, idf, unseen), y, sample_weight=weight)
    return (names, svm.coef_.T.astype(np.float32), svm.intercept_.astype(np.float32), idf,
            unseen)


def _scores(names, weights, bias, idf, unseen, feats):
    index = {f: i for i, f in enumerate(names)}
    return _matrix(feats, index, idf, unseen) @ weights.astype(np.float64) + bias


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


_OFFSETS = {"rule_found": 9, "rule_confidence": 18, "rule_negated": 27, "no_rule": 36,
            "stage": 37}
_STACK_WIDTH = 37 + len(STAGES)


def _stack_inputs(scores: np.ndarray, verdicts: list[RuleVerdict],
                  stages: list[str]) -> np.ndarray:
    """Rows of [model scores (9) | terms of combine.evidence (9 + 9 + 9 + 1 + 4)]."""
    x = np.zeros((len(scores), _STACK_WIDTH))
    x[:, :9] = scores
    for r, (verdict, stage_tok) in enumerate(zip(verdicts, stages, strict=True)):
        for key, row, value in evidence(verdict, stage_tok):
            x[r, _OFFSETS[key] + max(row, 0)] = value
    return x


def _stacker(inputs: np.ndarray, y: np.ndarray, weight: np.ndarray):
    """The logistic regression that reads model scores, rule evidence and the stage,
    fitted on out-of-fold scores; returns (its [41, 9] weights, its intercept [9])."""
    LogisticRegression = _sklearn()[3]
    lr = LogisticRegression(C=STACK_C, max_iter=5000).fit(inputs, y, sample_weight=weight)
    return lr.coef_.T, lr.intercept_


def train(examples: Sequence[Example], rules: Classifier, source: str) -> dict:
    """Train on `examples`; returns the arrays of a weights file (see model.py).
    `rules` (a rules-only Classifier with the shop's keywords) gives the evidence that
    the stacked combination learns to weigh."""
    StratifiedKFold = _sklearn()[1]
    n = len(examples)
    copies, origin = _unstaged(examples, rules)
    every = [*examples, *copies]
    feats = [message_features(normalise(e.text), stage_token(e.stage)) for e in every]
    y = np.array([INTENTS.index(e.intent) for e in every])
    if len(set(y.tolist())) < len(INTENTS):
        missing = sorted(set(INTENTS) - {e.intent for e in examples})
        raise ValueError(f"every intent needs examples; none for {missing}")
    svm_weight = np.r_[np.ones(n), np.full(len(copies), SVM_COPY_WEIGHT)]
    oof = np.zeros((len(y), len(INTENTS)))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    for fit_idx, held_idx in folds.split(np.zeros(n), y[:n]):
        # a copy goes where its original goes: no message is scored by a model that saw it
        fit_idx = np.r_[fit_idx, n + np.flatnonzero(np.isin(origin, fit_idx))]
        held_idx = np.r_[held_idx, n + np.flatnonzero(np.isin(origin, held_idx))]
        fold = _fit([feats[i] for i in fit_idx], y[fit_idx], svm_weight[fit_idx],
                    int((fit_idx < n).sum()))
        oof[held_idx] = _scores(*fold, [feats[i] for i in held_idx])
    verdicts = [rules.rules_intent(e.text, stage=e.stage) for e in every]
    inputs = _stack_inputs(oof, verdicts, [stage_token(e.stage) for e in every])
    coef, intercept = _stacker(inputs, y, np.r_[np.ones(n), np.full(len(copies),
                                                                    STACK_COPY_WEIGHT)])
    names, weights, bias, idf, unseen = _fit(feats, y, svm_weight, n)
    # Fold the stacker's score part and the idf into the SVM: one linear map of the
    # features (the idf stays in the file for the message's norm).
    weights = (weights.astype(np.float64) @ coef[:9] * idf[:, None]).astype(np.float32)
    bias = (bias @ coef[:9] + intercept).astype(np.float32)
    oof, inputs, y = oof[:n], inputs[:n], y[:n]  # the figures: the real messages only
    stacked = oof @ coef[:9] + intercept + inputs[:, 37:] @ coef[37:]  # with the stage prior
    meta = {
        "features_version": FEATURES_VERSION,
        "intents": list(INTENTS),
        "idf_unseen": unseen,
        "temperature": _temperature(stacked, y),
        "rule_found": coef[9:18].tolist(),
        "rule_confidence": coef[18:27].tolist(),
        "rule_negated": coef[27:36].tolist(),
        "no_rule": coef[36].tolist(),
        "stage": coef[37:].tolist(),
        "trained_on": source,
        "examples": len(examples),
        "out_of_fold_accuracy": {
            "model": round(float(np.mean(oof.argmax(axis=1) == y)), 4),
            "combined (in-sample stacker)": round(float(np.mean(
                (inputs @ coef + intercept).argmax(axis=1) == y)), 4),
        },
    }
    return {"features": np.array(names), "weights": weights, "bias": bias,
            "idf": idf.astype(np.float32), "meta": np.array(json.dumps(meta, ensure_ascii=False))}


def write_model(arrays: dict, path: str | Path) -> None:
    """Write a weights file (compressed .npz; a temporary file renamed into place), and
    the folder it goes in if that does not exist yet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
