-- kefu.notifications; queries group by notification_id.
CREATE TABLE IF NOT EXISTS notifications
(
    shop_id         LowCardinality(String),
    created_at      DateTime64(3, 'UTC'),
    notification_id String,
    audience        LowCardinality(String),
    kind            LowCardinality(String),
    channel         LowCardinality(String),
    locale          LowCardinality(String),
    order_id        String,
    conversation_id String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (shop_id, created_at, notification_id)
TTL toDateTime(created_at) + toIntervalDay($retention_days)
