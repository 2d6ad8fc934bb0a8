-- 002_owner_keys: keep user_id and tags in the daily rollup, so allocation rules can match
-- users and tags; record allocation-map revisions like catalog revisions.

ALTER TABLE daily_usage ADD COLUMN user_id VARCHAR;
ALTER TABLE daily_usage ADD COLUMN tags VARCHAR;
-- the rollup is rebuilt with the new keys the next time a session opens the store
DELETE FROM daily_usage;
DELETE FROM rollup_state;

CREATE TABLE allocation_revisions (
    revision_id     INTEGER PRIMARY KEY,
    content_hash    VARCHAR NOT NULL UNIQUE,
    loaded_at       TIMESTAMP NOT NULL,
    source          VARCHAR NOT NULL,
    team_count      INTEGER NOT NULL,
    rule_count      INTEGER NOT NULL
);
