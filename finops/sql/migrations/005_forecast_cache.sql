-- 005_forecast_cache: the one spend forecast per store state (finops.analysis.forecast.state),
-- so every view reads the same numbers. state_key digests the usage, catalog revision, teams
-- map, contracts and "today"; each part (days, months, month_bounds, history) is a Parquet
-- file in body. change says what moved the forecast since the store's previous one.
CREATE TABLE forecast_cache (
    state_key   VARCHAR NOT NULL,
    made_at     TIMESTAMP NOT NULL,
    as_of       DATE NOT NULL,
    horizon_end DATE NOT NULL,
    revision_id INTEGER NOT NULL,
    change      VARCHAR,
    part        VARCHAR NOT NULL,
    body        BLOB NOT NULL,
    PRIMARY KEY (state_key, part)
);
