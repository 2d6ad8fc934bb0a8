-- user_spend: one team's priced usage (rows of `owned`: priced daily rollup plus its `owner`
-- team) in the day range, restricted to $providers and $models (empty list = all), by user
-- id: requests, tokens, cost. Shared usage a split rule shares out has no single owner and
-- is not listed.
-- reads: owned
SELECT
    user_id,
    CAST(coalesce(sum(requests), 0) AS DECIMAL(38, 0)) AS requests,
    CAST(coalesce(sum(input_tokens), 0) AS DECIMAL(38, 0)) AS input_tokens,
    CAST(coalesce(sum(cache_read_tokens), 0) AS DECIMAL(38, 0)) AS cache_read_tokens,
    CAST(coalesce(sum(coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)), 0)
         AS DECIMAL(38, 0)) AS cache_write_tokens,
    CAST(coalesce(sum(output_tokens), 0) AS DECIMAL(38, 0)) AS output_tokens,
    CAST(sum(cost_usd) AS DECIMAL(38, 12)) AS cost_usd,
    CAST(sum(effective_cost_usd) AS DECIMAL(38, 12)) AS effective_cost_usd,
    CAST(coalesce(sum(CASE WHEN cost_usd IS NULL THEN usage_rows END), 0) AS BIGINT)
         AS unpriced_rows,
    CAST(coalesce(sum(
        CASE WHEN cost_usd IS NULL THEN
            coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
            + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
            + coalesce(output_tokens, 0)
        END), 0) AS DECIMAL(38, 0)) AS unpriced_tokens
FROM owned
WHERE owner = CAST($team AS VARCHAR)
  AND (len(CAST($providers AS VARCHAR[])) = 0
       OR list_contains(CAST($providers AS VARCHAR[]), provider))
  AND (len(CAST($models AS VARCHAR[])) = 0
       OR list_contains(CAST($models AS VARCHAR[]), coalesce(model_id, model)))
GROUP BY user_id
ORDER BY cost_usd DESC NULLS LAST, requests DESC
