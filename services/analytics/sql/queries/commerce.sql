-- Order, after-sale and review events of [from, to): the routed count, reviews (negative:
-- rating 1-2), and after-sale requests by kind and reason. Two branches, so that only the
-- after-sale requests are grouped by their text columns (grouping every event by them cost
-- a third more). PREWHERE before FINAL is safe: duplicates of a fact are equal.
SELECT event_type, '' AS kind, '' AS reason,
       event_type = 'review.posted' AND rating <= 2 AS negative, count() AS events
FROM commerce FINAL
WHERE shop_id = {shop:String}
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
  AND event_type != 'aftersale.requested'
GROUP BY event_type, negative
UNION ALL
SELECT event_type, kind, reason, false AS negative, count() AS events
FROM commerce FINAL
PREWHERE event_type = 'aftersale.requested'
WHERE shop_id = {shop:String}
  AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
GROUP BY event_type, kind, reason
