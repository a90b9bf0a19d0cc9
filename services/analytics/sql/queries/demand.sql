-- Chat events of [from, to): buyer messages by intent and shop-local weekday and hour
-- (weekday_hour = weekday * 100 + hour: one small key), the other chat events in one
-- row with weekday_hour 0. Gives the intent mix, the demand heatmap and the routed count.
SELECT
    intent,
    if(event_type = 'buyer.message', toUInt16(local_weekday * 100 + local_hour), 0)
        AS weekday_hour,
    count() AS events
FROM messages FINAL
WHERE shop_id = {shop:String}
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY intent, weekday_hour
