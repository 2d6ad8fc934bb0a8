-- scenario_source_providers: for each move, the providers its source rows in scope are billed
-- by. A target named without a provider is looked for there first.
-- reads: scoped_usage
SELECT
    move_index,
    list(DISTINCT provider ORDER BY provider) AS providers
FROM scoped_usage
WHERE move_index IS NOT NULL
GROUP BY move_index
