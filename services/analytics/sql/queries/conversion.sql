-- Pre-sale conversion (询单转化率): buyers who wrote to pre-sale in [from, to), and how
-- many of them paid an order within {days} days after their first such message.
WITH consulted AS
(
    SELECT buyer_id, min(occurred_at) AS first_at
    FROM messages FINAL
    WHERE shop_id = {shop:String}
      AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
      AND event_type = 'buyer.message' AND role = 'presale'
    GROUP BY buyer_id
),
paid AS
(
    SELECT buyer_id, occurred_at AS paid_at
    FROM commerce FINAL
    WHERE shop_id = {shop:String} AND event_type = 'order.paid'
      AND occurred_at >= {from:DateTime64(3)}
      AND occurred_at < {to:DateTime64(3)} + toIntervalDay({days:UInt32})
      AND buyer_id IN (SELECT buyer_id FROM consulted)
)
SELECT count() AS consulted, countIf(converted) AS paid
FROM
(
    SELECT consulted.buyer_id,
           countIf(paid.paid_at >= consulted.first_at
                   AND paid.paid_at < consulted.first_at + toIntervalDay({days:UInt32})) > 0
               AS converted
    FROM consulted
    LEFT JOIN paid ON paid.buyer_id = consulted.buyer_id
    GROUP BY consulted.buyer_id
)
