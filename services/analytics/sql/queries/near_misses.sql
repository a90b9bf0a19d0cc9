-- Near misses: deadlines (subject, SLA, deadline) with a warning that was not retracted,
-- whose deadline has passed by {as_of} without a breach that stands (none, or retracted):
-- the warning was followed by a reply or stop in time.
SELECT sla, count() AS near_misses
FROM
(
    SELECT subject_kind, subject_id, sla, deadline,
           countIf(state = 'warning') > 0 AS warned,
           countIf(state = 'retracted' AND level = 1) > 0 AS warning_retracted,
           countIf(state = 'breached' AND level = 2) > 0 AS breached,
           countIf(state = 'retracted' AND level = 2) > 0 AS breach_retracted
    FROM escalations FINAL
    WHERE shop_id = {shop:String}
      AND fired_at >= {from:DateTime64(3)} AND fired_at < {to:DateTime64(3)}
      AND deadline IS NOT NULL
    GROUP BY subject_kind, subject_id, sla, deadline
)
WHERE warned AND NOT warning_retracted AND (NOT breached OR breach_retracted)
  AND deadline <= {as_of:DateTime64(3)}
GROUP BY sla
