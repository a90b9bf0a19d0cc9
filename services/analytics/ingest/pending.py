"""Memos a batch decided that are not saved yet (pure). Ingestion is pipelined: the next
batch is decided while its predecessor's memos are still on their way to Redis, so it
reads those from here and loads only the others."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import orjson

from services.analytics.ingest.batch import MemoKey
from services.analytics.platform_clocks import SubjectMemo
from services.analytics.rounds import ConversationMemo


class Decided(NamedTuple):
    """One batch's changed memos, as their JSON (bytes), and the batch's number."""

    batch: int
    memos: dict[MemoKey, bytes]


class PendingMemos(dict[MemoKey, tuple[int, bytes]]):
    """Each pending memo's key -> (the number of the batch that decided it, its JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self._batches = itertools.count()

    def split(self, keys: Iterable[MemoKey]) -> tuple[list[MemoKey], dict[MemoKey, Any]]:
        """(the keys to load, the pending memos of the others, decoded)."""
        keys = list(keys)
        return ([key for key in keys if key not in self],
                {key: orjson.loads(self[key][1]) for key in keys if key in self})

    def keep(self, memos: Mapping[MemoKey, ConversationMemo | SubjectMemo]) -> Decided:
        """A batch's changed memos, pending until `saved`."""
        decided = Decided(next(self._batches),
                          {key: orjson.dumps(memo.to_json()) for key, memo in memos.items()})
        self.update((key, (decided.batch, value)) for key, value in decided.memos.items())
        return decided

    def saved(self, decided: Decided) -> None:
        """`decided` is in Redis: what no later batch changed again is pending no more."""
        for key in decided.memos:
            if self.get(key, (None,))[0] == decided.batch:
                del self[key]
