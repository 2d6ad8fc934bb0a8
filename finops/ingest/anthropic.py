"""Anthropic exports: the Admin API usage and cost reports (JSON) and the Console CSVs.

Usage report input classes are already disjoint: `uncached_input_tokens`,
`cache_read_input_tokens`, `cache_creation.ephemeral_5m_input_tokens` and
`…ephemeral_1h_input_tokens` map one to one. `context_window` "200k-1M" marks the long-context
tier. Service tiers `priority_on_demand` and `flex_discount` are priced as priority and flex (the
source value stays in tags). Console usage CSVs older than the 1-hour cache split have one
`usage_input_tokens_cache_write` column: 5-minute writes, the only kind there was.

The cost report (amounts in cents, as decimal strings) and the Console cost CSV (dollars) are
cost data sets: reconciled against, never added to usage.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    count,
    head_matches,
    iter_csv_records,
    natural_key,
    report_results,
    tags_json,
    token_class,
)

__all__ = ["ANTHROPIC_COSTS", "ANTHROPIC_COSTS_CSV", "ANTHROPIC_USAGE", "ANTHROPIC_USAGE_CSV"]

#: Anthropic service tiers → canonical tiers (prices are per canonical tier).
_TIERS = {
    "standard": "standard",
    "batch": "batch",
    "priority": "priority",
    "priority_on_demand": "priority",
    "flex": "flex",
    "flex_discount": "flex",
}
_USAGE_FIELDS = {
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "output_tokens",
    "server_tool_use",
    "model",
    "workspace_id",
    "api_key_id",
    "service_tier",
    "context_window",
    "account_id",
}


def _tier(value: object) -> tuple[object, object]:
    """(canonical tier, source tier to keep in tags when it differs)."""
    if value in (None, ""):
        return None, None
    text = str(value).strip().lower()
    if "batch" in text and text not in _TIERS:
        return "batch", value
    tier = _TIERS.get(text, value)
    return tier, (value if tier != value else None)


def _console_tier(usage_type: object) -> str | None:
    """A Console usage type as a tier: a tier name, or batch when it says so; else standard."""
    text = str(usage_type or "").strip().lower()
    if text in _TIERS:
        return _TIERS[text]
    return "batch" if "batch" in text else None


def _long_context(value: object) -> bool | None:
    """'0-200k' → False, '200k-1M' → True: the band's lower bound is above zero."""
    if value in (None, ""):
        return None
    return not str(value).strip().startswith("0")


def _buckets(path: Path):
    """(record number, start, end, result, JSON path) of every result of a report."""
    return report_results(
        path,
        page_shape='an Anthropic report page {"data": [...], "has_more": ...}',
        bucket_bounds=lambda file, bucket, line, where: (
            bucket.get("starting_at"),
            bucket.get("ending_at"),
        ),
    )


def _stage_usage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    rows = Rows()
    for number, start, end, result, where in _buckets(path):

        def n(value: object, field: str, row: int = number, prefix: str = where) -> int | None:
            return count(file, value, row=row, field=f"{prefix}{field}")

        model = result.get("model")
        if model in (None, ""):
            msg = "the result has no model: request the report with group_by[]=model"
            raise IngestError(file, msg, row=number, field=f"{where}model")
        creation = result.get("cache_creation")
        creation = creation if isinstance(creation, dict) else {}
        tools = result.get("server_tool_use")
        tools = tools if isinstance(tools, dict) else {}
        tier, source_tier = _tier(result.get("service_tier"))
        tags = {k: v for k, v in result.items() if k not in _USAGE_FIELDS}
        tags.update(
            {f"server_tool_use.{k}": v for k, v in tools.items() if k != "web_search_requests"}
        )
        tags.update(service_tier=source_tier, context_window=result.get("context_window"))
        rows.add(
            number,
            period_start=start,
            period_end=end,
            provider="anthropic",
            model=model,
            input_tokens=n(result.get("uncached_input_tokens"), "uncached_input_tokens"),
            cache_read_tokens=n(result.get("cache_read_input_tokens"), "cache_read_input_tokens"),
            cache_write_5m_tokens=n(
                creation.get(
                    "ephemeral_5m_input_tokens", result.get("cache_creation_5m_input_tokens")
                ),
                "cache_creation.ephemeral_5m_input_tokens",
            ),
            cache_write_1h_tokens=n(
                creation.get(
                    "ephemeral_1h_input_tokens", result.get("cache_creation_1h_input_tokens")
                ),
                "cache_creation.ephemeral_1h_input_tokens",
            ),
            output_tokens=n(result.get("output_tokens"), "output_tokens"),
            web_search_requests=n(
                tools.get("web_search_requests"), "server_tool_use.web_search_requests"
            ),
            service_tier=tier,
            long_context=_long_context(result.get("context_window")),
            project_id=result.get("workspace_id"),
            api_key_id=result.get("api_key_id"),
            user_id=result.get("account_id"),
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key("anthropic-usage", start, end, model, *_dimensions(result)),
        )
    return rows.stage(con, table)


