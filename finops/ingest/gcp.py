"""Google Cloud billing export (BigQuery standard or detailed usage cost): Gemini token SKUs.

Read as JSON lines (BigQuery's export to Cloud Storage keeps the nested fields) or as CSV from a
query that flattened them (`sku.description` or `sku_description` both work). Token SKUs of
Vertex AI (provider `google-vertex`) and the Gemini API (`google`) look like
`Gemini 2.5 Pro Long Input Text - Predictions`: the words before the first descriptor are the
model (`gemini-2.5-pro`), `Input` / `Cached Input` / `Output` / `Thinking Output` / `Audio` /
`Image` give the token class, `Long` the long-context tier, `Batch` the batch tier. The quantity
is `usage.amount` (a count of tokens).

The reported cost is net: `cost + sum(credits.amount)`, in USD. Rows of other services or SKUs,
characters-priced SKUs and non-regular cost types (adjustments, taxes) are skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    flatten,
    head_matches,
    iter_csv_records,
    json_records,
    natural_key,
    scaled_count,
    tags_json,
    token_class,
    unit_multiplier,
)

__all__ = ["GCP_BILLING", "GCP_BILLING_CSV", "gcp_sku"]

_SERVICES = {
    "vertex ai": "google-vertex",
    "gemini api": "google",
    "generative language api": "google",
}
_DESCRIPTORS = {
    "input",
    "output",
    "text",
    "image",
    "audio",
    "video",
    "long",
    "short",
    "cached",
    "caching",
    "cache",
    "thinking",
    "reasoning",
    "batch",
    "tokens",
    "token",
    "predictions",
    "prediction",
    "online",
    "priority",
    "flex",
    "standard",
    "context",
    "multimodal",
    "grounding",
}
_NOT_TOKENS = re.compile(
    r"character|second|hour|storage|byte|request|page|grounding", re.IGNORECASE
)


def gcp_sku(description: str) -> tuple[str, str | None, bool, str | None]:
    """(model, token class, long context, tier) of a Gemini token SKU description.

    >>> gcp_sku("Gemini 2.5 Pro Long Input Text - Predictions")
    ('gemini-2.5-pro', 'input', True, None)
    >>> gcp_sku("Gemini 2.0 Flash Lite Batch Cached Input Text")
    ('gemini-2.0-flash-lite', 'cache_read', False, 'batch')
    """
    text = re.sub(r"\s+-\s+predictions?\s*$", "", description.strip(), flags=re.IGNORECASE)
    words = text.split()
    model_words: list[str] = []
    for word in words:
        if model_words and word.lower() in _DESCRIPTORS:
            break
        model_words.append(word.lower())
    descriptors = " ".join(w.lower() for w in words[len(model_words) :])
    tier = next((t for t in ("batch", "priority", "flex") if t in descriptors.split()), None)
    return "-".join(model_words), token_class(descriptors), "long" in descriptors.split(), tier


def _list(file: str, value: object, *, row: int, field: str) -> list:
    """A repeated field: a JSON list, or the JSON text of one in a CSV."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise IngestError(file, f"{field} is not a JSON list", row=row, field=field) from None
    if not isinstance(value, list):
        raise IngestError(file, f"{field} is not a JSON list", row=row, field=field)
    return value


def _row(rows: Rows, file: str, record: Mapping[str, object], row: int) -> None:
    columns = CsvColumns(record)

    def field(*names: str) -> object:
        return columns.get(record, *names)

    provider = _SERVICES.get(str(field("service.description") or "").strip().lower())
    sku = str(field("sku.description") or "")
    unit = str(field("usage.unit") or "")
    cost_type = str(field("cost_type") or "regular").lower()
    if provider is None or cost_type != "regular" or _NOT_TOKENS.search(f"{sku} {unit}"):
        rows.skipped += 1
        return
    model, cls, long_context, tier = gcp_sku(sku)
    if cls is None or not model:
        rows.skipped += 1  # an AI SKU that is not priced per token (e.g. per image)
        return
    amount_field = columns.find("usage.amount") or "usage.amount"
    tokens = scaled_count(
        file, record.get(amount_field), unit_multiplier(unit), row=row, field=amount_field
    )
    if tokens is None or tokens < 0:
        rows.skipped += 1
        return
    cost = amount(file, field("cost"), row=row, field="cost")
    credits = Decimal(0)
    for i, credit in enumerate(_list(file, field("credits"), row=row, field="credits")):
        value = credit.get("amount") if isinstance(credit, Mapping) else None
        credits += amount(file, value, row=row, field=f"credits[{i}].amount") or 0
    labels = {
        str(label.get("key")): label.get("value")
        for label in _list(file, field("labels"), row=row, field="labels")
        if isinstance(label, Mapping)
    }
    currency = str(field("currency") or "USD").upper()
    tags: dict[str, object] = dict(labels)
    tags.update(
        {
            "sku": sku,
            "sku_id": field("sku.id"),
            "project_name": field("project.name"),
            "region": field("location.region"),
            "resource": field("resource.name"),
            "billing_account_id": field("billing_account_id"),
            "cost": field("cost"),
            "credits": str(credits) if credits else None,
            "currency": currency,
            "invoice_month": field("invoice.month"),
        }
    )
    start, end = field("usage_start_time"), field("usage_end_time")
    project = field("project.id")
    rows.add(
        row,
        period_start=start,
        period_end=end,
        provider=provider,
        model=model,
        **{f"{cls}_tokens": tokens},
        service_tier=tier,
        long_context=long_context,
        project_id=project,
        reported_cost_usd=cost + credits if cost is not None and currency == "USD" else None,
        tags=tags_json(tags),
        grain="bucket",
        natural_key=natural_key(
            "gcp",
            start,
            end,
            project,
            field("sku.id") or sku,
            field("location.region"),
            field("resource.name"),
            json.dumps(labels, sort_keys=True),
        ),
    )


def _finish(rows: Rows, path: Path, con: duckdb.DuckDBPyConnection, table: str) -> int:
    if not len(rows):
        msg = (
            f"no Gemini token usage: none of the file's {rows.skipped} rows is a Vertex AI or "
            "Gemini API token SKU"
        )
        raise IngestError(str(path), msg)
    return rows.stage(con, table)


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    rows = Rows()
    for row, record in json_records(path):
        _row(rows, str(path), flatten(record), row)
    return _finish(rows, path, con, table)


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    rows = Rows()
    _, records = iter_csv_records(path)
    for row, record in records:
        _row(rows, str(path), record, row)
    return _finish(rows, path, con, table)


def _detect_json(sniff: Sniff) -> bool:
    return head_matches(sniff, r'"usage_start_time"\s*:', r'"sku"\s*:\s*\{')


def _detect_csv(sniff: Sniff) -> bool:
    return CsvColumns(sniff.csv_header or ()).has("sku.description", "usage_start_time", "cost")


GCP_BILLING = register_format(
    SourceFormat(
        name="gcp-billing",
        description="Google Cloud billing export (JSON lines)",
        detect=_detect_json,
        stage=_stage_json,
        account_export="gcp-billing",
    )
)
GCP_BILLING_CSV = register_format(
    SourceFormat(
        name="gcp-billing-csv",
        description="Google Cloud billing export (CSV)",
        detect=_detect_csv,
        stage=_stage_csv,
        account_export="gcp-billing",
    )
)
