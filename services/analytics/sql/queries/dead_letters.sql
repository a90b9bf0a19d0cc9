-- Dead letters of [from, to) that name the shop, once per letter, by service and reason;
-- `from_router` are inbound events the router refused (part of the routed-vs-total ratio).
SELECT service, reason, source_topic = 'kefu.inbound' AS from_router, count() AS letters
FROM
(
    SELECT letter_id, any(service) AS service, any(reason) AS reason,
           any(source_topic) AS source_topic
    FROM dead_letters FINAL
    WHERE shop_id = {shop:String}
      AND failed_at >= {from:DateTime64(3)} AND failed_at < {to:DateTime64(3)}
    GROUP BY letter_id
)
GROUP BY service, reason, from_router
