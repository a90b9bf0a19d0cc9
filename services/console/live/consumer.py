"""The console's batch handler of `kefu.escalations`, `kefu.assignments` and `kefu.dlq`:
the feeds are written once the batch is handled (nothing is published), then the open
boards of the shops it touched are refreshed at once. A record the console cannot read
is skipped: the services that own those topics dead-letter it already."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from contracts import Assignment, DeadLetter, Escalation, topics
from services.console.live.feeds import Feeds, letter_shop
from services.core.logging import get_logger
from services.core.outputs import BatchOutcome

log = get_logger("kefu.console")
MODELS = {topics.ESCALATIONS: Escalation, topics.ASSIGNMENTS: Assignment, topics.DLQ: DeadLetter}
CONSUMED = tuple(MODELS)


class FeedHandler:
    def __init__(self, feeds: Feeds, touched: Callable[[set[str]], None]) -> None:
        self.feeds, self.touched = feeds, touched

    async def __call__(self, records: Sequence[ConsumerRecord]) -> BatchOutcome:
        escalations, letters, shops = [], [], set()
        for record in records:
            try:
                item = MODELS[record.topic].model_validate_json(record.value or b"")
            except ValidationError:
                log.info("unreadable record skipped", topic=record.topic,
                         partition=record.partition, offset=record.offset)
                continue
            if isinstance(item, Escalation):
                escalations.append((item, record.value))
            elif isinstance(item, DeadLetter):
                letters.append(item)
            shop = letter_shop(item) if isinstance(item, DeadLetter) else item.shop_id
            if shop:
                shops.add(shop)
        outcome = BatchOutcome()

        async def record() -> None:
            await self.feeds.record(escalations, letters, shops, datetime.now(UTC))
            self.touched(shops)

        outcome.after_ack.append(record)
        return outcome
