-- kefu.escalations. fired_at is stamped when the role service publishes, so a re-fire
-- of the same escalation_id may carry another fired_at: queries group by escalation_id.
CREATE TABLE IF NOT EXISTS escalations
(
    shop_id       LowCardinality(String),
    fired_at      DateTime64(3, 'UTC'),
    escalation_id String,
    role          LowCardinality(String),
    subject_kind  LowCardinality(String),
    subject_id    String,
    sla           LowCardinality(String),
    level         UInt8,
    state         LowCardinality(String),
    deadline      Nullable(DateTime64(3, 'UTC')),
    resolved_at   Nullable(DateTime64(3, 'UTC')),
    action        LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(fired_at)
ORDER BY (shop_id, fired_at, escalation_id)
TTL toDateTime(fired_at) + toIntervalDay($retention_days)
