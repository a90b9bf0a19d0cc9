-- Buyer messages per time bucket of {n} {unit}s in the shop's timezone {tz}
-- (intent: '' for all).
SELECT multiIf({unit:String} = 'day', toStartOfInterval(occurred_at, toIntervalDay({n:UInt32}), {tz:String}),
                {unit:String} = 'hour', toStartOfInterval(occurred_at, toIntervalHour({n:UInt32}), {tz:String}),
                toStartOfInterval(occurred_at, toIntervalMinute({n:UInt32}), {tz:String})) AS t,
       count() AS messages
FROM messages FINAL
WHERE shop_id = {shop:String}
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
  AND event_type = 'buyer.message' AND ({intent:String} = '' OR intent = {intent:String})
GROUP BY t
ORDER BY t
