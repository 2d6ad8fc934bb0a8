-- contract_terms: the contract terms a session prices effective cost with (a temp table,
-- filled from contracts.yaml by finops.pricing.contracts; empty = effective cost equals list cost).
-- priority: lower wins when several terms apply to a model on a day.
CREATE TEMP TABLE IF NOT EXISTS contract_terms (
    term_id                  INTEGER NOT NULL,
    name                     VARCHAR NOT NULL,
    provider                 VARCHAR NOT NULL,
    model_id                 VARCHAR,
    valid_from               DATE NOT NULL,
    valid_to                 DATE,
    priority                 INTEGER NOT NULL,
    list_factor              DECIMAL(9, 6) NOT NULL,
    has_rates                BOOLEAN NOT NULL,
    usd_per_input            DECIMAL(38, 12),
    usd_per_cache_read       DECIMAL(38, 12),
    usd_per_cache_write_5m   DECIMAL(38, 12),
    usd_per_cache_write_1h   DECIMAL(38, 12),
    usd_per_output           DECIMAL(38, 12),
    usd_per_input_audio      DECIMAL(38, 12),
    usd_per_output_audio     DECIMAL(38, 12),
    usd_per_input_image      DECIMAL(38, 12),
    usd_per_output_image     DECIMAL(38, 12)
)
