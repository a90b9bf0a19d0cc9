"""Built-in keywords per intent and script, loaded from `data/lexicon.yaml`.

The words are data (the file's header explains their syntax); this module only reads
them once and checks their shape, so that a bad edit stops the router at start-up with
the key that is wrong instead of silently dropping words.
"""

from __future__ import annotations

from typing import Any

from contracts.enums import Intent
from services.core.package_data import read_yaml

INTENTS: tuple[str, ...] = tuple(intent.value for intent in Intent)
"""The nine intents in actionability order: a later one wins over an earlier one."""

RANK: dict[str, int] = {name: i for i, name in enumerate(INTENTS)}
PSEUDO_INTENTS = ("_neutral", "_mismatch", "_exchange")
SCRIPTS = ("zh", "en")
LEXICON_FILE = "data/lexicon.yaml"

Lexicon = dict[str, dict[str, tuple[str, ...]]]
"""intent -> {"zh": words, "en": words}."""


Decisive = dict[str, frozenset[str]]
"""intent -> words that decide it over the learned model (unless negated)."""


class LexiconError(ValueError):
    """The lexicon file does not have the expected shape; the message names the key."""


def _fail(source: str, where: str, problem: str) -> LexiconError:
    return LexiconError(f"{source}: {where}: {problem}")


def check_lexicon(data: Any, source: str) -> tuple[Lexicon, Decisive]:
    """The lexicon and decisive words of a parsed file, or LexiconError naming the
    first bad key.

    Shape: {version: 1, intents: {<intent or pseudo-intent>: {zh: [word], en: [word]}},
    decisive: {<intent>: [word listed under that intent]}}; every one of the nine
    intents present, words non-empty strings without repeats.
    """
    def fail(where: str, problem: str) -> LexiconError:
        return _fail(source, where, problem)

    if not isinstance(data, dict) or set(data) != {"version", "intents", "decisive"}:
        raise fail("top level", "expected exactly the keys 'version', 'decisive', 'intents'")
    if data["version"] != 1:
        raise fail("version", f"unsupported version {data['version']!r} (expected 1)")
    intents = data["intents"]
    if not isinstance(intents, dict):
        raise fail("intents", "expected a mapping of intent -> scripts")
    missing = [i for i in INTENTS if i not in intents]
    if missing:
        raise fail("intents", f"missing intents {missing}")
    lexicon: Lexicon = {}
    for intent, scripts in intents.items():
        where = f"intents.{intent}"
        if intent not in RANK and intent not in PSEUDO_INTENTS:
            raise fail(where, f"unknown intent (expected one of {INTENTS + PSEUDO_INTENTS})")
        if not isinstance(scripts, dict) or not set(scripts) <= set(SCRIPTS):
            raise fail(where, f"expected a mapping with keys among {SCRIPTS}")
        lexicon[intent] = {}
        for script, words in scripts.items():
            if not isinstance(words, list):
                raise fail(f"{where}.{script}", "expected a list of words")
            for n, word in enumerate(words):
                if not isinstance(word, str) or not word.strip():
                    raise fail(f"{where}.{script}[{n}]", f"expected a word, got {word!r}")
            if len(set(words)) != len(words):
                twice = sorted({w for w in words if words.count(w) > 1})
                raise fail(f"{where}.{script}", f"words listed twice: {twice}")
            lexicon[intent][script] = tuple(words)
    return lexicon, _check_decisive(data["decisive"], lexicon, source)


def _check_decisive(data: Any, lexicon: Lexicon, source: str) -> Decisive:
    if not isinstance(data, dict):
        raise _fail(source, "decisive", "expected a mapping of intent -> words")
    decisive = {}
    for intent, words in data.items():
        where = f"decisive.{intent}"
        if intent not in RANK:
            raise _fail(source, where, f"unknown intent (expected one of {INTENTS})")
        listed = {w for script in lexicon[intent].values() for w in script}
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise _fail(source, where, "expected a list of words")
        unlisted = [w for w in words if w not in listed]
        if unlisted:
            raise _fail(source, where, f"{unlisted} are not words of intents.{intent}")
        decisive[intent] = frozenset(words)
    return decisive


def load_lexicon() -> tuple[Lexicon, Decisive]:
    """The built-in lexicon shipped with the package (checked; LexiconError if bad)."""
    return check_lexicon(read_yaml(__package__, LEXICON_FILE, LexiconError), LEXICON_FILE)


LEXICON, DECISIVE = load_lexicon()
