-- Pre-sale conversion (询单转化率): buyers who wrote to pre-sale in [from, to), and how
-- many of them paid an order within {days} days after their first such message. One
-- pass over the consultations and the payments, grouped by buyer (no join; by a 64-bit
-- hash of the buyer id, which hashes faster than the text: a collision among a million
-- buyers of a shop has a chance of about one in ten million).
SELECT count() AS consulted, countIf(converted) AS paid
FROM
(
    SELECT buyer,
           minIf(at, consulting) AS first_at,
           arrayExists(paid_at -> paid_at >= first_at
                                  AND paid_at < first_at + toIntervalDay({days:UInt32}),
                       groupArrayIf(at, NOT consulting)) AS converted
    FROM
    (
        SELECT cityHash64(buyer_id) AS buyer, occurred_at AS at, 1 AS consulting
        FROM messages FINAL
        PREWHERE event_type = 'buyer.message' AND role = 'presale'  -- equal in duplicates
        WHERE shop_id = {shop:String}
          AND occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}
        UNION ALL
        SELECT cityHash64(buyer_id), occurred_at, 0
        FROM commerce FINAL
        PREWHERE event_type = 'order.paid'
        WHERE shop_id = {shop:String}
          AND occurred_at >= {from:DateTime64(3)}
          AND occurred_at < {to:DateTime64(3)} + toIntervalDay({days:UInt32})
    )
    GROUP BY buyer
    HAVING countIf(consulting) > 0
)
