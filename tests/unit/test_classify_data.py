"""The classifier's data files: the keyword lexicon's schema check, and the
traditional -> simplified table against zhconv's public conversion."""

from __future__ import annotations

import random

import pytest
import zhconv

from services.router.classify import classifier_for
from services.router.classify.corpus import TRAIN_FILE, builtin_corpus
from services.router.classify.lexicon import (
    INTENTS,
    LEXICON,
    LexiconError,
    check_lexicon,
)
from services.router.classify.t2s import T2S, to_simplified


def _valid() -> dict:
    return {"version": 1, "decisive": {"complaint": ["word"]},
            "intents": {i: {"zh": ["词"], "en": ["word"]} for i in INTENTS}}


def test_the_shipped_lexicon_loads_with_every_intent():
    assert set(INTENTS) <= set(LEXICON)
    assert sum(len(w) for scripts in LEXICON.values() for w in scripts.values()) > 1000
    assert "投诉" in LEXICON["complaint"]["zh"]


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(extra=1), "top level"),
        (lambda d: d["intents"].pop("complaint"), "missing intents ['complaint']"),
        (lambda d: d["intents"].update(chitchat={"zh": ["聊"]}), "intents.chitchat"),
        (lambda d: d["intents"]["greeting"].update(fr=["salut"]), "intents.greeting"),
        (lambda d: d["intents"]["bargaining"].update(zh="便宜"), "intents.bargaining.zh"),
        (lambda d: d["intents"]["bargaining"]["zh"].append(""), "intents.bargaining.zh[1]"),
        (lambda d: d["intents"]["bargaining"]["zh"].append(3), "intents.bargaining.zh[1]"),
        (lambda d: d["intents"]["complaint"]["en"].append("word"), "listed twice: ['word']"),
        (lambda d: d["decisive"].update(complaint=["投诉"]), "decisive.complaint: ['投诉']"),
        (lambda d: d["decisive"].update(chitchat=["word"]), "decisive.chitchat"),
    ],
)
def test_a_bad_lexicon_names_the_key(mutate, names):
    data = _valid()
    check_lexicon(data, "lexicon.yaml")
    mutate(data)
    with pytest.raises(LexiconError, match="lexicon.yaml: ") as err:
        check_lexicon(data, "lexicon.yaml")
    assert names in str(err.value)


def test_the_character_table_agrees_with_zhconv_per_character():
    for code in random.Random(7).sample(sorted(T2S), 500):
        assert T2S[code] == zhconv.convert(chr(code), "zh-hans")
    assert to_simplified("請問這件衣服什麼時候會寄出") == "请问这件衣服什么时候会寄出"
    assert to_simplified("already simple 已经简体") == "already simple 已经简体"


def test_the_character_table_gives_the_intents_of_zhconvs_phrase_conversion():
    hant = [e.text for e in builtin_corpus(TRAIN_FILE) if e.lang == "zh-Hant"]
    assert len(hant) >= 300
    clf = classifier_for(None)
    for text in hant:
        by_table = clf.intent(to_simplified(text))
        by_zhconv = clf.intent(zhconv.convert(text, "zh-hans"))
        assert by_table[0] == by_zhconv[0], text


def test_every_data_file_ships_in_the_wheel():
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["services.router.classify"]
    data = root / "services" / "router" / "classify" / "data"
    files = [p.relative_to(data.parent).as_posix() for p in data.iterdir()]
    assert {"data/intent_model.npz", "data/lexicon.yaml", "data/intent_test.jsonl"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []
