"""settle_heap: start-up objects leave the collector's generations, and reference
cycles made afterwards are still freed without anyone calling gc.collect()."""

from __future__ import annotations

import gc
import weakref

import pytest

from services.core.heap import settle_heap


@pytest.fixture
def settled():
    thresholds = gc.get_threshold()
    settle_heap()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


def test_start_up_objects_are_frozen(settled) -> None:
    assert gc.get_freeze_count() > 1_000


def test_later_cycles_are_still_collected(settled) -> None:
    refs = [weakref.ref(Node()) for _ in range(200_000)]
    alive = sum(1 for ref in refs if ref() is not None)
    assert alive < 100_000  # young collections ran on their own and freed most of them


def test_a_bigger_batch_gets_a_young_generation_that_holds_one_batch() -> None:
    thresholds = gc.get_threshold()
    try:
        settle_heap(batch_records=500)
        assert gc.get_threshold()[0] == 50_000
        settle_heap(batch_records=5_000)  # analytics: a young collection about once a batch
        assert gc.get_threshold()[0] == 200_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
