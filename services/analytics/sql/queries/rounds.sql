-- Rounds that started in [from, to): response times (business milliseconds), the
-- 3-minute rate and SLA outcomes. One scan, four grouping sets: the whole shop, per SLA
-- kind (first_response = first round of a session, next_response = later rounds), per
-- replying agent, and per the requested group ({by}: role, intent, local_hour, local_date,
-- agent_id). Open rounds are judged as of {as_of}.
SELECT
    multiIf(grouping(sla) = 0, 'sla', grouping(agent_id) = 0, 'agent',
            grouping(group_key) = 0, 'group', 'all') AS grouping_set,
    multiIf(grouping(sla) = 0, sla, grouping(agent_id) = 0, agent_id,
            grouping(group_key) = 0, group_key, '') AS key,
    count() AS rounds,
    countIf(end_reason = 'reply') AS answered,
    countIf(end_reason != '' OR due_3m_at <= {as_of:DateTime64(3)}) AS decided,
    countIf(end_reason = 'reply' AND business_ms < 180000) AS within_3m,
    quantilesExactInclusiveIf(0.5, 0.9)(assumeNotNull(business_ms), end_reason = 'reply')
        AS quantiles,  -- both from one sorted state
    if(answered = 0, NULL, quantiles[1]) AS p50_ms,
    if(answered = 0, NULL, quantiles[2]) AS p90_ms,
    if(answered = 0, NULL, avgIf(assumeNotNull(business_ms), end_reason = 'reply')) AS mean_ms,
    countIf(end_reason != '' AND ended_at < deadline) AS sla_met,
    countIf((end_reason != '' AND ended_at >= deadline)
            OR (end_reason = '' AND deadline <= {as_of:DateTime64(3)})) AS sla_breached
FROM
(
    SELECT sla, agent_id, end_reason, business_ms, due_3m_at, ended_at, deadline,
           toString({by:Identifier}) AS group_key
    FROM rounds FINAL
    WHERE shop_id = {shop:String}
      AND started_at >= {from:DateTime64(3)} AND started_at < {to:DateTime64(3)}
)
GROUP BY GROUPING SETS ((), (sla), (agent_id), (group_key))
