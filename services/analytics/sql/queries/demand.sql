-- Chat events of [from, to) by type, role, intent and the shop-local weekday and hour:
-- the intent mix and the demand heatmap (buyer messages), and the routed count.
SELECT
    event_type,
    role,
    intent,
    local_weekday AS weekday,
    local_hour AS hour,
    count() AS events
FROM messages FINAL
WHERE shop_id = {shop:String}
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY event_type, role, intent, weekday, hour
