"""AWS Cost and Usage Report (CUR 2.0) line items for Amazon Bedrock (CSV or Parquet).

CUR has one row per token type: `line_item_usage_type` ends in the class
(`USE1-Claude3.5Sonnet-input-tokens`, `…-output-tokens`, `…-cache-read-input-token-count`,
`…-cache-write-input-token-count`), `line_item_usage_amount` is the quantity (scaled by
`pricing_unit` when it says 1K or 1M), and `line_item_unblended_cost` is what AWS billed. The
model comes from `line_item_resource_id` (a foundation-model or inference-profile ARN) when
present, else from the usage type's middle part (which the catalog may not know: shown as
unpriced). Rows of other services, and Bedrock rows not priced in tokens, are passed over and
counted.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._files import plain_file
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    bedrock_model,
    iter_csv_records,
    natural_key,
    scaled_count,
    tags_json,
    unit_multiplier,
)

__all__ = ["CUR"]

_CLASSES = (  # usage-type suffix → token class (checked in order)
    (re.compile(r"cache-?read", re.IGNORECASE), "cache_read"),
    (re.compile(r"cache-?write", re.IGNORECASE), "cache_write_5m"),
    (re.compile(r"input", re.IGNORECASE), "input"),
    (re.compile(r"output", re.IGNORECASE), "output"),
)
_USAGE_TYPE = re.compile(
    r"^(?:[A-Z]{2,4}\d?-)?(?P<model>.+?)-(?P<rest>(?:cache-)?\w*-?(?:input|output).*)$",
    re.IGNORECASE,
)


def _records(path: Path):
    """(columns, records) from CSV, or from Parquet read through DuckDB."""
    if path.name.lower().removesuffix(".zip").endswith(".parquet"):
        with plain_file(path) as local:
            con = duckdb.connect()
            try:
                frame = con.sql(
                    "SELECT * FROM read_parquet($p)", params={"p": str(local)}
                ).fetchall()
                names = [
                    d[0]
                    for d in con.sql(
                        "DESCRIBE SELECT * FROM read_parquet($p)", params={"p": str(local)}
                    ).fetchall()
                ]
            finally:
                con.close()
        rows = (
            (i, {n: (None if v is None else str(v)) for n, v in zip(names, row)})
            for i, row in enumerate(frame, 1)
        )
        return CsvColumns(tuple(names)), rows
    return iter_csv_records(path)


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = _records(path)
    rows = Rows()
    for row, record in records:
        product = str(columns.get(record, "line_item_product_code", "product_servicecode") or "")
        usage_type = str(columns.get(record, "line_item_usage_type") or "")
        if "bedrock" not in product.lower() or "token" not in usage_type.lower():
            rows.skipped += 1
            continue
        cls = next(
            (c for pattern, c in _CLASSES if pattern.search(usage_type.split("-", 1)[-1])), None
        )
        if cls is None:
            rows.skipped += 1
            continue
        resource = columns.get(record, "line_item_resource_id")
        if resource:
            model = bedrock_model(str(resource))
        else:
            match = _USAGE_TYPE.match(usage_type)
            model = match.group("model") if match else usage_type
        unit = columns.get(record, "pricing_unit")
        tokens = scaled_count(
            file,
            columns.get(record, "line_item_usage_amount"),
            unit_multiplier(str(unit))
            if unit and re.search(r"\d|[km]\b", str(unit), re.IGNORECASE)
            else 1,
            row=row,
            field="line_item_usage_amount",
        )
        if tokens is None or tokens < 0:
            rows.skipped += 1  # a refund or correction, not usage
            continue
        start = columns.get(record, "line_item_usage_start_date")
        end = columns.get(record, "line_item_usage_end_date")
        tags = {
            "usage_type": usage_type,
            "region": columns.get(record, "product_region_code", "product_region"),
        }
        raw_tags = columns.get(record, "resource_tags")
        if raw_tags:
            import json

            try:
                parsed = json.loads(str(raw_tags))
            except ValueError:
                raise IngestError(
                    file, "resource_tags is not a JSON object", row=row, field="resource_tags"
                ) from None
            if isinstance(parsed, dict):
                tags.update({str(k).removeprefix("user_"): v for k, v in parsed.items()})
        account = columns.get(record, "line_item_usage_account_id")
        rows.add(
            row,
            period_start=start,
            period_end=end,
            provider="aws-bedrock",
            model=model,
            **{f"{cls}_tokens": tokens},
            project_id=account,
            team=tags.get("team"),
            reported_cost_usd=amount(
                file,
                columns.get(record, "line_item_unblended_cost"),
                row=row,
                field="line_item_unblended_cost",
            ),
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key(
                "cur",
                start,
                end,
                account,
                resource,
                usage_type,
                columns.get(record, "identity_line_item_id"),
            ),
        )
    if not len(rows):
        raise IngestError(file, f"no Bedrock token usage among its {rows.skipped} line items")
    return rows.stage(con, table)


def _detect(sniff: Sniff) -> bool:
    header = {h.lower() for h in sniff.header_set}
    if {"line_item_usage_type", "line_item_usage_amount"} <= header:
        return True
    if sniff.path.name.lower().removesuffix(".zip").endswith(".parquet"):
        try:
            with plain_file(sniff.path) as local:
                con = duckdb.connect()
                names = {
                    d[0].lower()
                    for d in con.sql(
                        "DESCRIBE SELECT * FROM read_parquet($p)", params={"p": str(local)}
                    ).fetchall()
                }
                con.close()
        except (duckdb.Error, OSError):
            return False
        return {"line_item_usage_type", "line_item_usage_amount"} <= names
    return False


CUR = register_format(
    SourceFormat(
        name="aws-cur",
        description="AWS Cost and Usage Report 2.0, Bedrock line items (CSV or Parquet)",
        detect=_detect,
        stage=_stage,
        account_export="aws-cur",
    )
)
