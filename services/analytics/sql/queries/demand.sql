-- Chat events of [from, to) in one scan, two grouping sets of one key each (a key of two
-- columns, one of them LowCardinality, made ClickHouse aggregate a third slower):
-- - per intent: every chat event (`events`) and the buyer messages among them
--   (`buyer_messages`: the intent mix);
-- - per weekday_hour (weekday * 100 + hour, shop-local): the buyer messages of the heatmap,
--   of {intent} only when it is not '', and the other chat events under weekday_hour 0.
-- Both sets count every chat event once, so either gives the routed count.
SELECT if(grouping(intent) = 0, 'intent', 'hour') AS grouping_set, intent, weekday_hour,
       count() AS events,
       countIf(event_type = 'buyer.message') AS buyer_messages
FROM
(
    SELECT intent, event_type,
           if(event_type = 'buyer.message'
                  AND ({intent:String} = '' OR intent = {intent:String}),
              toUInt16(local_weekday * 100 + local_hour), 0) AS weekday_hour
    FROM messages FINAL
    WHERE shop_id = {shop:String}
      AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
)
GROUP BY GROUPING SETS ((intent), (weekday_hour))
