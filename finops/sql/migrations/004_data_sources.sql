-- 004_data_sources: where the store's data came from beyond uploads. `finops lake attach`
-- loads a daily rollup computed on Spark (no request rows come along): its days are listed
-- here so the Overview can say so, and so nothing rebuilds those days from `usage`.
CREATE TABLE data_sources (
    kind            VARCHAR NOT NULL,       -- 'lake'
    location        VARCHAR NOT NULL,       -- the lake output folder
    attached_at     TIMESTAMP NOT NULL,
    catalog_hash    VARCHAR NOT NULL,       -- the catalog the lake priced with
    thresholds      BIGINT[] NOT NULL,      -- the long-context bands the rollup was built for
    first_day       DATE,
    last_day        DATE,
    days            DATE[] NOT NULL,
    rollup_rows     BIGINT NOT NULL,
    usage_rows      BIGINT NOT NULL
);
