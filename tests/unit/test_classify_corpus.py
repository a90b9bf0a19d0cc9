"""The built-in labelled corpus: its shape, and the frozen split."""

from __future__ import annotations

from collections import Counter

import pytest

from services.router.classify import INTENTS
from services.router.classify.corpus import (
    TEST_FILE,
    TRAIN_FILE,
    CorpusError,
    builtin_corpus,
    parse_corpus,
)
from services.router.classify.normalise import normalise
from services.router.classify.roles import ORDER_STAGES


def test_the_corpus_covers_every_intent_stage_and_script():
    train, test = builtin_corpus(TRAIN_FILE), builtin_corpus(TEST_FILE)
    assert len(train) + len(test) >= 4000 and len(test) >= 800
    for split in (train, test):
        per_intent = Counter(e.intent for e in split)
        assert set(per_intent) == set(INTENTS)
        assert min(per_intent.values()) >= 60, per_intent
        langs = Counter(e.lang for e in split)
        assert langs["zh-Hant"] >= 80 and langs["en"] >= 200, langs
    stages = Counter(e.stage for e in train + test)
    assert set(stages) >= {None, *ORDER_STAGES} - {"cancelled"}, stages


def test_no_test_message_is_in_train():
    train = {normalise(e.text) for e in builtin_corpus(TRAIN_FILE)}
    assert not [e.text for e in builtin_corpus(TEST_FILE) if normalise(e.text) in train]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"text": "hi"}', "unknown intent None"),
        ('{"text": 3, "intent": "greeting"}', "'text' must be a string"),
        ('{"text": "hi", "intent": "greeting", "stage": "lost"}', "unknown stage 'lost'"),
        ("[1]", "expected a JSON object"),
        ("{oops", "invalid JSON"),
    ],
)
def test_a_bad_line_is_named(line, problem):
    with pytest.raises(CorpusError, match="shop.jsonl:2: ") as err:
        parse_corpus('{"text": "在吗", "intent": "greeting"}\n' + line, "shop.jsonl")
    assert problem in str(err.value)


def test_builtin_lines_must_carry_role_and_language():
    line = '{"text": "我要投诉", "intent": "complaint", "stage": null, "lang": "zh-Hans"}'
    with pytest.raises(CorpusError, match="role None is not 'aftersale'"):
        parse_corpus(line, "x", strict=True)
    assert parse_corpus(line, "x")[0].role == "aftersale"
