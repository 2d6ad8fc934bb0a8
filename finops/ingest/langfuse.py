"""Langfuse observations (`GET /api/public/observations` JSON, JSON lines, or a CSV export).

Only generations are model requests; spans and events are skipped (counted). `usageDetails`
keys are free-form, but Langfuse keeps them disjoint: when it ingests OpenAI-style usage it
subtracts every `prompt_tokens_details` / `completion_tokens_details` entry from `input` /
`output` and stores it as `input_<detail>` / `output_<detail>`, so the parts add up to `total`.
Each key is therefore summed into one class by its name:

    *cache*read*, *cached*, *cache*hit*   → cache_read
    *cache*creation*, *cache*write*       → cache_write_5m (cache_write_1h when it says 1h)
    input*/prompt* with audio or image    → input_audio / input_image
    output*/completion* with audio/image  → output_audio / output_image
    other input*/prompt* keys             → input
    other output*/completion* keys        → output (reasoning keys also give reasoning_tokens)

`total` and unrecognised keys stay in tags. Observations record no provider; it is inferred
from the model name (or LangChain's `ls_provider` metadata). `costDetails.total` is Langfuse's
estimate, kept as reported_cost_usd to reconcile against.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    count,
    head_matches,
    infer_provider,
    iter_csv_records,
    json_records,
    natural_key,
    tags_json,
)
from finops.pricing.providers import normalise_provider

__all__ = ["LANGFUSE", "LANGFUSE_CSV", "usage_class"]

_TAG_FIELDS = (
    "name",
    "traceName",
    "sessionId",
    "environment",
    "level",
    "promptName",
    "promptVersion",
    "version",
)


def usage_class(key: str) -> str | None:
    """The token class a Langfuse usage key counts in (None: not a token class).

    >>> [usage_class(k) for k in ("input", "input_cached_tokens", "output_reasoning_tokens")]
    ['input', 'cache_read', 'output']
    """
    k = key.lower()
    if "cache" in k:
        if any(w in k for w in ("creation", "write", "create")):
            return "cache_write_1h" if "1h" in k else "cache_write_5m"
        return "cache_read"
    side = "input" if k.startswith(("input", "prompt")) else None
    side = side or ("output" if k.startswith(("output", "completion")) else None)
    if side is None:
        return None
    for modality in ("audio", "image"):
        if modality in k:
            return f"{side}_{modality}"
    return side


def _json_field(file: str, value: object, *, row: int, field: str) -> object:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise IngestError(file, f"{field} is not valid JSON", row=row, field=field) from None


def _row(rows: Rows, file: str, record: Mapping[str, object], row: int) -> None:
    columns = CsvColumns(record)

    def field(*names: str) -> object:
        return columns.get(record, *names)

    kind = str(field("type") or "").upper()
    details = _json_field(file, field("usageDetails"), row=row, field="usageDetails")
    legacy = _json_field(file, field("usage"), row=row, field="usage")
    if (kind and kind != "GENERATION") or (not kind and not (details or legacy)):
        rows.skipped += 1
        return
    model = field("model", "providedModelName")
    if model is None:
        rows.skipped += 1  # a generation the SDK recorded without a model: nothing to price
        return
    metadata = _json_field(file, field("metadata"), row=row, field="metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    ls_provider = metadata.get("ls_provider")
    provider = normalise_provider(str(ls_provider)) if ls_provider else infer_provider(str(model))
    if provider is None:
        msg = (
            f"cannot tell the provider of model {model!r}; Langfuse does not record it. "
            "Ingest with a column mapping that sets the provider"
        )
        raise IngestError(file, msg, row=row, field="model")

    totals: dict[str, int] = {}
    reasoning = None
    tags: dict[str, object] = {name: field(name) for name in _TAG_FIELDS}
    if isinstance(details, Mapping) and details:
        for key, value in details.items():
            cls = usage_class(str(key))
            number = count(file, value, row=row, field=f"usageDetails.{key}")
            if cls is None:
                tags[f"usage.{key}"] = number
                continue
            totals[cls] = totals.get(cls, 0) + (number or 0)
            if "reasoning" in str(key).lower():
                reasoning = (reasoning or 0) + (number or 0)
    else:
        totals = _legacy_usage(file, record, legacy, row=row)
    costs = _json_field(file, field("costDetails"), row=row, field="costDetails")
    cost = costs.get("total") if isinstance(costs, Mapping) else None
    if cost is None:
        cost = field("calculatedTotalCost", "totalCost")
    trace_tags = field("tags", "traceTags")
    tags["tags"] = _json_field(file, trace_tags, row=row, field="tags")
    rows.add(
        row,
        period_start=field("startTime"),
        provider=provider,
        model=model,
        requests=1,
        input_tokens=totals.get("input"),
        cache_read_tokens=totals.get("cache_read"),
        cache_write_5m_tokens=totals.get("cache_write_5m"),
        cache_write_1h_tokens=totals.get("cache_write_1h"),
        output_tokens=totals.get("output"),
        input_audio_tokens=totals.get("input_audio"),
        output_audio_tokens=totals.get("output_audio"),
        input_image_tokens=totals.get("input_image"),
        output_image_tokens=totals.get("output_image"),
        reasoning_tokens=reasoning,
        user_id=field("userId"),
        project_id=field("projectId"),
        reported_cost_usd=amount(file, cost, row=row, field="costDetails.total"),
        tags=tags_json(tags),
        grain="request",
        natural_key=natural_key("langfuse", field("id"), field("traceId")),
    )


def _legacy_usage(
    file: str, record: Mapping[str, object], usage: object, *, row: int
) -> dict[str, int]:
    """Pre-usageDetails observations: `usage {input, output, unit}` or promptTokens."""
    if isinstance(usage, Mapping) and str(usage.get("unit") or "TOKENS").upper() == "TOKENS":
        pairs = (("input", usage.get("input")), ("output", usage.get("output")))
        where = "usage."
    else:
        pairs = (("input", record.get("promptTokens")), ("output", record.get("completionTokens")))
        where = ""
    out = {}
    for cls, value in pairs:
        number = count(file, value, row=row, field=f"{where}{cls}")
        if number is not None:
            out[cls] = number
    return out


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    rows = Rows()
    for row, record in json_records(path):
        _row(rows, str(path), record, row)
    return _checked(rows, path).stage(con, table)


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    rows = Rows()
    _, records = iter_csv_records(path)
    for row, record in records:
        _row(rows, str(path), record, row)
    return _checked(rows, path).stage(con, table)


def _checked(rows: Rows, path: Path) -> Rows:
    if not len(rows) and rows.skipped:
        msg = (
            f"none of the {rows.skipped} observations is a generation with a model; "
            "export the GENERATION observations"
        )
        raise IngestError(str(path), msg)
    return rows


def _detect_json(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"traceId"\s*:') and head_matches(
        sniff, r'"(usageDetails|promptTokens|calculatedTotalCost)"\s*:'
    )


def _detect_csv(sniff: Sniff) -> bool:
    columns = CsvColumns(sniff.csv_header or ())
    return columns.has("traceId", "startTime", "model") and (
        columns.has("usageDetails") or columns.has("promptTokens") or columns.has("usage")
    )


LANGFUSE = register_format(
    SourceFormat(
        name="langfuse-observations",
        description="Langfuse observations (JSON)",
        detect=_detect_json,
        stage=_stage_json,
    )
)
LANGFUSE_CSV = register_format(
    SourceFormat(
        name="langfuse-observations-csv",
        description="Langfuse observations export (CSV)",
        detect=_detect_csv,
        stage=_stage_csv,
    )
)
