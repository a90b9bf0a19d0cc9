-- Order, after-sale and review events of [from, to): after-sale requests by kind and
-- reason, reviews (negative: rating 1-2), and the routed count.
SELECT
    event_type,
    if(event_type = 'aftersale.requested', kind, '') AS kind,
    if(event_type = 'aftersale.requested', reason, '') AS reason,
    event_type = 'review.posted' AND rating <= 2 AS negative,
    count() AS events
FROM commerce FINAL
WHERE shop_id = {shop:String}
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY event_type, kind, reason, negative
