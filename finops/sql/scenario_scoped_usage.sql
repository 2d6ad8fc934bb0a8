-- scenario_scoped_usage: the rows of scope_source (daily rollup rows, or usage rows) inside a
-- scenario's scope, each with
--   model_key   its catalog model id at $revision_id, else its model name in lower case;
--   move_index  the first move whose source it matches (NULL: no move applies to it);
--   scope_row   an id that pairs the row with its repricing under every variant.
-- An empty scope list means "no filter"; a NULL team is matched as 'unallocated'. A move's
-- source matches when its keys hold the row's model_key and its provider (if given) is the row's.
-- reads: scope_source
WITH keyed AS (
    SELECT
        source.*,
        coalesce(alias.model_id, lower(source.model)) AS model_key
    FROM scope_source AS source
    LEFT JOIN catalog_aliases AS alias
        ON alias.revision_id = CAST($revision_id AS INTEGER)
       AND alias.provider = source.provider
       AND alias.alias = CASE WHEN lower(source.model) LIKE 'ft:%:%'  -- a fine-tune: its base's ft: model
           THEN 'ft:' || split_part(lower(source.model), ':', 2) ELSE lower(source.model) END
),
in_scope AS (
    SELECT *
    FROM keyed
    WHERE (len(CAST($scope_teams AS VARCHAR[])) = 0
           OR list_contains(CAST($scope_teams AS VARCHAR[]), coalesce(team, 'unallocated')))
      AND (len(CAST($scope_providers AS VARCHAR[])) = 0
           OR list_contains(CAST($scope_providers AS VARCHAR[]), provider))
      AND (len(CAST($scope_models AS VARCHAR[])) = 0
           OR list_contains(CAST($scope_models AS VARCHAR[]), model_key))
      AND (len(CAST($scope_projects AS VARCHAR[])) = 0
           OR list_contains(CAST($scope_projects AS VARCHAR[]), project_id))
      AND (len(CAST($scope_api_keys AS VARCHAR[])) = 0
           OR list_contains(CAST($scope_api_keys AS VARCHAR[]), api_key_id))
),
numbered AS (
    SELECT
        CAST(row_number() OVER () AS BIGINT) AS scope_row,
        *
    FROM in_scope
),
moves AS (
    SELECT
        unnest(CAST($move_index AS INTEGER[])) AS move_index,
        unnest(CAST($move_from_provider AS VARCHAR[])) AS from_provider,
        unnest(CAST($move_from_keys AS VARCHAR[][])) AS from_keys
)
SELECT
    numbered.*,
    moves.move_index
FROM numbered
LEFT JOIN moves
    ON (moves.from_provider IS NULL OR moves.from_provider = numbered.provider)
   AND list_contains(moves.from_keys, numbered.model_key)
QUALIFY row_number() OVER (PARTITION BY numbered.scope_row ORDER BY moves.move_index NULLS LAST) = 1
