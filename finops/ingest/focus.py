"""FOCUS 1.0–1.3 cost and usage (CSV): the AI token lines of a FinOps-standard bill.

FOCUS has no model or token-type column through 1.3, so token usage is written one row per
token type with the model in a custom `x_` column. A row is token usage when its ConsumedUnit
(or PricingUnit) is in tokens, e.g. `Tokens` or `1000000 Tokens`; the quantity is scaled by the
unit. The model comes from `x_Model` (or `x_ModelName`, `x_ModelId`, or a model key in the 1.2+
`SkuPriceDetails`), the token class from `x_TokenType`, else from the SKU meter or charge
description ("cached input", "output"). `BilledCost` (in USD) is the reported cost; the other
cost columns go to tags.

Every other row of the bill (compute, storage, credits, taxes, corrections with negative
quantities) is skipped and counted, so a whole-cloud FOCUS export can be ingested as it is; a
file with no token rows at all is refused with a message saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

from finops.core.schema import TOKEN_CLASSES
from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._records import (
    CsvColumns,
    Rows,
    amount,
    iter_csv_records,
    natural_key,
    scaled_count,
    tags_json,
    token_class,
    unit_multiplier,
)
from finops.pricing.providers import normalise_provider

__all__ = ["FOCUS"]

_MODEL_COLUMNS = ("x_Model", "x_ModelName", "x_ModelId", "x_AiModel", "x_LlmModel", "x_GenAiModel")
_TOKEN_TYPE_COLUMNS = ("x_TokenType", "x_TokenClass", "x_UsageTokenType")
_TIER_COLUMNS = ("x_ServiceTier", "x_Tier", "x_PricingTier")
_TEXT_COLUMNS = (
    "SkuMeter",
    "x_SkuMeterName",
    "x_UsageType",
    "ChargeDescription",
    "x_SkuDescription",
)
_TAG_COLUMNS = (
    "ServiceName",
    "ServiceCategory",
    "SubAccountName",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "SkuId",
    "SkuPriceId",
    "SkuMeter",
    "ChargeDescription",
    "BillingCurrency",
    "ListCost",
    "EffectiveCost",
    "ContractedCost",
    "BilledCost",
    "CommitmentDiscountId",
    "HostProviderName",
)


def _provider(name: object) -> str | None:
    if name in (None, ""):
        return None
    text = str(name).strip()
    return normalise_provider(text)


def _token_quantity(columns: CsvColumns, record: Mapping[str, object]) -> tuple[object, str] | None:
    """(quantity, unit) of a row priced in tokens or web searches; None for any other charge."""
    for quantity, unit in (
        ("ConsumedQuantity", "ConsumedUnit"),
        ("PricingQuantity", "PricingUnit"),
    ):
        unit_text = columns.get(record, unit)
        if unit_text and re.search(r"token|search", str(unit_text), re.IGNORECASE):
            return columns.get(record, quantity), str(unit_text)
    return None


def _class(file: str, columns: CsvColumns, record, details: Mapping, row: int) -> str:
    stated = columns.get(record, *_TOKEN_TYPE_COLUMNS) or _detail(
        details, ("tokentype", "tokenclass")
    )
    if stated:
        text = str(stated).strip().lower()
        cls = text if text in TOKEN_CLASSES else token_class(text)
        if cls is None:
            msg = f"token type {stated!r} is not one of {', '.join(TOKEN_CLASSES)}"
            raise IngestError(file, msg, row=row, field=columns.find(*_TOKEN_TYPE_COLUMNS))
        return cls
    for name in _TEXT_COLUMNS:
        cls = token_class(str(columns.get(record, name) or ""))
        if cls:
            return cls
    msg = (
        "cannot tell the token type (input, cached input, output, ...): add an x_TokenType "
        "column, or a SkuMeter / ChargeDescription that names it"
    )
    raise IngestError(file, msg, row=row, field="x_TokenType")


def _detail(details: Mapping, keys: tuple[str, ...]) -> object:
    for key, value in details.items():
        if re.sub(r"[^a-z]", "", str(key).lower()).removeprefix("x") in keys:
            return value
    return None


def _json_object(file: str, value: object, *, row: int, field: str) -> dict:
    if value in (None, ""):
        return {}
    try:
        parsed = json.loads(str(value))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise IngestError(file, f"{field} is not a JSON object", row=row, field=field)
    return parsed


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = iter_csv_records(path, null_values=frozenset({"NULL"}))
    x_columns = [c for c in columns.names if c.lower().startswith("x_")]
    rows = Rows()
    for row, record in records:
        token = _token_quantity(columns, record)
        category = str(columns.get(record, "ChargeCategory") or "Usage").lower()
        if token is None or category != "usage":
            rows.skipped += 1
            continue
        quantity_text, unit = token
        quantity_field = (
            "ConsumedQuantity" if unit == columns.get(record, "ConsumedUnit") else "PricingQuantity"
        )
        tokens = scaled_count(
            file, quantity_text, unit_multiplier(unit), row=row, field=quantity_field
        )
        if tokens is None or tokens < 0:
            rows.skipped += 1  # a correction or refund: not usage
            continue
        details = _json_object(
            file, columns.get(record, "SkuPriceDetails"), row=row, field="SkuPriceDetails"
        )
        model = columns.get(record, *_MODEL_COLUMNS) or _detail(
            details, ("model", "modelname", "modelid")
        )
        if model is None:
            msg = (
                "a token row without a model: FOCUS has no model column, so write it in a "
                "custom column such as x_Model"
            )
            raise IngestError(file, msg, row=row, field="x_Model")
        searches = re.search(r"search", unit, re.IGNORECASE) is not None
        cls = "web_search" if searches else _class(file, columns, record, details, row)
        provider = _provider(columns.get(record, "ServiceProviderName", "ProviderName"))
        if provider is None:
            raise IngestError(file, "required value is empty", row=row, field="ProviderName")
        text = " ".join(str(columns.get(record, c) or "") for c in _TEXT_COLUMNS).lower()
        tier = columns.get(record, *_TIER_COLUMNS) or next(
            (t for t in ("batch", "priority", "flex") if re.search(rf"\b{t}\b", text)), None
        )
        currency = str(columns.get(record, "BillingCurrency") or "USD").upper()
        billed = amount(file, columns.get(record, "BilledCost"), row=row, field="BilledCost")
        tags: dict[str, object] = _json_object(
            file, columns.get(record, "Tags"), row=row, field="Tags"
        )
        tags.update({name: columns.get(record, name) for name in _TAG_COLUMNS})
        tags.update({name: record.get(name) for name in x_columns})
        tags.update(quantity=quantity_text, unit=unit)
        period_start = columns.get(record, "ChargePeriodStart")
        period_end = columns.get(record, "ChargePeriodEnd")
        sub_account = columns.get(record, "SubAccountId")
        rows.add(
            row,
            period_start=period_start,
            period_end=period_end,
            provider=provider,
            model=model,
            **({"web_search_requests": tokens} if searches else {f"{cls}_tokens": tokens}),
            service_tier=tier,
            # finops' own export marks long-context rows, so re-ingesting prices them the same
            long_context=str(columns.get(record, "x_LongContext") or "").lower() == "true" or None,
            project_id=sub_account,
            reported_cost_usd=billed if currency == "USD" else None,
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key(
                "focus",
                period_start,
                period_end,
                provider,
                sub_account,
                columns.get(record, "ResourceId"),
                columns.get(record, "SkuId"),
                columns.get(record, "SkuPriceId"),
                columns.get(record, "CommitmentDiscountId"),
                model,
                cls,
                tier,
                columns.get(record, "Tags"),
            ),
        )
    if not len(rows):
        msg = (
            f"no AI token usage: none of the file's {rows.skipped} rows is priced in tokens "
            "(ConsumedUnit or PricingUnit like '1000000 Tokens'). finops reads token usage; "
            "other cloud charges are skipped"
        )
        raise IngestError(file, msg)
    return rows.stage(con, table)


def _detect(sniff: Sniff) -> bool:
    columns = CsvColumns(sniff.csv_header or ())
    return columns.has("ChargePeriodStart", "BilledCost") and (
        columns.has("ProviderName")
        or columns.has("ServiceProviderName")
        or columns.has("ServiceName")
    )


FOCUS = register_format(
    SourceFormat(
        name="focus",
        description="FOCUS 1.0–1.3 cost and usage (CSV)",
        detect=_detect,
        stage=_stage,
        account_export="focus",
    )
)
