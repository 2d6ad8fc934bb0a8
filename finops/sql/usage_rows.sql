-- usage_rows: canonical usage rows in the day range [$from_day, $to_day) (NULL = open), each
-- with its UTC day and prompt_band: the largest long-context threshold in $thresholds that the
-- request's prompt passes (0 when none). Bucket rows cannot show a prompt size; the source's
-- long_context flag puts them in the highest band. hour_utc: the UTC hour of a request or of
-- a bucket of an hour or less, for providers in $hourly_providers (time-of-day prices), else
-- NULL. usage_rows = 1 lets rows and rollups be counted alike.
SELECT
    CAST(period_start AS DATE) AS day,
    CASE
        WHEN grain = 'bucket' THEN
            CASE WHEN long_context THEN coalesce(list_max(CAST($thresholds AS BIGINT[])), 0) ELSE 0 END
        WHEN coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
             + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
             + coalesce(input_audio_tokens, 0) + coalesce(input_image_tokens, 0)
             <= coalesce(list_min(CAST($thresholds AS BIGINT[])), 9223372036854775807) THEN 0
        ELSE coalesce(list_max(list_filter(
            CAST($thresholds AS BIGINT[]),
            lambda t: t < coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
                 + coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)
                 + coalesce(input_audio_tokens, 0) + coalesce(input_image_tokens, 0)
        )), 0)
    END AS prompt_band,
    CASE WHEN list_contains(CAST($hourly_providers AS VARCHAR[]), provider)
              AND (period_end IS NULL OR period_end <= period_start + INTERVAL 1 HOUR)
         THEN CAST(hour(period_start) AS TINYINT) END AS hour_utc,
    CAST(1 AS BIGINT) AS usage_rows,
    *
FROM usage
WHERE ($from_day IS NULL OR period_start >= CAST($from_day AS DATE))
  AND ($to_day IS NULL OR period_start < CAST($to_day AS DATE))
