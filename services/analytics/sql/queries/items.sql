-- Products of [from, to): buyer messages that name the item (inquiries), after-sale
-- requests and negative reviews (rating 1-2) about it. A case or review that names no
-- item counts for every item of its order (`item_ids`, attributed at ingest). The top
-- {limit} items by inquiries + requests + negative reviews, titled from the orders of the
-- 90 days up to `to`. (PREWHERE before FINAL is safe here: duplicates of a fact are equal.)
SELECT ranked.item_id AS item_id, inquiries, aftersale_requests, negative_reviews,
       titles.latest_title AS title
FROM
(
    SELECT item_id, sum(inquiry) AS inquiries, sum(request) AS aftersale_requests,
           sum(negative) AS negative_reviews
    FROM
    (
        SELECT item_id, 1 AS inquiry, 0 AS request, 0 AS negative
        FROM messages FINAL
        PREWHERE item_id != ''
        WHERE shop_id = {shop:String}
          AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
          AND event_type = 'buyer.message'
        UNION ALL
        SELECT arrayJoin(item_ids) AS item_id, 0, event_type = 'aftersale.requested',
               event_type = 'review.posted'
        FROM commerce FINAL
        WHERE shop_id = {shop:String}
          AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
          AND (event_type = 'aftersale.requested'
               OR (event_type = 'review.posted' AND rating <= 2))
    )
    GROUP BY item_id
    ORDER BY inquiries + aftersale_requests + negative_reviews DESC, item_id
    LIMIT {limit:UInt32}
) AS ranked
LEFT JOIN
(
    SELECT item_id, argMax(title, occurred_at) AS latest_title
    FROM order_items FINAL
    WHERE shop_id = {shop:String} AND title != ''
      AND occurred_at >= {to:DateTime64(3)} - toIntervalDay(90)
      AND occurred_at < {to:DateTime64(3)}
    GROUP BY item_id
) AS titles ON titles.item_id = ranked.item_id
ORDER BY inquiries + aftersale_requests + negative_reviews DESC, item_id
