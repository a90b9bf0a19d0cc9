"""The context writes of the batch routed last, until they are in Redis. The router is
pipelined (services.core.consumer, "pipelined"): the next batch may be routed before
they land, so its context starts from them (`RouterContext(pending=...)`)."""

from __future__ import annotations

from services.core.outputs import AfterAck
from services.router.context import RouterContext
from services.router.state import ScriptWrite


class PendingWrites:
    def __init__(self) -> None:
        self.writes: dict[str | ScriptWrite, str] = {}

    def after_ack(self, ctx: RouterContext) -> AfterAck:
        """The effect that writes `ctx`'s changes once the batch's outputs were acked;
        until it has run they are pending."""
        writes = self.writes = ctx.writes()

        async def flush() -> None:
            await ctx.flush()
            if self.writes is writes:  # in Redis now, and Redis may change later
                self.writes = {}

        return flush
