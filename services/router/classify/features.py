"""What the learned model sees of a message: the same features at training and at run
time (pure Python, no scikit-learn).

- character 1- to 3-grams of the normalised text (traditional already simplified,
  full-width folded, typos fixed; one space at each end and between words), which
  carry Chinese words without a segmenter and English typos ("oder", "wher");
- English word unigrams and bigrams of `en_view` (stemmed, contractions expanded);
- one token for the order stage when it is known: before shipment, after it or
  cancelled. An unknown stage adds none: a buyer without a known order may still
  write about a broken parcel (train.py also learns every message without its stage).

Each feature counts once, weighted by its inverse document frequency in the training
messages (idf, log((1 + n) / (1 + df)) + 1: a gram every message has says little,
one that few messages share says more); the model scales the sum by the L2 norm of
those weights, where a feature the model does not know counts as seen in one message.
"""

from __future__ import annotations

from operator import add

from .normalise import ASCII_WORD, en_view

FEATURES_VERSION = 3
"""Bump when the features change: a model trained on other features refuses to load."""

_PRE_SHIPMENT = frozenset({"created", "paid"})
STAGE_TOKENS = frozenset({"§pre", "§post", "§cancelled"})
_BLANKS = frozenset({" ", "  "})


def stage_token(stage: str | None) -> str:
    """The stage feature: §pre, §post, §cancelled, or "" (unknown: no feature)."""
    if stage is None:
        return ""
    if stage in _PRE_SHIPMENT:
        return "§pre"
    return "§cancelled" if stage == "cancelled" else "§post"


def message_features(norm: str, stage_tok: str) -> set[str]:
    """Features of a message already passed through `normalise`."""
    s = " " + " ".join(norm.split()) + " "
    pairs = list(map(add, s, s[1:]))
    grams = set(s)
    grams.update(pairs)
    grams.update(map(add, pairs, s[2:]))
    grams -= _BLANKS
    if stage_tok:
        grams.add(stage_tok)
    if ASCII_WORD.search(norm):
        tokens = en_view(norm).split()
        grams.update("w:" + t for t in tokens)
        grams.update("b:" + a + "_" + b for a, b in zip(tokens, tokens[1:], strict=False))
    return grams
