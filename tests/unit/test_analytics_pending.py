"""The memos a batch decided and has not saved yet (pure): the next batch reads them
instead of Redis, and each stays pending until the batch that last changed it saved."""

from __future__ import annotations

import orjson

from services.analytics.ingest.pending import PendingMemos
from services.analytics.rounds import ConversationMemo

ONE, TWO = ("s1", "conversation", "c1"), ("s1", "conversation", "c2")


def memo(event_id: str) -> ConversationMemo:
    conversation = ConversationMemo()
    conversation.seen.first_time(event_id)
    return conversation


def test_a_pending_memo_is_read_from_memory_and_only_the_others_are_loaded() -> None:
    pending = PendingMemos()
    decided = pending.keep({ONE: memo("e1")})
    assert decided.memos == {ONE: orjson.dumps(memo("e1").to_json())}
    to_load, found = pending.split([ONE, TWO])
    assert to_load == [TWO] and found == {ONE: memo("e1").to_json()}


def test_a_memo_changed_again_stays_pending_until_the_later_batch_saved_it() -> None:
    pending = PendingMemos()
    first = pending.keep({ONE: memo("e1"), TWO: memo("e2")})
    second = pending.keep({ONE: memo("e3")})
    pending.saved(first)
    assert list(pending) == [ONE], "the first batch's save is not the latest of c1"
    pending.saved(second)
    assert pending == {}
