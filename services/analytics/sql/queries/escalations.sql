-- Escalations fired in [from, to), once per escalation_id (a re-fire repeats the id with
-- another fired_at), by state, level and SLA.
SELECT state, level, sla, count() AS escalations
FROM
(
    SELECT escalation_id, any(state) AS state, any(level) AS level, any(sla) AS sla
    FROM escalations FINAL
    WHERE shop_id = {shop:String}
      AND fired_at >= {from:DateTime64(3)} AND fired_at < {to:DateTime64(3)}
    GROUP BY escalation_id
)
GROUP BY state, level, sla
