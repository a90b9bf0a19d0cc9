-- Escalations per bucket of their first firing, once per escalation_id: all of them,
-- and the breaches that reached a supervisor (level 2).
SELECT multiIf({unit:String} = 'day', toStartOfInterval(fired, toIntervalDay({n:UInt32}), {tz:String}),
                {unit:String} = 'hour', toStartOfInterval(fired, toIntervalHour({n:UInt32}), {tz:String}),
                toStartOfInterval(fired, toIntervalMinute({n:UInt32}), {tz:String})) AS t,
       count() AS escalations,
       countIf(state = 'breached' AND level = 2) AS breaches
FROM
(
    SELECT escalation_id, min(fired_at) AS fired, any(state) AS state, any(level) AS level
    FROM escalations FINAL
    WHERE shop_id = {shop:String}
      AND fired_at >= {from:DateTime64(3)} AND fired_at < {to:DateTime64(3)}
    GROUP BY escalation_id
)
GROUP BY t
ORDER BY t
