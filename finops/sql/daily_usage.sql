-- daily_usage: usage_rows rolled up by day and every price-relevant and owner key. Cost is
-- linear in tokens, so pricing this rollup is exact and far cheaper than pricing every row.
-- reads: usage_rows
SELECT
    day,
    provider,
    model,
    service_tier,
    prompt_band,
    hour_utc,
    project_id,
    api_key_id,
    team,
    user_id,
    CAST(tags AS VARCHAR) AS tags,
    CAST(count(*) AS BIGINT) AS usage_rows,
    sum(requests) AS requests,
    sum(input_tokens) AS input_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_5m_tokens) AS cache_write_5m_tokens,
    sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
    sum(output_tokens) AS output_tokens,
    sum(input_audio_tokens) AS input_audio_tokens,
    sum(output_audio_tokens) AS output_audio_tokens,
    sum(input_image_tokens) AS input_image_tokens,
    sum(output_image_tokens) AS output_image_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(web_search_requests) AS web_search_requests,
    CAST(sum(reported_cost_usd) AS DECIMAL(38, 12)) AS reported_cost_usd
FROM usage_rows
GROUP BY ALL
