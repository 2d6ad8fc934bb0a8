-- priced_usage: usage_to_price (per-row usage or its daily rollup) priced with catalog revision
-- $revision_id, giving list cost (cost_usd) and effective cost after contracts. The price in force on the row's day applies (range join on valid_from/valid_to),
-- for its service tier and long-context band. cost_usd is NULL — never 0 — when the model, the
-- tier or any token class with tokens has no price; unpriced_reason says which.
-- reads: usage_to_price
WITH known_providers AS (
    SELECT DISTINCT provider FROM catalog_aliases WHERE revision_id = CAST($revision_id AS INTEGER)
),
-- a provider the catalog does not know: its usage is unpriced, naming the closest known provider
unknown_providers AS (
    SELECT
        u.provider,
        arg_min(k.provider, CASE WHEN contains(u.provider, k.provider) THEN 0
                                 ELSE levenshtein(u.provider, k.provider) END) AS closest_provider
    FROM (SELECT DISTINCT provider FROM usage_to_price) AS u
    CROSS JOIN known_providers AS k
    WHERE u.provider NOT IN (SELECT provider FROM known_providers)
    GROUP BY u.provider
),
resolved AS (
    SELECT
        u.*,
        -- the model's own name; else a gateway-style 'vendor/model' by the part after the slash
        coalesce(alias.model_id, bare.model_id) AS model_id,
        unknown.closest_provider,
        unknown.provider IS NOT NULL AS unknown_provider
    FROM usage_to_price AS u
    LEFT JOIN catalog_aliases AS alias
        ON alias.revision_id = CAST($revision_id AS INTEGER)
       AND alias.provider = u.provider
       AND alias.alias = CASE WHEN lower(u.model) LIKE 'ft:%:%'  -- a fine-tune: its base's ft: model
           THEN 'ft:' || split_part(lower(u.model), ':', 2) ELSE lower(u.model) END
    LEFT JOIN catalog_aliases AS bare
        ON alias.model_id IS NULL
       AND bare.revision_id = CAST($revision_id AS INTEGER)
       AND bare.provider = u.provider
       AND u.model LIKE '%/%'
       AND bare.alias = lower(substr(u.model, strpos(u.model, '/') + 1))
    LEFT JOIN unknown_providers AS unknown
        ON unknown.provider = u.provider
),
matched AS (
    SELECT
        r.*,
        price.period_index AS price_period,
        price.valid_from AS price_valid_from,
        price.above_tokens AS price_above_tokens,
        price.usd_per_input,
        price.usd_per_cache_read,
        price.usd_per_cache_write_5m,
        price.usd_per_cache_write_1h,
        price.usd_per_output,
        price.usd_per_input_audio,
        price.usd_per_output_audio,
        price.usd_per_input_image,
        price.usd_per_output_image,
        price.usd_per_request,
        price.usd_per_web_search,
        price.time_window AS price_time_window
    FROM resolved AS r
    LEFT JOIN catalog_prices AS price
        ON price.revision_id = CAST($revision_id AS INTEGER)
       AND price.provider = r.provider
       AND price.model_id = r.model_id
       AND price.service_tier = r.service_tier
       AND r.day >= price.valid_from
       AND (price.valid_to IS NULL OR r.day < price.valid_to)
       AND price.above_tokens <= r.prompt_band
       AND (price.below_tokens IS NULL OR r.prompt_band < price.below_tokens)
       -- time-of-day prices: a row with an hour takes the window holding its hour of the week;
       -- a row without one (a day or longer) cannot be split and takes the peak rate
       AND (price.hours_of_week IS NULL
            OR (r.hour_utc IS NULL AND price.time_window = 'peak')
            OR list_contains(price.hours_of_week,
                             CAST((isodow(r.day) - 1) * 24 + r.hour_utc AS SMALLINT)))
),
costed AS (
    SELECT
        *,
        input_tokens * usd_per_input AS input_cost_usd,
        cache_read_tokens * usd_per_cache_read AS cache_read_cost_usd,
        cache_write_5m_tokens * usd_per_cache_write_5m AS cache_write_5m_cost_usd,
        cache_write_1h_tokens * usd_per_cache_write_1h AS cache_write_1h_cost_usd,
        output_tokens * usd_per_output AS output_cost_usd,
        input_audio_tokens * usd_per_input_audio AS input_audio_cost_usd,
        output_audio_tokens * usd_per_output_audio AS output_audio_cost_usd,
        input_image_tokens * usd_per_input_image AS input_image_cost_usd,
        output_image_tokens * usd_per_output_image AS output_image_cost_usd,
        requests * usd_per_request AS request_fee_usd,
        web_search_requests * usd_per_web_search AS web_search_cost_usd,
        CASE
            WHEN unknown_provider THEN 'unknown provider'
                || coalesce(' (closest known: ' || closest_provider || ')', '')
            WHEN model_id IS NULL THEN 'unknown model'
            WHEN price_period IS NULL THEN
                'no ' || service_tier || ' price'
                || CASE WHEN prompt_band > 0
                        THEN ' for prompts over ' || CAST(prompt_band AS VARCHAR) || ' tokens' ELSE '' END
                || ' in force that day'
            ELSE nullif(concat_ws(', ',
                CASE WHEN coalesce(input_tokens, 0) > 0 AND usd_per_input IS NULL THEN 'input' END,
                CASE WHEN coalesce(cache_read_tokens, 0) > 0 AND usd_per_cache_read IS NULL THEN 'cache_read' END,
                CASE WHEN coalesce(cache_write_5m_tokens, 0) > 0 AND usd_per_cache_write_5m IS NULL THEN 'cache_write_5m' END,
                CASE WHEN coalesce(cache_write_1h_tokens, 0) > 0 AND usd_per_cache_write_1h IS NULL THEN 'cache_write_1h' END,
                CASE WHEN coalesce(output_tokens, 0) > 0 AND usd_per_output IS NULL THEN 'output' END,
                CASE WHEN coalesce(input_audio_tokens, 0) > 0 AND usd_per_input_audio IS NULL THEN 'input_audio' END,
                CASE WHEN coalesce(output_audio_tokens, 0) > 0 AND usd_per_output_audio IS NULL THEN 'output_audio' END,
                CASE WHEN coalesce(input_image_tokens, 0) > 0 AND usd_per_input_image IS NULL THEN 'input_image' END,
                CASE WHEN coalesce(output_image_tokens, 0) > 0 AND usd_per_output_image IS NULL THEN 'output_image' END,
                CASE WHEN coalesce(web_search_requests, 0) > 0 AND usd_per_web_search IS NULL THEN 'web_search' END,
                CASE WHEN coalesce(usd_per_request, 0) > 0 AND requests IS NULL THEN 'request count' END
            ), '')
        END AS unpriced_classes
    FROM matched
),
listed AS (
    SELECT
    * EXCLUDE (unpriced_classes, closest_provider, unknown_provider),
    CASE
        WHEN model_id IS NULL OR price_period IS NULL THEN unpriced_classes
        WHEN unpriced_classes IS NOT NULL THEN 'no price for ' || unpriced_classes
    END AS unpriced_reason,
    CASE WHEN model_id IS NOT NULL AND price_period IS NOT NULL AND unpriced_classes IS NULL THEN
        CAST(
            coalesce(input_cost_usd, 0) + coalesce(cache_read_cost_usd, 0)
            + coalesce(cache_write_5m_cost_usd, 0) + coalesce(cache_write_1h_cost_usd, 0)
            + coalesce(output_cost_usd, 0) + coalesce(input_audio_cost_usd, 0)
            + coalesce(output_audio_cost_usd, 0) + coalesce(input_image_cost_usd, 0)
            + coalesce(output_image_cost_usd, 0) + coalesce(request_fee_usd, 0)
            + coalesce(web_search_cost_usd, 0)
        AS DECIMAL(38, 12))
    END AS cost_usd
    FROM costed
),
-- contracts (temp table contract_terms, filled from contracts.yaml): the most specific term
-- in force on the day applies; effective cost = list cost, or negotiated rates where given,
-- times the term's list_factor (1 - discount)
term_keys AS (
    SELECT DISTINCT provider, model_id, day FROM listed WHERE cost_usd IS NOT NULL
),
best_term AS (
    SELECT k.provider, k.model_id, k.day, arg_min(t.term_id, t.priority) AS term_id
    FROM term_keys AS k
    JOIN contract_terms AS t
        ON t.provider = k.provider
       AND (t.model_id IS NULL OR t.model_id = k.model_id)
       AND k.day >= t.valid_from
       AND (t.valid_to IS NULL OR k.day < t.valid_to)
    GROUP BY ALL
)
SELECT
    l.*,
    t.name AS contract,
    CASE
        WHEN l.cost_usd IS NULL THEN NULL
        WHEN t.term_id IS NULL THEN l.cost_usd
        -- negotiated unit prices cover standard-tier, base-band usage; other tiers and
        -- long-context bands stay at list (times the term's factor)
        WHEN t.has_rates AND l.service_tier = 'standard' AND l.price_above_tokens = 0 THEN CAST((
            coalesce(l.input_tokens * coalesce(t.usd_per_input, l.usd_per_input), 0)
            + coalesce(l.cache_read_tokens * coalesce(t.usd_per_cache_read, l.usd_per_cache_read), 0)
            + coalesce(l.cache_write_5m_tokens * coalesce(t.usd_per_cache_write_5m, l.usd_per_cache_write_5m), 0)
            + coalesce(l.cache_write_1h_tokens * coalesce(t.usd_per_cache_write_1h, l.usd_per_cache_write_1h), 0)
            + coalesce(l.output_tokens * coalesce(t.usd_per_output, l.usd_per_output), 0)
            + coalesce(l.input_audio_tokens * coalesce(t.usd_per_input_audio, l.usd_per_input_audio), 0)
            + coalesce(l.output_audio_tokens * coalesce(t.usd_per_output_audio, l.usd_per_output_audio), 0)
            + coalesce(l.input_image_tokens * coalesce(t.usd_per_input_image, l.usd_per_input_image), 0)
            + coalesce(l.output_image_tokens * coalesce(t.usd_per_output_image, l.usd_per_output_image), 0)
            + coalesce(l.request_fee_usd, 0) + coalesce(l.web_search_cost_usd, 0)
        ) * t.list_factor AS DECIMAL(38, 12))
        ELSE CAST(l.cost_usd * t.list_factor AS DECIMAL(38, 12))
    END AS effective_cost_usd,
    CAST($revision_id AS INTEGER) AS catalog_revision
FROM listed AS l
LEFT JOIN best_term AS b
    ON b.provider = l.provider AND b.model_id = l.model_id AND b.day = l.day
LEFT JOIN contract_terms AS t
    ON t.term_id = b.term_id
