-- stored_daily_usage: the materialized daily rollup in the day range [$from_day, $to_day).
SELECT *
FROM daily_usage
WHERE ($from_day IS NULL OR day >= CAST($from_day AS DATE))
  AND ($to_day IS NULL OR day < CAST($to_day AS DATE))
