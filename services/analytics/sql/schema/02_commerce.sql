-- Order, logistics, after-sale and review facts from kefu.orders, one row per event_id.
CREATE TABLE IF NOT EXISTS commerce
(
    shop_id       LowCardinality(String),
    occurred_at   DateTime64(3, 'UTC'),
    event_id      String,
    event_type    LowCardinality(String),
    order_id      String,
    buyer_id      String,
    case_id       String,
    item_id       String COMMENT 'aftersale.requested and review.posted: the product, if named',
    item_ids      Array(String) COMMENT 'item_id, else the items of the order (known at ingest)',
    kind          LowCardinality(String) COMMENT 'after-sale kind, or order change kind',
    reason        String COMMENT 'after-sale reason, delay or cancellation reason',
    status        LowCardinality(String) COMMENT 'logistics or after-sale status',
    rating        UInt8 COMMENT 'review.posted: 1..5',
    local_date    Date,
    local_hour    UInt8,
    local_weekday UInt8
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (shop_id, occurred_at, event_id)
TTL toDateTime(occurred_at) + toIntervalDay($retention_days)
