-- scenario_comparison: every variant's priced rows (priced_scenario: priced_usage over
-- scenario_usage) set beside the same scope rows' actual cost, by variant, day, team and move.
-- A scope row's cost under a variant is the sum of its parts times discount_factor, or NULL when
-- any part is unpriced; list cost (cost_usd) and effective cost after contracts alike. A row
-- is compared only when its actual and variant costs are both known; the rest are counted
-- apart, never as $0: rows unpriced today, and rows priced today that the variant cannot price
-- (with the variant's unpriced reason).
-- reads: priced_scenario
WITH by_scope_row AS (
    SELECT
        variant,
        scope_row,
        any_value(usage_day) AS day,
        any_value(coalesce(team, 'unallocated')) AS team,
        any_value(move_index) AS move_index,
        any_value(usage_rows) AS usage_rows,
        CASE WHEN count(*) = count(cost_usd)
             THEN CAST(sum(cost_usd * discount_factor) AS DECIMAL(38, 18)) END AS cost_usd,
        CASE WHEN count(*) = count(cost_usd)
             THEN CAST(sum(effective_cost_usd * discount_factor) AS DECIMAL(38, 18)) END
            AS effective_cost_usd,
        CAST(sum(
            coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
            + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
            + coalesce(output_tokens, 0) + coalesce(input_audio_tokens, 0)
            + coalesce(output_audio_tokens, 0) + coalesce(input_image_tokens, 0)
            + coalesce(output_image_tokens, 0)
        ) AS HUGEINT) AS tokens,
        -- the distinct reasons in order; a DISTINCT ... ORDER BY aggregate would be planned
        -- as a second grouping of every row joined back (a third of the query's time)
        nullif(array_to_string(list_sort(list_distinct(
            list(unpriced_reason) FILTER (WHERE unpriced_reason IS NOT NULL)
        )), '; '), '') AS unpriced_reason
    FROM priced_scenario
    GROUP BY variant, scope_row
),
actual AS (
    SELECT scope_row, cost_usd, effective_cost_usd, tokens
    FROM by_scope_row
    WHERE variant = 'actual'
),
paired AS (
    SELECT
        variant_row.variant,
        variant_row.day,
        variant_row.team,
        variant_row.move_index,
        variant_row.usage_rows,
        actual.cost_usd AS actual_cost_usd,
        variant_row.cost_usd AS scenario_cost_usd,
        actual.effective_cost_usd AS actual_effective_cost_usd,
        variant_row.effective_cost_usd AS scenario_effective_cost_usd,
        actual.tokens AS actual_tokens,
        variant_row.tokens AS scenario_tokens,
        actual.cost_usd IS NOT NULL AND variant_row.cost_usd IS NOT NULL AS compared,
        CASE WHEN actual.cost_usd IS NOT NULL AND variant_row.cost_usd IS NULL
             THEN variant_row.unpriced_reason END AS scenario_unpriced_reason
    FROM by_scope_row AS variant_row
    JOIN actual USING (scope_row)
)
SELECT
    variant,
    day,
    team,
    move_index,
    scenario_unpriced_reason,
    CAST(coalesce(sum(actual_cost_usd) FILTER (WHERE compared), 0) AS DECIMAL(38, 18))
        AS actual_cost_usd,
    CAST(coalesce(sum(scenario_cost_usd) FILTER (WHERE compared), 0) AS DECIMAL(38, 18))
        AS scenario_cost_usd,
    CAST(coalesce(sum(actual_effective_cost_usd) FILTER (WHERE compared), 0) AS DECIMAL(38, 18))
        AS actual_effective_cost_usd,
    CAST(coalesce(sum(scenario_effective_cost_usd) FILTER (WHERE compared), 0) AS DECIMAL(38, 18))
        AS scenario_effective_cost_usd,
    CAST(coalesce(sum(usage_rows) FILTER (WHERE compared), 0) AS BIGINT) AS compared_rows,
    CAST(coalesce(sum(actual_tokens) FILTER (WHERE compared), 0) AS HUGEINT) AS actual_tokens,
    CAST(coalesce(sum(scenario_tokens) FILTER (WHERE compared), 0) AS HUGEINT) AS scenario_tokens,
    CAST(coalesce(sum(usage_rows) FILTER (WHERE actual_cost_usd IS NULL), 0) AS BIGINT)
        AS unpriced_actual_rows,
    CAST(coalesce(sum(actual_tokens) FILTER (WHERE actual_cost_usd IS NULL), 0) AS HUGEINT)
        AS unpriced_actual_tokens,
    CAST(coalesce(sum(usage_rows) FILTER (WHERE scenario_unpriced_reason IS NOT NULL), 0) AS BIGINT)
        AS unpriced_scenario_rows,
    CAST(coalesce(sum(scenario_tokens) FILTER (WHERE scenario_unpriced_reason IS NOT NULL), 0)
         AS HUGEINT) AS unpriced_scenario_tokens,
    CAST(coalesce(sum(actual_cost_usd) FILTER (WHERE scenario_unpriced_reason IS NOT NULL), 0)
         AS DECIMAL(38, 18)) AS unpriced_scenario_actual_cost_usd
FROM paired
GROUP BY ALL
