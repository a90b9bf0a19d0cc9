"""Garbage-collector settings for a long-running service process."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Container allocations (net) between young-generation collections (CPython: 700), at
least."""
CONTAINERS_PER_RECORD = 40
"""What a batch makes per record and frees, at least (parsed models, rows, memos)."""


def settle_heap(batch_records: int = 0) -> None:
    """Call once, after start-up built everything that lives as long as the process.

    The policy, the classifier's keyword tables, zhconv's dictionary, the pydantic
    validators and every imported module are a few hundred thousand objects that never
    die; each full collection walked them all again. Frozen, the collector skips them
    (router profile: time in the collector per event 15 us -> 4 us). Young collections
    then run every YOUNG_THRESHOLD net allocations instead of 700. A batch of 500 events
    makes and frees 20-40k containers (two batches live at once in the pipelined router),
    nearly all freed by reference counting anyway: at 10,000, young collections ran a few
    times per batch, each walking the live batch (3-4% of the router's CPU); at 50,000,
    about once per 40,000 events. Reference cycles made later are still collected, after
    at most YOUNG_THRESHOLD net allocations (a few MB).

    A service of bigger batches (`batch_records`, analytics: 5,000) gets a young
    generation that holds one batch: at 50,000, three or four young collections a batch
    walked the live batch and promoted it, 10% of analytics' CPU per record."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    young = max(YOUNG_THRESHOLD, CONTAINERS_PER_RECORD * batch_records)
    gc.set_threshold(young, older, oldest)
