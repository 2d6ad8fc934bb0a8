-- 007_time_of_day: prices by hour of the day (UTC), as DeepSeek bills since 2026-08-17.
-- catalog_prices.hours_of_week: the hours of the week (Monday 00:00 UTC = 0 .. Sunday 23:00 = 167)
-- a price row applies to; NULL = every hour. time_window: 'peak' or 'off_peak' on the rows of a
-- period with an off-peak block, NULL elsewhere. daily_usage.hour_utc: the UTC hour of a request
-- or an hourly (or shorter) bucket, kept only for providers that price by hour
-- (rollup_state.hourly_providers); NULL for coarser rows, which are priced at the peak rate.
ALTER TABLE catalog_prices ADD COLUMN hours_of_week SMALLINT[];
ALTER TABLE catalog_prices ADD COLUMN time_window VARCHAR;
ALTER TABLE daily_usage ADD COLUMN hour_utc TINYINT;
ALTER TABLE rollup_state ADD COLUMN hourly_providers VARCHAR[];
