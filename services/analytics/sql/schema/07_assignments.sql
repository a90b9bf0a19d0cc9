-- kefu.assignments; assignment_id is a digest of the message (a republished decision
-- carries the same content).
CREATE TABLE IF NOT EXISTS assignments
(
    shop_id         LowCardinality(String),
    at              DateTime64(3, 'UTC'),
    assignment_id   String,
    conversation_id String,
    role            LowCardinality(String),
    agent_id        String COMMENT 'empty: queued',
    reason          LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (shop_id, at, assignment_id)
TTL toDateTime(at) + toIntervalDay($retention_days)
