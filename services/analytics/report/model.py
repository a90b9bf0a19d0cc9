"""The report's JSON: the fields scripts and the supervisor console rely on (README,
"Analytics"). Durations are business seconds; a rate is null when nothing was counted."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ResponseTimes(BaseModel):
    rounds: int = Field(description="rounds that started in the window")
    answered: int = Field(description="rounds ended by an agent reply")
    within_3m_rate: float | None = Field(
        description="rounds answered within 180 business seconds, over rounds that ended "
        "or are still open past 180 business seconds")
    p50_s: float | None = Field(description="median business seconds to the reply")
    p90_s: float | None
    mean_s: float | None


class SlaOutcome(BaseModel):
    met: int
    breached: int
    rate: float | None = Field(description="met / (met + breached); running clocks excluded")
    running: int = Field(description="clocks not yet decided (excluded from the rate)")


class HeatCell(BaseModel):
    weekday: int = Field(ge=1, le=7, description="1 = Monday, in the shop's timezone")
    hour: int = Field(ge=0, le=23)
    messages: int


class AgentFigures(BaseModel):
    agent_id: str
    rounds: int = Field(description="rounds this agent answered")
    p50_s: float | None
    p90_s: float | None
    mean_s: float | None
    within_3m_rate: float | None


class ItemFigures(BaseModel):
    item_id: str
    title: str | None
    inquiries: int
    aftersale_requests: int
    negative_reviews: int


class Reviews(BaseModel):
    count: int
    negative: int = Field(description="rating 1-2")
    negative_rate: float | None


class Aftersale(BaseModel):
    requests: int
    by_kind: dict[str, int]
    by_reason: dict[str, int]


class Conversion(BaseModel):
    consulted: int = Field(description="buyers who wrote to pre-sale in the window")
    paid: int = Field(description="of them, buyers who paid within window_days of it")
    rate: float | None
    window_days: int


class DeadLetters(BaseModel):
    service: str
    reason: str
    letters: int


class Pipe(BaseModel):
    routed: int = Field(description="events the router passed on (role topics, kefu.orders)")
    total: int = Field(description="routed plus inbound events the router dead-lettered")
    routed_rate: float | None
    dead_letters: list[DeadLetters]


class Group(BaseModel):
    key: str = Field(description="the agent, role, intent, local hour, local day or item")
    rounds: int
    answered: int
    within_3m_rate: float | None
    p50_s: float | None
    p90_s: float | None
    mean_s: float | None


class Report(BaseModel):
    shop_id: str
    from_: datetime = Field(alias="from", description="window start (inclusive)")
    to: datetime = Field(description="window end (exclusive)")
    as_of: datetime = Field(description="when open rounds and clocks were judged")
    by: str
    intents: dict[str, int] = Field(description="buyer messages per intent")
    first_response: ResponseTimes = Field(description="first rounds of a conversation")
    replies: ResponseTimes = Field(description="every round (first and next responses)")
    sla: dict[str, SlaOutcome]
    escalations: dict[str, int] = Field(description="escalations per state")
    escalation_levels: dict[str, int]
    near_misses: int = Field(description="warnings whose deadline then passed unbreached")
    heatmap: list[HeatCell] = Field(description="buyer messages per weekday and hour")
    heatmap_intent: str | None = Field(description="the intent the heatmap counts, if one")
    agents: list[AgentFigures]
    items: list[ItemFigures]
    aftersale: Aftersale
    reviews: Reviews
    conversion: Conversion
    pipe: Pipe
    groups: list[Group] | list[ItemFigures] = Field(description="one row per `by` group")

    model_config = {"populate_by_name": True}
