"""Azure cost details export (Cost Management): Azure OpenAI token meters, EA or MCA headers.

EA exports write PascalCase headers (`MeterName`, `CostInBillingCurrency`), MCA exports
camelCase (`meterName`, `costInBillingCurrency`); both are read. Token meters look like
`gpt 4o 1120 cached Inp glbl Tokens`: the words before the first descriptor are the model
(`gpt-4o-1120`), `Inp` / `cached Inp` / `Outp` / `Aud` / `Img` name the token class, `Batch` the
tier, and `glbl` / `regnl` / `DZone` the deployment type (kept in tags). `Quantity` is in
`UnitOfMeasure` units ("1K", "1M"), so it is scaled to tokens. Cost is `costInUsd` when the
export has it, else `CostInBillingCurrency` when billed in USD.

Other meters (compute, storage, provisioned throughput units) are skipped and counted; a file
without token meters is refused with a message saying so. Dates are US style (MM/DD/YYYY) or ISO.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

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

__all__ = ["AZURE", "azure_meter"]

_DEPLOYMENTS = {"glbl", "global", "regnl", "regional", "dz", "dzone", "datazone", "data", "zone"}
# words that end the model part of a meter name ("audio"/"image" can be part of a model name)
_CLASS_WORDS = {
    "inp",
    "input",
    "outp",
    "output",
    "cached",
    "cache",
    "cchd",
    "aud",
    "img",
    "txt",
    "batch",
    "tokens",
    "token",
    "1k",
    "1m",
    "ft",
}
_ABBREVIATIONS = {"aud": "audio", "img": "image", "cchd": "cached", "txt": "text"}
_TAG_COLUMNS = (
    "MeterCategory",
    "MeterSubCategory",
    "MeterId",
    "MeterRegion",
    "ProductName",
    "ResourceGroup",
    "ResourceGroupName",
    "ResourceLocation",
    "SubscriptionName",
    "ChargeType",
    "PricingModel",
    "UnitOfMeasure",
    "CostInBillingCurrency",
    "BillingCurrency",
    "BillingCurrencyCode",
    "CostCenter",
)


def azure_meter(meter: str) -> tuple[str, str | None, str | None, str | None]:
    """(model, token class, tier, deployment) of an Azure OpenAI meter name.

    >>> azure_meter("gpt 4o 1120 cached Inp glbl Tokens")
    ('gpt-4o-1120', 'cache_read', None, 'glbl')
    >>> azure_meter("gpt-4o-mini-0718-Batch-Outp-regnl Tokens")
    ('gpt-4o-mini-0718', 'output', 'batch', 'regnl')
    """
    words = [w for w in re.split(r"[\s\-_]+", meter.strip()) if w]
    model_words: list[str] = []
    for word in words:
        lower = word.lower()
        if model_words and (lower in _CLASS_WORDS or lower in _DEPLOYMENTS):
            break
        model_words.append(lower)
    descriptors = [w.lower() for w in words[len(model_words) :]]
    text = " ".join(_ABBREVIATIONS.get(w, w) for w in descriptors)
    deployment = next((w for w in descriptors if w in _DEPLOYMENTS), None)
    if deployment in ("data", "zone"):
        deployment = "datazone"
    tier = "batch" if "batch" in descriptors else None
    cls = token_class(text)
    if cls is None and any("embedding" in w for w in model_words):
        cls = "input"
    return "-".join(model_words), cls, tier, deployment


def _day(file: str, value: object, *, row: int, field: str) -> str:
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text[:10], pattern).date().isoformat()
        except ValueError:
            continue
    msg = f"{text[:40]!r} is not a date; Azure exports write MM/DD/YYYY or YYYY-MM-DD"
    raise IngestError(file, msg, row=row, field=field)


def _azure_tags(value: object) -> dict[str, object]:
    """Azure tags: a JSON object, or EA's brace-less `"k": "v","k2": "v2"` form."""
    if value in (None, ""):
        return {}
    text = str(value).strip()
    for candidate in (text, "{" + text + "}"):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, Mapping):
            return dict(parsed)
    return {"azure_tags": text}


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    file = str(path)
    columns, records = iter_csv_records(path)
    rows = Rows()
    meter_column = columns.find("MeterName")
    for row, record in records:
        meter = str(record.get(meter_column) or "")
        if "token" not in meter.lower():
            rows.skipped += 1
            continue
        model, cls, tier, deployment = azure_meter(meter)
        if cls is None:
            msg = f"cannot tell the token type of meter {meter!r} (expected Inp, cached Inp, Outp)"
            raise IngestError(file, msg, row=row, field=meter_column)
        unit = columns.get(record, "UnitOfMeasure")
        quantity_field = columns.find("Quantity") or "Quantity"
        tokens = scaled_count(
            file, record.get(quantity_field), unit_multiplier(unit), row=row, field=quantity_field
        )
        if tokens is None or tokens < 0:
            rows.skipped += 1  # a refund or correction line: not usage
            continue
        date_field = columns.find("Date", "UsageDate") or "Date"
        day = _day(file, record.get(date_field), row=row, field=date_field)
        end = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        usd = columns.get(record, "costInUsd", "CostInUSD")
        currency = str(
            columns.get(record, "BillingCurrency", "BillingCurrencyCode", "Currency") or ""
        )
        if usd is None and currency.upper() in ("USD", ""):
            usd = columns.get(record, "CostInBillingCurrency", "PreTaxCost", "Cost")
        cost_field = columns.find("costInUsd", "CostInBillingCurrency", "PreTaxCost", "Cost")
        raw_tags = columns.get(record, "Tags")
        tags = _azure_tags(raw_tags)
        tags.update({name: columns.get(record, name) for name in _TAG_COLUMNS})
        resource = columns.get(record, "ResourceId", "InstanceId", "InstanceName")
        tags.update(meter=meter, deployment=deployment, resource_id=resource)
        subscription = columns.get(record, "SubscriptionId", "SubscriptionGuid")
        rows.add(
            row,
            period_start=day,
            period_end=end,
            provider="azure-openai",
            model=model,
            **{f"{cls}_tokens": tokens},
            service_tier=tier,
            project_id=subscription,
            reported_cost_usd=amount(file, usd, row=row, field=cost_field or "Cost"),
            tags=tags_json(tags),
            grain="bucket",
            natural_key=natural_key(
                "azure",
                day,
                columns.get(record, "MeterId") or meter,
                resource,
                subscription,
                columns.get(record, "ChargeType"),
                columns.get(record, "PricingModel"),
                columns.get(record, "BenefitId"),
                raw_tags,
            ),
        )
    if not len(rows):
        msg = (
            f"no token meters: none of the file's {rows.skipped} rows has a MeterName with "
            "'Tokens'. Export the costs of your Azure OpenAI resources"
        )
        raise IngestError(file, msg)
    return rows.stage(con, table)


def _detect(sniff: Sniff) -> bool:
    columns = CsvColumns(sniff.csv_header or ())
    return (
        columns.has("MeterName", "Quantity")
        and (columns.has("Date") or columns.has("UsageDate"))
        and any(
            columns.has(c) for c in ("CostInBillingCurrency", "PreTaxCost", "Cost", "costInUsd")
        )
    )


AZURE = register_format(
    SourceFormat(
        name="azure-cost",
        description="Azure cost details export, EA or MCA (CSV)",
        detect=_detect,
        stage=_stage,
        account_export="azure-cost",
    )
)
