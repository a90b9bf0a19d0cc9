-- Chat facts from kefu.role.presale and kefu.role.aftersale: buyer.message, agent.message,
-- conversation.closed and agent.status. One row per event_id: a redelivered event has the
-- same sorting key (its occurred_at is set by the source) and collapses into one row.
CREATE TABLE IF NOT EXISTS messages
(
    shop_id         LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    event_id        String,
    event_type      LowCardinality(String),
    role            LowCardinality(String) COMMENT 'role topic it came on; empty for agent.status',
    conversation_id String,
    buyer_id        String,
    agent_id        String,
    intent          LowCardinality(String) COMMENT 'routing.intent of a buyer message',
    priority        LowCardinality(String),
    item_id         String,
    order_id        String,
    script_id       String,
    status          LowCardinality(String) COMMENT 'agent.status: online, away, offline',
    local_date      Date COMMENT 'occurred_at in the shop timezone',
    local_hour      UInt8,
    local_weekday   UInt8 COMMENT '1 = Monday .. 7 = Sunday'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (shop_id, occurred_at, event_id)
TTL toDateTime(occurred_at) + toIntervalDay($retention_days)
