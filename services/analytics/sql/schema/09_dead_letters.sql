-- kefu.dlq. letter_id is a digest of (service, source, partition, offset, reason, raw):
-- a record dead-lettered again after a redelivery has the same id, queries group by it.
-- shop_id is read from the raw event when it is a JSON object with one, else empty.
CREATE TABLE IF NOT EXISTS dead_letters
(
    shop_id      LowCardinality(String),
    failed_at    DateTime64(3, 'UTC'),
    letter_id    String,
    service      LowCardinality(String),
    reason       LowCardinality(String),
    source_topic LowCardinality(String),
    partition    Nullable(Int32),
    offset       Nullable(Int64),
    event_type   LowCardinality(String),
    detail       String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (shop_id, failed_at, letter_id)
TTL toDateTime(failed_at) + toIntervalDay($retention_days)
