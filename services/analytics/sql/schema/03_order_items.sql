-- The items[] lines of order.created and order.paid, one row per (event_id, line).
CREATE TABLE IF NOT EXISTS order_items
(
    shop_id     LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    event_id    String,
    line        UInt16,
    order_id    String,
    item_id     String,
    title       String,
    quantity    UInt32
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (shop_id, occurred_at, event_id, line)
TTL toDateTime(occurred_at) + toIntervalDay($retention_days)
