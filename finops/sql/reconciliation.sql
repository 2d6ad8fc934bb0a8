-- reconciliation: computed cost (priced usage) beside what sources report, by day × provider ×
-- model: billed cost from provider cost data sets (reported_costs) and tool estimates carried
-- on usage rows (LiteLLM spend, Langfuse costDetails). Needs priced usage as `priced`.
-- reads: priced
WITH computed AS (
    SELECT
        day,
        provider,
        coalesce(model_id, model) AS model,
        CAST(sum(cost_usd) AS DECIMAL(38, 12)) AS list_cost_usd,
        CAST(sum(effective_cost_usd) AS DECIMAL(38, 12)) AS effective_cost_usd,
        CAST(sum(reported_cost_usd) AS DECIMAL(38, 12)) AS tool_estimate_usd,
        CAST(coalesce(sum(CASE WHEN cost_usd IS NULL THEN usage_rows END), 0) AS BIGINT) AS unpriced_rows,
        bool_or(service_tier = 'batch') AS has_batch,
        bool_or(prompt_band > 0) AS has_long_context
    FROM priced
    GROUP BY ALL
),
billed AS (
    SELECT
        CAST(r.period_start AS DATE) AS day,
        r.provider,
        coalesce(alias.model_id, r.model) AS model,
        CAST(sum(r.reported_cost_usd) AS DECIMAL(38, 12)) AS billed_usd
    FROM reported_costs AS r
    LEFT JOIN catalog_aliases AS alias
        ON alias.revision_id = CAST($revision_id AS INTEGER)
       AND alias.provider = r.provider
       AND alias.alias = CASE WHEN lower(r.model) LIKE 'ft:%:%'  -- a fine-tune: its base's ft: model
           THEN 'ft:' || split_part(lower(r.model), ':', 2) ELSE lower(r.model) END
    WHERE ($from_day IS NULL OR r.period_start >= CAST($from_day AS DATE))
      AND ($to_day IS NULL OR r.period_start < CAST($to_day AS DATE))
    GROUP BY ALL
)
SELECT
    coalesce(c.day, b.day) AS day,
    coalesce(c.provider, b.provider) AS provider,
    coalesce(c.model, b.model) AS model,
    c.list_cost_usd,
    c.effective_cost_usd,
    b.billed_usd,
    c.tool_estimate_usd,
    coalesce(c.unpriced_rows, 0) AS unpriced_rows,
    coalesce(c.has_batch, false) AS has_batch,
    coalesce(c.has_long_context, false) AS has_long_context
FROM computed AS c
FULL OUTER JOIN billed AS b
    ON c.day = b.day AND c.provider = b.provider AND c.model = b.model
WHERE b.billed_usd IS NOT NULL OR c.tool_estimate_usd IS NOT NULL
ORDER BY day, provider, model
