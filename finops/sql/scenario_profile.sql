-- scenario_profile: what the scope's usage looks like, by team, provider, catalog model and
-- service tier (scoped_usage over the daily rollup): the counts the savings opportunities are
-- judged on. prompt_tokens are every input class (uncached, cache read, cache writes, audio,
-- image); requests and prompt_tokens_with_requests count only rows that report requests, so
-- prompt_tokens_with_requests / requests is the prompt size per request.
-- reads: scoped_usage
SELECT
    coalesce(team, 'unallocated') AS team,
    provider,
    model_key,
    service_tier,
    CAST(sum(usage_rows) AS BIGINT) AS usage_rows,
    CAST(coalesce(sum(requests), 0) AS HUGEINT) AS requests,
    CAST(coalesce(sum(
        coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
        + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
        + coalesce(input_audio_tokens, 0) + coalesce(input_image_tokens, 0)
    ), 0) AS HUGEINT) AS prompt_tokens,
    CAST(coalesce(sum(
        coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
        + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
        + coalesce(input_audio_tokens, 0) + coalesce(input_image_tokens, 0)
    ) FILTER (WHERE coalesce(requests, 0) > 0), 0) AS HUGEINT) AS prompt_tokens_with_requests,
    CAST(coalesce(sum(cache_read_tokens), 0) AS HUGEINT) AS cache_read_tokens,
    CAST(coalesce(sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)), 0) AS HUGEINT)
        AS text_prompt_tokens
FROM scoped_usage
GROUP BY ALL
