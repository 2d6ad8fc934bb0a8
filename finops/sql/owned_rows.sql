-- owned_rows: rows_to_own (daily rollup rows or usage rows) with the owner the allocation map
-- gives their attribution keys (owner_map_view, registered by finops.pricing.allocation from
-- owner_map): a team, 'unallocated', or '__split:<rule>' for usage a split rule shares out.
-- Tags are compared as text, as the rollup keeps them. Portable SQL (Spark runs it too).
-- reads: rows_to_own
SELECT
    source.*,
    coalesce(owners.owner, 'unallocated') AS owner
FROM rows_to_own AS source
LEFT JOIN owner_map_view AS owners
    ON source.provider IS NOT DISTINCT FROM owners.provider
   AND source.model IS NOT DISTINCT FROM owners.model
   AND source.project_id IS NOT DISTINCT FROM owners.project_id
   AND source.api_key_id IS NOT DISTINCT FROM owners.api_key_id
   AND source.user_id IS NOT DISTINCT FROM owners.user_id
   AND source.team IS NOT DISTINCT FROM owners.team
   AND CAST(source.tags AS VARCHAR) IS NOT DISTINCT FROM owners.tags
