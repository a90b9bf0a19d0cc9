-- Rounds: a buyer's first unanswered message up to the first agent reply, computed at
-- ingest with the shop's business hours of that time. Written when the round opens
-- (version 1) and again when it ends (version 2); FINAL keeps the highest version.
CREATE TABLE IF NOT EXISTS rounds
(
    shop_id         LowCardinality(String),
    started_at      DateTime64(3, 'UTC') COMMENT 'occurred_at of the round''s first buyer message',
    round_id        String COMMENT 'event_id of that message',
    conversation_id String,
    role            LowCardinality(String),
    sla             LowCardinality(String) COMMENT 'first_response or next_response',
    intent          LowCardinality(String),
    item_id         String,
    buyer_id        String,
    agent_id        String COMMENT 'the agent who replied',
    end_reason      LowCardinality(String) COMMENT 'empty while open, reply or closed',
    ended_at        Nullable(DateTime64(3, 'UTC')),
    response_ms     Nullable(UInt64) COMMENT 'calendar time to the reply',
    business_ms     Nullable(UInt64) COMMENT 'business time to the reply',
    deadline        DateTime64(3, 'UTC') COMMENT 'the role SLA deadline (business time)',
    due_3m_at       DateTime64(3, 'UTC') COMMENT '180 business seconds after started_at',
    local_date      Date,
    local_hour      UInt8,
    local_weekday   UInt8,
    version         UInt8
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (shop_id, started_at, round_id)
TTL toDateTime(started_at) + toIntervalDay($retention_days)
