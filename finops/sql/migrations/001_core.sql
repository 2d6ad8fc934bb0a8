-- 001_core: the store's first shape — canonical usage, ingests, daily rollup, catalog revisions.

CREATE TABLE ingests (
    ingest_id       BIGINT PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    source_kind     VARCHAR NOT NULL,
    files           VARCHAR[] NOT NULL,
    rows_read       BIGINT NOT NULL,
    rows_new        BIGINT NOT NULL,
    rows_duplicate  BIGINT NOT NULL,
    rows_replaced   BIGINT NOT NULL
);

CREATE TABLE usage (
    period_start            TIMESTAMP NOT NULL,
    period_end              TIMESTAMP,
    provider                VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,
    requests                BIGINT,
    input_tokens            BIGINT,
    cache_read_tokens       BIGINT,
    cache_write_5m_tokens   BIGINT,
    cache_write_1h_tokens   BIGINT,
    output_tokens           BIGINT,
    input_audio_tokens      BIGINT,
    output_audio_tokens     BIGINT,
    input_image_tokens      BIGINT,
    output_image_tokens     BIGINT,
    reasoning_tokens        BIGINT,
    web_search_requests     BIGINT,
    service_tier            VARCHAR NOT NULL,
    long_context            BOOLEAN,
    project_id              VARCHAR,
    api_key_id              VARCHAR,
    user_id                 VARCHAR,
    team                    VARCHAR,
    tags                    JSON,
    request_id              VARCHAR,
    reported_cost_usd       DECIMAL(38,12),
    grain                   VARCHAR NOT NULL,
    source_kind             VARCHAR NOT NULL,
    source_file             VARCHAR NOT NULL,
    source_row              BIGINT NOT NULL,
    ingest_id               BIGINT NOT NULL,
    row_key                 VARCHAR NOT NULL
);

-- Usage rolled up by day and every price-relevant and owner key; prices are applied on read,
-- so any catalog revision can price it. prompt_band: the largest long-context threshold
-- (from rollup_state.thresholds) the request's prompt passes, 0 when none.
CREATE TABLE daily_usage (
    day                     DATE NOT NULL,
    provider                VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,
    service_tier            VARCHAR NOT NULL,
    prompt_band             BIGINT NOT NULL,
    project_id              VARCHAR,
    api_key_id              VARCHAR,
    team                    VARCHAR,
    usage_rows              BIGINT NOT NULL,
    requests                HUGEINT,
    input_tokens            HUGEINT,
    cache_read_tokens       HUGEINT,
    cache_write_5m_tokens   HUGEINT,
    cache_write_1h_tokens   HUGEINT,
    output_tokens           HUGEINT,
    input_audio_tokens      HUGEINT,
    output_audio_tokens     HUGEINT,
    input_image_tokens      HUGEINT,
    output_image_tokens     HUGEINT,
    reasoning_tokens        HUGEINT,
    web_search_requests     HUGEINT,
    reported_cost_usd       DECIMAL(38,12)
);

CREATE TABLE rollup_state (
    thresholds      BIGINT[] NOT NULL,
    built_at        TIMESTAMP NOT NULL
);

CREATE TABLE catalog_revisions (
    revision_id     INTEGER PRIMARY KEY,
    content_hash    VARCHAR NOT NULL UNIQUE,
    loaded_at       TIMESTAMP NOT NULL,
    source          VARCHAR NOT NULL,
    label           VARCHAR,
    model_count     INTEGER NOT NULL,
    price_row_count INTEGER NOT NULL
);

CREATE TABLE catalog_models (
    revision_id     INTEGER NOT NULL,
    provider        VARCHAR NOT NULL,
    model_id        VARCHAR NOT NULL,
    kind            VARCHAR,
    context_window  BIGINT,
    input_modalities VARCHAR[],
    output_modalities VARCHAR[],
    deprecated_on   DATE,
    successor       VARCHAR,
    source_file     VARCHAR NOT NULL
);

CREATE TABLE catalog_aliases (
    revision_id     INTEGER NOT NULL,
    provider        VARCHAR NOT NULL,
    alias           VARCHAR NOT NULL,
    model_id        VARCHAR NOT NULL
);

-- One row per (model, price period, service tier, long-context band); rates in USD per token,
-- exact. A NULL rate means "no price for this class" (unpriced), never zero.
CREATE TABLE catalog_prices (
    revision_id              INTEGER NOT NULL,
    provider                 VARCHAR NOT NULL,
    model_id                 VARCHAR NOT NULL,
    period_index             INTEGER NOT NULL,
    valid_from               DATE NOT NULL,
    valid_to                 DATE,
    service_tier             VARCHAR NOT NULL,
    above_tokens             BIGINT NOT NULL,
    below_tokens             BIGINT,
    source                   VARCHAR,
    usd_per_input            DECIMAL(38,12),
    usd_per_cache_read       DECIMAL(38,12),
    usd_per_cache_write_5m   DECIMAL(38,12),
    usd_per_cache_write_1h   DECIMAL(38,12),
    usd_per_output           DECIMAL(38,12),
    usd_per_input_audio      DECIMAL(38,12),
    usd_per_output_audio     DECIMAL(38,12),
    usd_per_input_image      DECIMAL(38,12),
    usd_per_output_image     DECIMAL(38,12),
    usd_per_request          DECIMAL(38,12),
    usd_per_web_search       DECIMAL(38,12)
);
