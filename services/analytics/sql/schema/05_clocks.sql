-- Platform deadlines (ship_by, order_change_confirmation, aftersale_response,
-- logistics_stalled), decided at ingest by the role services' own rules. One row per
-- clock instance, rewritten with a higher version when its deadline moves or it stops.
CREATE TABLE IF NOT EXISTS clocks
(
    shop_id      LowCardinality(String),
    started_at   DateTime64(3, 'UTC'),
    clock_id     String COMMENT 'sla:subject_kind:subject_id:start',
    sla          LowCardinality(String),
    subject_kind LowCardinality(String),
    subject_id   String,
    role         LowCardinality(String),
    deadline     DateTime64(3, 'UTC'),
    stopped_at   Nullable(DateTime64(3, 'UTC')),
    missed       UInt8 COMMENT '1 once an event arrived at or after a deadline it then moved',
    version      UInt32
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (shop_id, started_at, clock_id)
TTL toDateTime(started_at) + toIntervalDay($retention_days)
