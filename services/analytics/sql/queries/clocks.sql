-- Platform deadlines whose clock started in [from, to): met (stopped before the
-- deadline, which never passed unheeded), breached (stopped at or after it, a deadline
-- that passed before it moved, or still running past it at {as_of}) and running.
SELECT
    sla,
    countIf(missed = 0 AND stopped_at IS NOT NULL AND stopped_at < deadline) AS met,
    countIf(missed = 1 OR (stopped_at IS NOT NULL AND stopped_at >= deadline)
            OR (stopped_at IS NULL AND deadline <= {as_of:DateTime64(3)})) AS breached,
    countIf(missed = 0 AND stopped_at IS NULL AND deadline > {as_of:DateTime64(3)}) AS running
FROM clocks FINAL
WHERE shop_id = {shop:String}
  AND started_at >= {from:DateTime64(3)} AND started_at < {to:DateTime64(3)}
GROUP BY sla