#: Result fields that are measures; every other field is a dimension of the bucket's key.
_COUNTED = {
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "output_tokens",
    "server_tool_use",
    "model",
}


def _dimensions(result: dict) -> list[str]:
    """The bucket's dimensions as name=value, stable whether a null dimension is sent or not."""
    return [
        f"{k}={result[k]}" for k in sorted(result) if k not in _COUNTED and result[k] is not None
    ]


def _day_period(value: object) -> tuple[object, object]:
    """A Console CSV day as a [day, next day) bucket."""
    try:
        day = dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return value, None  # the core reports the bad date with its row
    return day.isoformat(), (day + dt.timedelta(days=1)).isoformat()


_CSV_USAGE = {
    "usage_date_utc",
    "model_version",
    "api_key",
    "workspace",
    "usage_type",
    "context_window",
    "usage_input_tokens_no_cache",
    "usage_input_tokens_cache_write_5m",
    "usage_input_tokens_cache_write_1h",
    "usage_input_tokens_cache_write",
    "usage_input_tokens_cache_read",
    "usage_output_tokens",
    "web_search_count",
}


def _stage_usage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = iter_csv_records(path)
    legacy_write = columns.find("usage_input_tokens_cache_write")
    has_split = columns.has("usage_input_tokens_cache_write_5m")
    rows = Rows()
    for row, record in records:

        def n(name: str, record: dict = record, row: int = row) -> int | None:
            column = columns.find(name)
            return count(file, record.get(column), row=row, field=column) if column else None

        start, end = _day_period(columns.get(record, "usage_date_utc"))
        model = columns.get(record, "model_version", "model")
        tier = _console_tier(columns.get(record, "usage_type"))
        write_5m = n("usage_input_tokens_cache_write_5m") if has_split else None
        if write_5m is None and legacy_write:
            write_5m = n("usage_input_tokens_cache_write")
        tags = {k: v for k, v in record.items() if columns.find(k) and k.lower() not in _CSV_USAGE}
        tags.update(
            usage_type=columns.get(record, "usage_type"),
            context_window=columns.get(record, "context_window"),
        )
        workspace = columns.get(record, "workspace")
        api_key = columns.get(record, "api_key")
        rows.add(
            row,
            period_start=start,
            period_end=end,
            provider="anthropic",
            model=model,
            input_tokens=n("usage_input_tokens_no_cache"),
            cache_read_tokens=n("usage_input_tokens_cache_read"),
            cache_write_5m_tokens=write_5m,
            cache_write_1h_tokens=n("usage_input_tokens_cache_write_1h"),
            output_tokens=n("usage_output_tokens"),
            web_search_requests=n("web_search_count"),
            service_tier=tier,
            long_context=_long_context(columns.get(record, "context_window")),
            project_id=workspace,
            api_key_id=api_key,
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key(
                "anthropic-console",
                start,
                model,
                workspace,
                api_key,
                columns.get(record, "usage_type"),
                columns.get(record, "context_window"),
            ),
        )
    return rows.stage(con, table)


