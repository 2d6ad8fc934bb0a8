-- scenario_scope_days: the first and last day of a scenario's scoped usage (NULL when empty);
-- the forward view prices the last days of this span.
-- reads: scoped_usage
SELECT
    CAST(min(day) AS DATE) AS first_day,
    CAST(max(day) AS DATE) AS last_day
FROM scoped_usage
