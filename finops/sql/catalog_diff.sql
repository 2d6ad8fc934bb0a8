-- catalog_diff: every price (model × period × service tier × long-context band × price field)
-- that was added, removed or changed between catalog revisions $rev_a and $rev_b.
-- Rates are shown in USD per million tokens (fees per request / per search as they are).
WITH a_prices AS (
    UNPIVOT (SELECT * FROM catalog_prices WHERE revision_id = CAST($rev_a AS INTEGER))
    ON usd_per_input, usd_per_cache_read, usd_per_cache_write_5m, usd_per_cache_write_1h,
       usd_per_output, usd_per_input_audio, usd_per_output_audio, usd_per_input_image,
       usd_per_output_image, usd_per_request, usd_per_web_search
    INTO NAME price_field VALUE usd
),
b_prices AS (
    UNPIVOT (SELECT * FROM catalog_prices WHERE revision_id = CAST($rev_b AS INTEGER))
    ON usd_per_input, usd_per_cache_read, usd_per_cache_write_5m, usd_per_cache_write_1h,
       usd_per_output, usd_per_input_audio, usd_per_output_audio, usd_per_input_image,
       usd_per_output_image, usd_per_request, usd_per_web_search
    INTO NAME price_field VALUE usd
),
joined AS (
    SELECT
        coalesce(a.provider, b.provider) AS provider,
        coalesce(a.model_id, b.model_id) AS model_id,
        coalesce(a.valid_from, b.valid_from) AS valid_from,
        coalesce(a.service_tier, b.service_tier) AS service_tier,
        coalesce(a.above_tokens, b.above_tokens) AS above_tokens,
        coalesce(a.time_window, b.time_window) AS time_window,
        coalesce(a.price_field, b.price_field) AS price_field,
        a.valid_to AS valid_to_a,
        b.valid_to AS valid_to_b,
        a.usd AS usd_a,
        b.usd AS usd_b
    FROM a_prices AS a
    FULL OUTER JOIN b_prices AS b
        ON a.provider = b.provider
       AND a.model_id = b.model_id
       AND a.valid_from = b.valid_from
       AND a.service_tier = b.service_tier
       AND a.above_tokens = b.above_tokens
       AND a.time_window IS NOT DISTINCT FROM b.time_window
       AND a.price_field = b.price_field
)
SELECT
    provider,
    model_id,
    valid_from,
    CASE WHEN time_window IS NULL THEN service_tier
         ELSE service_tier || ' ' || replace(time_window, '_', '-') END AS service_tier,
    above_tokens,
    replace(price_field, 'usd_per_', '') AS price,
    CASE
        WHEN usd_a IS NULL THEN 'added'
        WHEN usd_b IS NULL THEN 'removed'
        WHEN usd_a <> usd_b THEN 'changed'
        ELSE 'period end changed'
    END AS change,
    CASE WHEN price_field IN ('usd_per_request', 'usd_per_web_search') THEN usd_a
         ELSE CAST(usd_a * 1000000 AS DECIMAL(38, 6)) END AS rate_a,
    CASE WHEN price_field IN ('usd_per_request', 'usd_per_web_search') THEN usd_b
         ELSE CAST(usd_b * 1000000 AS DECIMAL(38, 6)) END AS rate_b,
    valid_to_a,
    valid_to_b
FROM joined
WHERE usd_a IS DISTINCT FROM usd_b
   OR valid_to_a IS DISTINCT FROM valid_to_b
ORDER BY provider, model_id, valid_from, service_tier, above_tokens, price
