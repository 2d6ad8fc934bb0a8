"""OpenAI exports: the Usage API (JSON pages and the dashboard CSV) and the Costs API.

Usage API completions buckets report `input_tokens` as the total of every input class (cached,
cache-write, audio and image tokens included) and `output_tokens` with reasoning, audio and
image output included. Canonical classes are disjoint, so:

    input       = input_text_tokens, else input_tokens − cached − cache write − audio − image
    cache_read  = input_cached_tokens (all modalities; the cached audio/image split goes to tags)
    cache_write = input_cache_write_tokens (5-minute class: OpenAI has one cache-write price)
    output      = output_text_tokens, else output_tokens − output audio − output image

`batch: true` means the Batch API tier. Fields that do not map (cached audio/image splits, names
the dashboard adds) are kept in tags. The Costs API is a cost data set (reconcile, never usage).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    count,
    flag,
    head_matches,
    iter_csv_records,
    natural_key,
    report_results,
    tags_json,
    token_class,
    unix_seconds_iso,
)

__all__ = ["OPENAI_COSTS", "OPENAI_COSTS_CSV", "OPENAI_USAGE", "OPENAI_USAGE_CSV"]

_TOKEN_KINDS = {
    "organization.usage.completions.result": "completions",
    "organization.usage.embeddings.result": "embeddings",
    "organization.usage.moderations.result": "moderations",
    "organization.usage.web_searches.result": "web_searches",
}
_MAPPED = {
    "object",
    "input_tokens",
    "output_tokens",
    "num_model_requests",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
    "num_requests",
    "project_id",
    "user_id",
    "api_key_id",
    "model",
    "batch",
    "service_tier",
}
_CSV_TIME_COLUMNS = {"start_time", "end_time", "start_time_iso", "end_time_iso"}


def _usage_row(
    rows: Rows,
    file: str,
    record: dict,
    *,
    kind: str,
    start: str | None,
    end: str | None,
    row: int,
    where: str,
    skip_tags: set[str] = frozenset(),
) -> None:
    """One Usage API result (a JSON result object or a dashboard CSV row) as a canonical row."""

    def n(key: str) -> int | None:
        return count(file, record.get(key), row=row, field=f"{where}{key}")

    model = record.get("model")
    if model in (None, ""):
        msg = (
            "the result has no model: export usage grouped by model "
            "(group_by=model in the API, or 'Group by: Model' in the dashboard)"
        )
        raise IngestError(file, msg, row=row, field=f"{where}model")
    values: dict[str, object] = {}
    if kind == "completions":
        values = _completion_counts(file, record, n, row=row, where=where)
        values["requests"] = n("num_model_requests")
    elif kind in ("embeddings", "moderations"):
        values = {"input_tokens": n("input_tokens"), "requests": n("num_model_requests")}
    else:  # web searches: the model requests are already counted in completions
        values = {"web_search_requests": n("num_requests")}
    is_batch = flag(file, record.get("batch"), row=row, field=f"{where}batch")
    tier = "batch" if is_batch else record.get("service_tier")
    unmapped = {
        k: v
        for k, v in record.items()
        if k not in _MAPPED and k not in skip_tags and v not in (None, "")
    }
    if kind == "web_searches" and record.get("num_model_requests") not in (None, ""):
        unmapped["num_model_requests"] = record["num_model_requests"]
    if is_batch is not None:
        unmapped["batch"] = is_batch
    rows.add(
        row,
        period_start=start,
        period_end=end,
        provider="openai",
        model=model,
        service_tier=tier,
        project_id=record.get("project_id"),
        user_id=record.get("user_id"),
        api_key_id=record.get("api_key_id"),
        tags=tags_json(unmapped),
        grain="bucket",
        natural_key=natural_key(
            "openai-usage",
            kind,
            start,
            end,
            model,
            record.get("project_id"),
            record.get("user_id"),
            record.get("api_key_id"),
            is_batch,
            record.get("service_tier"),
        ),
        **values,
    )


def _completion_counts(file: str, record: dict, n, *, row: int, where: str) -> dict[str, object]:
    total_in, total_out = n("input_tokens"), n("output_tokens")
    cached, write = n("input_cached_tokens"), n("input_cache_write_tokens")
    audio_in, image_in = n("input_audio_tokens"), n("input_image_tokens")
    audio_out, image_out = n("output_audio_tokens"), n("output_image_tokens")
    text_in = n("input_text_tokens")
    if text_in is None:
        uncached = n("input_uncached_tokens")
        if uncached is None and total_in is not None:
            uncached = total_in - (cached or 0) - (write or 0)
        if uncached is not None:
            text_in = uncached - (audio_in or 0) - (image_in or 0)
        if text_in is not None and text_in < 0:
            msg = (
                f"cached, cache-write, audio and image input tokens add up to more than "
                f"input_tokens ({total_in}); input_tokens must be the total of all input"
            )
            raise IngestError(file, msg, row=row, field=f"{where}input_tokens")
    text_out = n("output_text_tokens")
    if text_out is None and total_out is not None:
        text_out = total_out - (audio_out or 0) - (image_out or 0)
        if text_out < 0:
            msg = f"audio and image output tokens add up to more than output_tokens ({total_out})"
            raise IngestError(file, msg, row=row, field=f"{where}output_tokens")
    return {
        "input_tokens": text_in,
        "cache_read_tokens": cached,
        "cache_write_5m_tokens": write,
        "output_tokens": text_out,
        "input_audio_tokens": audio_in,
        "input_image_tokens": image_in,
        "output_audio_tokens": audio_out,
        "output_image_tokens": image_out,
    }


def _bucket_bounds(file: str, bucket: dict, line: int, where: str) -> tuple[object, object]:
    return (
        unix_seconds_iso(file, bucket.get("start_time"), row=line, field=f"{where}.start_time"),
        unix_seconds_iso(file, bucket.get("end_time"), row=line, field=f"{where}.end_time"),
    )


def _pages(path: Path):
    """(record number, bucket start, bucket end, result, JSON path) of every result."""
    return report_results(
        path,
        page_shape='an OpenAI API page {"object": "page", "data": [...]}',
        bucket_bounds=_bucket_bounds,
    )


def _stage_usage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    rows = Rows()
    for number, start, end, result, where in _pages(path):
        obj = result.get("object")
        kind = _TOKEN_KINDS.get(obj)
        if kind is None:
            msg = (
                f"{obj!r} results are not token usage; finops reads the completions, "
                "embeddings, moderations and web_searches usage endpoints"
            )
            raise IngestError(file, msg, row=number, field=f"{where}object")
        _usage_row(rows, file, result, kind=kind, start=start, end=end, row=number, where=where)
    return rows.stage(con, table)


def _stage_usage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = iter_csv_records(path)
    kind = "completions"
    if not columns.has("output_tokens"):
        kind = "web_searches" if columns.has("num_requests") else "embeddings"
    rows = Rows()
    for row, record in records:
        start, end = _csv_period(file, columns, record, row)
        _usage_row(
            rows,
            file,
            record,
            kind=kind,
            start=start,
            end=end,
            row=row,
            where="",
            skip_tags=_CSV_TIME_COLUMNS,
        )
    return rows.stage(con, table)


def _csv_period(file: str, columns: CsvColumns, record: dict, row: int) -> tuple:
    """The bucket of a dashboard row: Unix seconds, else the ISO columns (checked by the core)."""
    period = []
    for name in ("start_time", "end_time"):
        value = record.get(columns.find(name) or name)
        if value in (None, ""):
            period.append(record.get(columns.find(f"{name}_iso") or f"{name}_iso"))
        elif re.fullmatch(r"\s*\d+(\.\d*)?\s*", value):
            period.append(unix_seconds_iso(file, value, row=row, field=name))
        else:
            period.append(value)
    return tuple(period)


def _cost_row(rows: Rows, file: str, result: dict, *, start, end, row: int, where: str) -> None:
    money = result.get("amount")
    value, currency = (
        (money.get("value"), money.get("currency"))
        if isinstance(money, dict)
        else (
            result.get("amount_value"),
            result.get("amount_currency"),
        )
    )
    dollars = amount(file, value, row=row, field=f"{where}amount.value")
    line_item = result.get("line_item") or ""
    model, _, token_type = str(line_item).rpartition(", ")
    usd = str(currency or "usd").lower() == "usd"
    tags = {
        k: v
        for k, v in result.items()
        if k not in ("object", "amount", "amount_value", "project_id", "api_key_id")
        and k not in _CSV_TIME_COLUMNS
    }
    tags.update(token_class=token_class(token_type), currency=currency)
    if not usd:
        tags["amount"] = value
    rows.add(
        row,
        period_start=start,
        period_end=end,
        provider="openai",
        model=model or line_item or None,
        project_id=result.get("project_id"),
        api_key_id=result.get("api_key_id"),
        reported_cost_usd=dollars if usd else None,
        tags=tags_json(tags),
        grain="bucket",
        natural_key=natural_key(
            "openai-costs",
            start,
            end,
            line_item,
            result.get("project_id"),
            result.get("api_key_id"),
        ),
    )


def _stage_costs(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    rows = Rows()
    for number, start, end, result, where in _pages(path):
        _cost_row(rows, file, result, start=start, end=end, row=number, where=where)
    return rows.stage(con, table)


def _stage_costs_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = iter_csv_records(path)
    rows = Rows()
    for row, record in records:
        start, end = _csv_period(file, columns, record, row)
        _cost_row(rows, file, record, start=start, end=end, row=row, where="")
    return rows.stage(con, table)


_PAGE = r'"object"\s*:\s*"page"'


def _detect_usage(sniff: Sniff) -> bool:
    return head_matches(sniff, _PAGE, r'"organization\.usage\.[a-z_]+\.result"')


def _detect_usage_csv(sniff: Sniff) -> bool:
    columns = CsvColumns(sniff.csv_header or ())
    return columns.has("start_time", "num_model_requests") and (
        columns.has("input_tokens") or columns.has("num_requests")
    )


def _detect_costs(sniff: Sniff) -> bool:
    return head_matches(sniff, _PAGE, r'"organization\.costs\.result"')


def _detect_costs_csv(sniff: Sniff) -> bool:
    columns = CsvColumns(sniff.csv_header or ())
    return columns.has("start_time", "amount_value", "line_item")


OPENAI_USAGE = register_format(
    SourceFormat(
        name="openai-usage",
        description="OpenAI Usage API page (JSON)",
        detect=_detect_usage,
        stage=_stage_usage,
        account_export="openai-usage",
    )
)
OPENAI_USAGE_CSV = register_format(
    SourceFormat(
        name="openai-usage-csv",
        description="OpenAI dashboard usage export (CSV)",
        detect=_detect_usage_csv,
        stage=_stage_usage_csv,
        account_export="openai-usage",
    )
)
OPENAI_COSTS = register_format(
    SourceFormat(
        name="openai-costs",
        description="OpenAI Costs API page (JSON)",
        detect=_detect_costs,
        stage=_stage_costs,
        reports_cost_only=True,
    )
)
OPENAI_COSTS_CSV = register_format(
    SourceFormat(
        name="openai-costs-csv",
        description="OpenAI dashboard cost export (CSV)",
        detect=_detect_costs_csv,
        stage=_stage_costs_csv,
        reports_cost_only=True,
    )
)
