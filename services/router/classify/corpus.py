"""Labelled buyer messages: the built-in corpus (package data) and shops' own files.

One JSON object per line: {"text", "intent", "stage", "role", "lang"}; `stage` is an
order stage or null, `role` the contract's role for that intent and stage (no sticky
role), `lang` one of LANGS. A shop's training file needs only "text" and "intent"
("stage", or "order_stage" as `kefu route` reads it, is optional).

The built-in corpus was split once (random.Random(18), a quarter of each intent's new
messages) into `intent_train.jsonl` and the frozen `intent_test.jsonl`. Nothing is
tuned on the test split: new messages go to the train file.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from .lexicon import INTENTS
from .roles import ORDER_STAGES, decide_role

TRAIN_FILE = "data/intent_train.jsonl"
TEST_FILE = "data/intent_test.jsonl"
LANGS = ("zh-Hans", "zh-Hant", "zh-Latn", "en")


class Example(NamedTuple):
    """One labelled buyer message."""

    text: str
    intent: str
    stage: str | None = None
    lang: str | None = None

    @property
    def role(self) -> str:
        """The role the contract gives this intent at this stage (no sticky role)."""
        return decide_role(self.intent, self.stage)[0]


class CorpusError(ValueError):
    """A corpus line is not a labelled message; the message names file and line."""


def parse_example(obj: object, where: str, *, strict: bool) -> Example:
    """One corpus object as an Example; `strict` also requires the built-in fields."""
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    text, intent = obj.get("text"), obj.get("intent")
    stage = obj.get("stage", obj.get("order_stage"))
    if not isinstance(text, str):
        raise CorpusError(f"{where}: 'text' must be a string")
    if intent not in INTENTS:
        raise CorpusError(f"{where}: unknown intent {intent!r} (expected one of {INTENTS})")
    if stage is not None and stage not in ORDER_STAGES:
        raise CorpusError(f"{where}: unknown stage {stage!r} (expected one of {ORDER_STAGES})")
    example = Example(text, intent, stage, obj.get("lang"))
    if strict:
        if example.lang not in LANGS:
            raise CorpusError(f"{where}: 'lang' must be one of {LANGS}")
        if obj.get("role") != example.role:
            raise CorpusError(f"{where}: role {obj.get('role')!r} is not {example.role!r}")
    return example


def parse_corpus(text: str, source: str, *, strict: bool = False) -> list[Example]:
    """Every non-blank line of a JSON-lines corpus; CorpusError names the bad line."""
    examples = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise CorpusError(f"{source}:{n}: invalid JSON: {e}") from e
        examples.append(parse_example(obj, f"{source}:{n}", strict=strict))
    return examples


def read_corpus(path: str | Path) -> list[Example]:
    """A shop's (or any) corpus file; CorpusError if unreadable or malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(f"{path}: cannot read: {e}") from e
    return parse_corpus(text, str(path))


def builtin_corpus(name: str) -> list[Example]:
    """The shipped corpus `TRAIN_FILE` or `TEST_FILE`, checked strictly."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return parse_corpus(text, name, strict=True)
