-- scenario_usage: scoped_usage as it would be billed under each variant of a scenario, in the
-- shape priced_usage reads. Variant 'actual', and every row no move of a variant applies to,
-- passes through unchanged. A moved row takes the target's provider and model, and its counts
-- are rebuilt in three steps, each rounded half-even to whole tokens (so dollars can be
-- reproduced by hand from the rollup row):
--   1. token ratios: input, cache_read, cache_write_5m and cache_write_1h × input_ratio;
--      output (reasoning included) × output_ratio; audio and image tokens are kept as they are;
--   2. cache-hit rate h, when given: the prompt's text p = input + cache_read becomes
--      cache_read = round(p × h) and input = p − cache_read (cache writes are kept); else a
--      cache retention r, when given: cache_read becomes round(cache_read × r) and the rest
--      of it input (a target without a cache-read price keeps none: r = 0); cache writes
--      become input when the target prices none (it caches on its own, as OpenAI does);
--   3. batch share s, when given: every count c (tokens, requests, searches) splits into a
--      'batch' part round(c × s) and an 'interactive' part c − round(c × s). No part is made
--      for a share of 0 or 1, so a target without a batch price is not asked for one.
-- Tier of a moved row (or its interactive part): the service_tier assumption, else the row's
-- own tier; a batch row stays batch unless a batch share is given, and then its interactive
-- part runs at the assumed tier or standard. discount_factor (1 − contract discount) is 1 for
-- rows that are not moved; the caller multiplies it into the priced cost.
-- Pricing day: with $pricing_day every row (actual or not) is priced as on that day (the
-- forward view: prices in force now); NULL prices each row on its own day (as billed). The
-- row's own day stays in usage_day.
-- reads: scoped_usage
WITH variants AS (
    SELECT unnest(CAST($variant_names AS VARCHAR[])) AS variant
),
plan AS (
    SELECT
        unnest(CAST($plan_variant AS VARCHAR[])) AS plan_variant,
        unnest(CAST($plan_move AS INTEGER[])) AS plan_move,
        unnest(CAST($plan_provider AS VARCHAR[])) AS target_provider,
        unnest(CAST($plan_model AS VARCHAR[])) AS target_model,
        unnest(CAST($plan_input_ratio AS DECIMAL(18, 6)[])) AS input_ratio,
        unnest(CAST($plan_output_ratio AS DECIMAL(18, 6)[])) AS output_ratio,
        unnest(CAST($plan_cache_hit_rate AS DECIMAL(18, 6)[])) AS cache_hit_rate,
        unnest(CAST($plan_cache_retention AS DECIMAL(18, 6)[])) AS cache_retention,
        unnest(CAST($plan_writes_as_input AS BOOLEAN[])) AS writes_as_input,
        unnest(CAST($plan_batch_share AS DECIMAL(18, 6)[])) AS batch_share,
        unnest(CAST($plan_service_tier AS VARCHAR[])) AS target_service_tier,
        unnest(CAST($plan_discount_factor AS DECIMAL(18, 6)[])) AS plan_discount_factor
),
planned AS (
    SELECT
        variants.variant,
        scoped.*,
        scoped.day AS usage_day,
        plan.*,
        plan.target_model IS NOT NULL AS moved
    FROM scoped_usage AS scoped
    CROSS JOIN variants
    LEFT JOIN plan
        ON plan.plan_variant = variants.variant
       AND plan.plan_move = scoped.move_index
),
scaled AS (
    SELECT
        * REPLACE (
            CASE WHEN moved THEN CAST(round_even(input_tokens * input_ratio, 0) AS HUGEINT)
                 ELSE input_tokens END AS input_tokens,
            CASE WHEN moved THEN CAST(round_even(cache_read_tokens * input_ratio, 0) AS HUGEINT)
                 ELSE cache_read_tokens END AS cache_read_tokens,
            CASE WHEN moved THEN CAST(round_even(cache_write_5m_tokens * input_ratio, 0) AS HUGEINT)
                 ELSE cache_write_5m_tokens END AS cache_write_5m_tokens,
            CASE WHEN moved THEN CAST(round_even(cache_write_1h_tokens * input_ratio, 0) AS HUGEINT)
                 ELSE cache_write_1h_tokens END AS cache_write_1h_tokens,
            CASE WHEN moved THEN CAST(round_even(output_tokens * output_ratio, 0) AS HUGEINT)
                 ELSE output_tokens END AS output_tokens,
            CASE WHEN moved THEN CAST(round_even(reasoning_tokens * output_ratio, 0) AS HUGEINT)
                 ELSE reasoning_tokens END AS reasoning_tokens
        )
    FROM planned
),
cached AS (
    SELECT
        * REPLACE (
            CASE WHEN moved AND cache_hit_rate IS NOT NULL
                      AND (input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL)
                 THEN coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
                      - CAST(round_even((coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0))
                                        * cache_hit_rate, 0) AS HUGEINT)
            WHEN moved AND cache_retention IS NOT NULL AND coalesce(cache_read_tokens, 0) > 0
                 THEN coalesce(input_tokens, 0) + cache_read_tokens
                      - CAST(round_even(cache_read_tokens * cache_retention, 0) AS HUGEINT)
                 ELSE input_tokens END AS input_tokens,
            CASE WHEN moved AND cache_hit_rate IS NOT NULL
                      AND (input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL)
                 THEN CAST(round_even((coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0))
                                      * cache_hit_rate, 0) AS HUGEINT)
            WHEN moved AND cache_retention IS NOT NULL AND coalesce(cache_read_tokens, 0) > 0
                 THEN CAST(round_even(cache_read_tokens * cache_retention, 0) AS HUGEINT)
                 ELSE cache_read_tokens END AS cache_read_tokens
        )
    FROM scaled
),
written AS (
    SELECT
        * REPLACE (
            CASE WHEN moved AND writes_as_input
                      AND (coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)) > 0
                 THEN coalesce(input_tokens, 0) + coalesce(cache_write_5m_tokens, 0)
                      + coalesce(cache_write_1h_tokens, 0)
                 ELSE input_tokens END AS input_tokens,
            CASE WHEN moved AND writes_as_input AND cache_write_5m_tokens IS NOT NULL THEN 0
                 ELSE cache_write_5m_tokens END AS cache_write_5m_tokens,
            CASE WHEN moved AND writes_as_input AND cache_write_1h_tokens IS NOT NULL THEN 0
                 ELSE cache_write_1h_tokens END AS cache_write_1h_tokens
        )
    FROM cached
),
parts AS (
    SELECT * FROM (VALUES ('whole'), ('batch'), ('interactive')) AS part_names (part)
),
split AS (
    SELECT
        written.*,
        parts.part
    FROM written
    JOIN parts
        ON CASE
            WHEN NOT moved OR batch_share IS NULL THEN parts.part = 'whole'
            WHEN parts.part = 'batch' THEN batch_share > 0
            WHEN parts.part = 'interactive' THEN batch_share < 1
            ELSE false
        END
),
-- batch part: round(c × s); interactive part: c − round(c × s); whole: c. The counts are
-- every <class>_tokens column of the schema's token classes (finops.core.schema.TOKEN_CLASSES),
-- reasoning_tokens, requests and web_search_requests: one rule, expanded by COLUMNS(regex)
shared AS (
    SELECT
        COLUMNS(lambda c: NOT regexp_full_match(c, '[a-z0-9_]+_tokens|requests|web_search_requests')),
        CASE part
            WHEN 'whole' THEN COLUMNS('^([a-z0-9_]+_tokens|requests|web_search_requests)$')
            WHEN 'batch' THEN CAST(round_even(
                COLUMNS('^([a-z0-9_]+_tokens|requests|web_search_requests)$') * batch_share, 0
            ) AS HUGEINT)
            ELSE COLUMNS('^([a-z0-9_]+_tokens|requests|web_search_requests)$') - CAST(round_even(
                COLUMNS('^([a-z0-9_]+_tokens|requests|web_search_requests)$') * batch_share, 0
            ) AS HUGEINT)
        END
    FROM split
)
SELECT
    * EXCLUDE (
        plan_variant, plan_move, target_provider, target_model, input_ratio, output_ratio,
        cache_hit_rate, cache_retention, writes_as_input, batch_share, target_service_tier,
        plan_discount_factor
    )
    REPLACE (
        coalesce(CAST($pricing_day AS DATE), day) AS day,
        CASE WHEN moved THEN target_provider ELSE provider END AS provider,
        CASE WHEN moved THEN target_model ELSE model END AS model,
        CASE
            WHEN NOT moved THEN service_tier
            WHEN part = 'batch' THEN 'batch'
            WHEN part = 'whole' AND service_tier = 'batch' THEN 'batch'
            WHEN target_service_tier IS NOT NULL THEN target_service_tier
            WHEN service_tier = 'batch' THEN 'standard'
            ELSE service_tier
        END AS service_tier,
        CASE WHEN moved THEN CAST(NULL AS DECIMAL(38, 12)) ELSE reported_cost_usd END
            AS reported_cost_usd
    ),
    CASE WHEN moved THEN plan_discount_factor ELSE CAST(1 AS DECIMAL(18, 6)) END
        AS discount_factor
FROM shared
