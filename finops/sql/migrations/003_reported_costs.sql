-- 003_reported_costs: provider cost data sets (OpenAI Costs, Anthropic cost report, ...) are
-- kept apart from usage: they are what the provider billed, reconciled against, never added.
CREATE TABLE reported_costs AS SELECT * FROM usage WHERE false;
