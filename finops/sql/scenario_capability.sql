-- scenario_capability: what each check's target would have to take from its move's source rows
-- (scoped_usage over usage rows, so request and bucket grain are known). A check is a move, a
-- target (rows already on it are left out: they run there today), its context window (NULL:
-- not listed) and token ratios; text tokens are rescaled by the ratios (round half-even), audio
-- and image tokens are kept. Per check:
--   requests_over_window        request rows whose prompt + output pass the window
--   buckets_over_window         bucket rows whose average request passes the window
--   buckets_near_window         bucket rows whose average request passes half of it
--   bucket_rows_without_requests  bucket rows that give no request count (cannot be checked)
--   long_context_bucket_rows    bucket rows the source billed as long-context
--   requests_changing_band      request rows whose rescaled prompt crosses a long-context
--                               threshold of $thresholds (priced at their source band)
--   *_audio_tokens, *_image_tokens  media the target must accept
-- reads: scoped_usage
WITH checks AS (
    SELECT
        unnest(CAST($check_id AS INTEGER[])) AS check_id,
        unnest(CAST($check_move AS INTEGER[])) AS move_index,
        unnest(CAST($check_provider AS VARCHAR[])) AS target_provider,
        unnest(CAST($check_model AS VARCHAR[])) AS target_model,
        unnest(CAST($check_window AS BIGINT[])) AS context_window,
        unnest(CAST($check_input_ratio AS DECIMAL(18, 6)[])) AS input_ratio,
        unnest(CAST($check_output_ratio AS DECIMAL(18, 6)[])) AS output_ratio
),
sized AS (
    SELECT
        move_index,
        provider,
        model_key,
        grain,
        requests,
        coalesce(long_context, false) AS long_context,
        coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
            + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
            AS text_prompt_tokens,
        coalesce(input_audio_tokens, 0) + coalesce(input_image_tokens, 0) AS media_prompt_tokens,
        coalesce(output_tokens, 0) AS text_output_tokens,
        coalesce(output_audio_tokens, 0) + coalesce(output_image_tokens, 0) AS media_output_tokens,
        coalesce(input_audio_tokens, 0) AS input_audio_tokens,
        coalesce(output_audio_tokens, 0) AS output_audio_tokens,
        coalesce(input_image_tokens, 0) AS input_image_tokens,
        coalesce(output_image_tokens, 0) AS output_image_tokens
    FROM scoped_usage
    WHERE move_index IS NOT NULL
),
rescaled AS (
    SELECT
        checks.check_id,
        checks.context_window,
        sized.*,
        sized.text_prompt_tokens + sized.media_prompt_tokens AS prompt_tokens_before,
        CAST(round_even(sized.text_prompt_tokens * checks.input_ratio, 0) AS HUGEINT)
            + sized.media_prompt_tokens AS prompt_tokens_after,
        CAST(round_even(sized.text_output_tokens * checks.output_ratio, 0) AS HUGEINT)
            + sized.media_output_tokens AS output_tokens_after
    FROM checks
    JOIN sized
        ON sized.move_index = checks.move_index
       AND NOT (sized.provider = checks.target_provider AND sized.model_key = checks.target_model)
),
sized_requests AS (
    SELECT
        *,
        prompt_tokens_after + output_tokens_after AS request_tokens_after
    FROM rescaled
)
SELECT
    check_id,
    CAST(count(*) FILTER (WHERE grain = 'request') AS BIGINT) AS request_rows,
    CAST(count(*) FILTER (
        WHERE grain = 'request' AND request_tokens_after > context_window
    ) AS BIGINT) AS requests_over_window,
    CAST(max(request_tokens_after) FILTER (WHERE grain = 'request') AS HUGEINT)
        AS largest_request_tokens,
    CAST(count(*) FILTER (WHERE grain = 'bucket') AS BIGINT) AS bucket_rows,
    CAST(count(*) FILTER (
        WHERE grain = 'bucket' AND coalesce(requests, 0) = 0
    ) AS BIGINT) AS bucket_rows_without_requests,
    CAST(count(*) FILTER (
        WHERE grain = 'bucket' AND requests > 0 AND request_tokens_after > context_window * requests
    ) AS BIGINT) AS buckets_over_window,
    CAST(count(*) FILTER (
        WHERE grain = 'bucket' AND requests > 0
          AND 2 * request_tokens_after > context_window * requests
          AND request_tokens_after <= context_window * requests
    ) AS BIGINT) AS buckets_near_window,
    CAST(max(request_tokens_after // requests) FILTER (WHERE grain = 'bucket' AND requests > 0)
         AS HUGEINT) AS largest_bucket_average_tokens,
    CAST(count(*) FILTER (WHERE grain = 'bucket' AND long_context) AS BIGINT)
        AS long_context_bucket_rows,
    CAST(count(*) FILTER (
        WHERE grain = 'request'
          AND len(list_filter(
              CAST($thresholds AS BIGINT[]),
              lambda t: (t < prompt_tokens_before) <> (t < prompt_tokens_after)
          )) > 0
    ) AS BIGINT) AS requests_changing_band,
    CAST(sum(input_audio_tokens) AS HUGEINT) AS input_audio_tokens,
    CAST(sum(output_audio_tokens) AS HUGEINT) AS output_audio_tokens,
    CAST(sum(input_image_tokens) AS HUGEINT) AS input_image_tokens,
    CAST(sum(output_image_tokens) AS HUGEINT) AS output_image_tokens
FROM sized_requests
GROUP BY check_id