def _stage_costs(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    rows = Rows()
    for number, start, end, result, where in _buckets(path):
        cents = amount(file, result.get("amount"), row=number, field=f"{where}amount")
        currency = str(result.get("currency") or "USD").upper()
        tier, _ = _tier(result.get("service_tier"))
        tags = {k: v for k, v in result.items() if k not in ("amount", "model", "workspace_id")}
        tags["token_class"] = token_class(str(result.get("token_type") or "").replace("_", " "))
        if currency != "USD":
            tags["amount_cents"] = result.get("amount")
        rows.add(
            number,
            period_start=start,
            period_end=end,
            provider="anthropic",
            model=result.get("model") or result.get("description") or result.get("cost_type"),
            service_tier=tier,
            long_context=_long_context(result.get("context_window")),
            project_id=result.get("workspace_id"),
            reported_cost_usd=cents / 100 if cents is not None and currency == "USD" else None,
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key(
                "anthropic-costs",
                start,
                end,
                *(f"{k}={v}" for k, v in sorted(result.items()) if k != "amount" and v is not None),
            ),
        )
    return rows.stage(con, table)


def _stage_costs_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = iter_csv_records(path)
    cost_column = columns.find("cost_usd")
    rows = Rows()
    for row, record in records:
        start, end = _day_period(columns.get(record, "usage_date_utc"))
        tier = _console_tier(columns.get(record, "usage_type"))
        token_type = columns.get(record, "token_type")
        tags = {k: v for k, v in record.items() if k != cost_column}
        tags["token_class"] = token_class(str(token_type or "").replace("_", " "))
        rows.add(
            row,
            period_start=start,
            period_end=end,
            provider="anthropic",
            model=columns.get(record, "model_version", "model", "description", "cost_type"),
            service_tier=tier,
            long_context=_long_context(columns.get(record, "context_window")),
            project_id=columns.get(record, "workspace"),
            api_key_id=columns.get(record, "api_key"),
            reported_cost_usd=amount(file, record.get(cost_column), row=row, field=cost_column),
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key(
                "anthropic-console-costs",
                *(
                    f"{k}={v}"
                    for k, v in sorted(record.items())
                    if "cost" not in k and "price" not in k
                ),
            ),
        )
    return rows.stage(con, table)


def _detect_usage(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"starting_at"\s*:') and head_matches(
        sniff, r'"(uncached_input_tokens|cache_read_input_tokens)"\s*:'
    )


def _detect_costs(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"starting_at"\s*:', r'"amount"\s*:') and head_matches(
        sniff, r'"(cost_type|currency|token_type)"\s*:'
    )


def _detect_usage_csv(sniff: Sniff) -> bool:
    return CsvColumns(sniff.csv_header or ()).has("usage_date_utc", "usage_output_tokens")


def _detect_costs_csv(sniff: Sniff) -> bool:
    return CsvColumns(sniff.csv_header or ()).has("usage_date_utc", "token_type", "cost_usd")


ANTHROPIC_USAGE = register_format(
    SourceFormat(
        name="anthropic-usage",
        description="Anthropic Admin API usage report (JSON)",
        detect=_detect_usage,
        stage=_stage_usage,
        account_export="anthropic-usage",
    )
)
ANTHROPIC_USAGE_CSV = register_format(
    SourceFormat(
        name="anthropic-usage-csv",
        description="Anthropic Console usage export (CSV)",
        detect=_detect_usage_csv,
        stage=_stage_usage_csv,
        account_export="anthropic-usage",
    )
)
ANTHROPIC_COSTS = register_format(
    SourceFormat(
        name="anthropic-costs",
        description="Anthropic Admin API cost report (JSON)",
        detect=_detect_costs,
        stage=_stage_costs,
        reports_cost_only=True,
    )
)
ANTHROPIC_COSTS_CSV = register_format(
    SourceFormat(
        name="anthropic-costs-csv",
        description="Anthropic Console cost export (CSV)",
        detect=_detect_costs_csv,
        stage=_stage_costs_csv,
        reports_cost_only=True,
    )
)
