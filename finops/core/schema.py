"""The canonical usage schema: one definition every source maps into.

Token classes are disjoint and add up to the billed total. "Not reported" is NULL, never 0.
The same columns form a documented import format (CSV or Parquet); see :data:`IMPORT_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ASSUMPTION_NAMES",
    "COUNT_COLUMNS",
    "DIMENSION_COLUMNS",
    "GRAINS",
    "IMPORT_COLUMNS",
    "REQUIRED_IMPORT_COLUMNS",
    "SERVICE_TIERS",
    "SPEND_KEYS",
    "TEXT_COLUMNS",
    "TOKEN_CLASSES",
    "USAGE_COLUMNS",
    "Column",
    "column_names",
]

#: Disjoint token classes, in the order reports show them. Each has a `<class>_tokens` column.
TOKEN_CLASSES: tuple[str, ...] = (
    "input",  # uncached text input
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "output",  # includes reasoning
    "input_audio",
    "output_audio",
    "input_image",
    "output_image",
)

SERVICE_TIERS: tuple[str, ...] = ("standard", "batch", "priority", "flex")
#: What a model-swap scenario may assume about the moved traffic (`finops simulate --assume`).
ASSUMPTION_NAMES: tuple[str, ...] = (
    "input_token_ratio",
    "output_token_ratio",
    "cache_hit_rate",
    "batch_share",
    "service_tier",
    "contract_discount_pct",
)
GRAINS: tuple[str, ...] = ("request", "bucket")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str
    required: bool = False
    importable: bool = True  # part of the documented CSV/Parquet import format


_TOKEN_COLUMNS = tuple(
    Column(f"{cls}_tokens", "BIGINT", f"{cls.replace('_', ' ')} tokens") for cls in TOKEN_CLASSES
)

USAGE_COLUMNS: tuple[Column, ...] = (
    Column("period_start", "TIMESTAMP", "start of the request or bucket, UTC", required=True),
    Column("period_end", "TIMESTAMP", "end of the bucket (exclusive), UTC; NULL for a request"),
    Column(
        "provider",
        "VARCHAR",
        "who bills it: openai, anthropic, google, aws-bedrock, ...",
        required=True,
    ),
    Column("model", "VARCHAR", "model name as the source wrote it", required=True),
    Column("requests", "BIGINT", "number of model requests"),
    *_TOKEN_COLUMNS,
    Column("reasoning_tokens", "BIGINT", "reasoning tokens: a subset of output, informational"),
    Column("web_search_requests", "BIGINT", "server-side web searches (billed per search)"),
    Column("service_tier", "VARCHAR", "standard | batch | priority | flex"),
    Column(
        "long_context",
        "BOOLEAN",
        "bucket rows only: the bucket is the provider's long-context tier",
    ),
    Column("project_id", "VARCHAR", "project or workspace"),
    Column("api_key_id", "VARCHAR", "API key id or name"),
    Column("user_id", "VARCHAR", "user or end user"),
    Column("team", "VARCHAR", "owning team as the source states it"),
    Column("tags", "JSON", "free-form labels, a JSON object"),
    Column("request_id", "VARCHAR", "the provider's request id, when there is one"),
    Column("reported_cost_usd", "DECIMAL(38,12)", "cost the source itself reports (USD)"),
    # lineage and bookkeeping, set by ingest
    Column("grain", "VARCHAR", "request | bucket", importable=False),
    Column("source_kind", "VARCHAR", "detected source format", importable=False),
    Column("source_file", "VARCHAR", "file the row came from", importable=False),
    Column(
        "source_row", "BIGINT", "row (1-based, header excluded) or record number", importable=False
    ),
    Column("ingest_id", "BIGINT", "the upload that wrote the row", importable=False),
    Column(
        "row_key",
        "VARCHAR",
        "natural key: the same usage always gets the same key",
        importable=False,
    ),
)

IMPORT_COLUMNS: tuple[Column, ...] = tuple(c for c in USAGE_COLUMNS if c.importable)
REQUIRED_IMPORT_COLUMNS: tuple[str, ...] = tuple(c.name for c in IMPORT_COLUMNS if c.required)

#: Columns that say who or what used the tokens (a change in them is a different usage row).
#: Row keys hash them in this order: never reorder them.
DIMENSION_COLUMNS: tuple[str, ...] = (
    "provider",
    "model",
    "service_tier",
    "long_context",
    "project_id",
    "api_key_id",
    "user_id",
    "team",
    "tags",
)
#: Whole-number measures of a usage row: requests and every token count.
COUNT_COLUMNS: tuple[str, ...] = (
    "requests",
    *(f"{c}_tokens" for c in TOKEN_CLASSES),
    "reasoning_tokens",
    "web_search_requests",
)
#: Free-text columns, trimmed on import (blank is NULL).
TEXT_COLUMNS: tuple[str, ...] = (
    "provider",
    "model",
    "project_id",
    "api_key_id",
    "user_id",
    "team",
    "request_id",
)

#: Keys `finops spend --by` accepts (an allowlist: identifiers never come from user strings).
SPEND_KEYS: tuple[str, ...] = (
    "day",
    "month",
    "provider",
    "model",
    "team",
    "project_id",
    "api_key_id",
    "service_tier",
)


def column_names(columns: tuple[Column, ...] = USAGE_COLUMNS) -> list[str]:
    """Names of the given columns, in schema order.

    >>> column_names()[:3]
    ['period_start', 'period_end', 'provider']
    """
    return [c.name for c in columns]
