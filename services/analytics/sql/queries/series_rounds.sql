-- Rounds per bucket of their start: count, first-response and reply percentiles
-- (business milliseconds) and the 3-minute rate's parts, judged as of {as_of}.
SELECT multiIf({unit:String} = 'day', toStartOfInterval(started_at, toIntervalDay({n:UInt32}), {tz:String}),
                {unit:String} = 'hour', toStartOfInterval(started_at, toIntervalHour({n:UInt32}), {tz:String}),
                toStartOfInterval(started_at, toIntervalMinute({n:UInt32}), {tz:String})) AS t,
       count() AS rounds,
       countIf(end_reason != '' OR due_3m_at <= {as_of:DateTime64(3)}) AS decided,
       countIf(end_reason = 'reply' AND business_ms < 180000) AS within_3m,
       countIf(end_reason = 'reply') AS answered,
       countIf(end_reason = 'reply' AND sla = 'first_response') AS first_answered,
       if(first_answered = 0, NULL, quantileExactInclusiveIf(0.5)(assumeNotNull(business_ms),
          end_reason = 'reply' AND sla = 'first_response')) AS first_response_p50_ms,
       if(first_answered = 0, NULL, quantileExactInclusiveIf(0.9)(assumeNotNull(business_ms),
          end_reason = 'reply' AND sla = 'first_response')) AS first_response_p90_ms,
       if(answered = 0, NULL, quantileExactInclusiveIf(0.5)(assumeNotNull(business_ms),
          end_reason = 'reply')) AS reply_p50_ms,
       if(answered = 0, NULL, quantileExactInclusiveIf(0.9)(assumeNotNull(business_ms),
          end_reason = 'reply')) AS reply_p90_ms
FROM rounds FINAL
WHERE shop_id = {shop:String}
  AND started_at >= {from:DateTime64(3)} AND started_at < {to:DateTime64(3)}
GROUP BY t
ORDER BY t
