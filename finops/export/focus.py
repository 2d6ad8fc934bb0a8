"""FOCUS 1.2 export: priced AI usage as FinOps-standard cost and usage rows.

FOCUS has no model or token-type column, so each row is one token class (or fee) of one day ×
provider × model × tier × long-context band × project × team, with the model and class in
`x_`-prefixed custom columns and the team in Tags. Unpriced usage has no cost to state and is
left out (counted in the result). Re-ingesting the file with `finops ingest` gives back the
same token totals and cost.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from finops.core.cells import neutralise_frame
from finops.core.schema import TOKEN_CLASSES
from finops.pricing.allocation import SPLIT_PREFIX, apply_splits
from finops.pricing.costing import priced_sql
from finops.session.session import Session

__all__ = ["FOCUS_COLUMNS", "FocusExport", "export_focus", "focus_rows"]

#: FOCUS 1.2 columns, in the order the spec lists them, then our x_ columns.
FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_Model",
    "x_TokenType",
    "x_ServiceTier",
    "x_LongContext",
    "x_Team",
    "x_CatalogRevision",
)
_MONEY = (
    "BilledCost",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "PricingCurrencyEffectiveCost",
)
_UNIT_PRICES = (
    "ContractedUnitPrice",
    "ListUnitPrice",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyListUnitPrice",
)
_MTOK = Decimal(1_000_000)
_FEES = (
    ("request", "requests", "usd_per_request", "request_fee_usd", "Requests"),
    ("web_search", "web_search_requests", "usd_per_web_search", "web_search_cost_usd", "Searches"),
)
_PUBLISHERS = {
    "aws-bedrock": "Amazon Web Services",
    "azure-openai": "Microsoft",
    "google-vertex": "Google Cloud",
    "google": "Google",
}


@dataclass(frozen=True)
class FocusExport:
    path: Path
    rows: int
    list_cost_usd: Decimal
    effective_cost_usd: Decimal
    unpriced_rows_left_out: int


def _share(total: Decimal, parts: list[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `parts`, exactly (residue on the largest part)."""
    whole = sum(parts)
    if not whole:
        return [Decimal(0)] * len(parts)
    out = [(total * p / whole).quantize(Decimal("0.000000000001")) for p in parts]
    out[max(range(len(parts)), key=lambda i: parts[i])] += total - sum(out)
    return out


def focus_rows(session: Session, *, from_day: dt.date, to_day: dt.date) -> tuple[pl.DataFrame, int]:
    """FOCUS rows for days in [from_day, to_day), and how many unpriced rows were left out."""
    params = {"revision_id": session.revision_id, "from_day": from_day, "to_day": to_day}
    source = priced_sql()
    if session.allocation is not None:
        # the team is the one teams.yaml gives (as in finops spend), shared rows split below
        source = session.owned_rows_sql(source)
    priced = session.query(f"SELECT * FROM ({source})", params)
    if "owner" in priced.columns:
        priced = priced.with_columns(pl.col("owner").alias("team"))
    unpriced = int(priced.filter(pl.col("cost_usd").is_null())["usage_rows"].sum() or 0)
    billing_start = from_day.replace(day=1)
    billing_end = (billing_start + dt.timedelta(days=32)).replace(day=1)
    out = []
    for r in priced.filter(pl.col("cost_usd").is_not_null()).iter_rows(named=True):
        lines = []  # (class, quantity, unit label, list rate per unit, list cost)
        for cls in TOKEN_CLASSES:
            tokens = r[f"{cls}_tokens"]
            if tokens:
                rate = r[f"usd_per_{cls}"]
                lines.append((cls, Decimal(tokens), "Tokens", rate, r[f"{cls}_cost_usd"]))
        for cls, count_col, rate_col, cost_col, unit in _FEES:
            if r[count_col] and r[rate_col]:
                lines.append((cls, Decimal(r[count_col]), unit, r[rate_col], r[cost_col]))
        if not lines:
            continue
        effective = _share(r["effective_cost_usd"], [line[4] for line in lines])
        tags = {}
        if r["project_id"]:
            tags["project_id"] = r["project_id"]
        if r["api_key_id"]:
            tags["api_key_id"] = r["api_key_id"]
        model = r["model_id"] or r["model"]
        start = dt.datetime.combine(r["day"], dt.time())
        for (cls, quantity, unit, rate, list_cost), eff in zip(lines, effective):
            per_mtok = unit == "Tokens"
            pricing_quantity = quantity / _MTOK if per_mtok else quantity
            unit_price = rate * _MTOK if per_mtok else rate
            effective_unit = (eff / pricing_quantity) if pricing_quantity else Decimal(0)
            out.append(
                {
                    "BilledCost": eff,
                    "BillingAccountId": r["provider"],
                    "BillingAccountName": r["provider"],
                    "BillingAccountType": "Organization",
                    "BillingCurrency": "USD",
                    "BillingPeriodEnd": dt.datetime.combine(billing_end, dt.time()),
                    "BillingPeriodStart": dt.datetime.combine(billing_start, dt.time()),
                    "ChargeCategory": "Usage",
                    "ChargeDescription": f"{model} {cls.replace('_', ' ')} ({r['service_tier']})",
                    "ChargeFrequency": "Usage-Based",
                    "ChargePeriodEnd": start + dt.timedelta(days=1),
                    "ChargePeriodStart": start,
                    "CommitmentDiscountStatus": None,
                    "ConsumedQuantity": quantity,
                    "ConsumedUnit": unit,
                    "ContractedCost": eff,
                    "ContractedUnitPrice": effective_unit.quantize(Decimal("0.000000000001")),
                    "EffectiveCost": eff,
                    "InvoiceIssuerName": _PUBLISHERS.get(r["provider"], r["provider"]),
                    "ListCost": list_cost,
                    "ListUnitPrice": unit_price,
                    "PricingCategory": "Standard" if r["contract"] is None else "Other",
                    "PricingCurrency": "USD",
                    "PricingCurrencyContractedUnitPrice": effective_unit.quantize(
                        Decimal("0.000000000001")
                    ),
                    "PricingCurrencyEffectiveCost": eff,
                    "PricingCurrencyListUnitPrice": unit_price,
                    "PricingQuantity": pricing_quantity,
                    "PricingUnit": "1000000 Tokens" if per_mtok else unit,
                    "ProviderName": r["provider"],
                    "PublisherName": _PUBLISHERS.get(r["provider"], r["provider"]),
                    "ServiceCategory": "AI and Machine Learning",
                    "ServiceName": f"{r['provider']} API",
                    "ServiceSubcategory": "Generative AI",
                    "SkuId": f"{r['provider']}:{model}",
                    "SkuMeter": cls,
                    "SkuPriceId": f"{r['provider']}:{model}:{r['service_tier']}:{r['prompt_band']}:{cls}",
                    "SubAccountId": r["project_id"],
                    "SubAccountName": r["project_id"],
                    "SubAccountType": "Project" if r["project_id"] else None,
                    "Tags": json.dumps(tags, sort_keys=True),  # + the team, once split
                    "x_Model": model,
                    "x_TokenType": cls,
                    "x_ServiceTier": r["service_tier"],
                    "x_LongContext": "true" if r["prompt_band"] else "false",
                    "x_Team": r["team"] or "unallocated",
                    "x_CatalogRevision": str(session.revision_id),
                }
            )
    schema = {c: pl.Utf8 for c in FOCUS_COLUMNS}
    schema.update({c: pl.Decimal(38, 12) for c in (*_MONEY, *_UNIT_PRICES)})
    schema.update(
        {
            "ConsumedQuantity": pl.Decimal(38, 6),
            "PricingQuantity": pl.Decimal(38, 12),
            "CommitmentDiscountQuantity": pl.Decimal(38, 6),
        }
    )
    for c in ("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"):
        schema[c] = pl.Datetime("us", "UTC")
    frame = pl.DataFrame(
        out,
        schema={
            k: (pl.Datetime("us") if v == pl.Datetime("us", "UTC") else v)
            for k, v in schema.items()
        },
    )
    frame = frame.with_columns(
        [
            pl.col(c).dt.replace_time_zone("UTC")
            for c in (
                "BillingPeriodEnd",
                "BillingPeriodStart",
                "ChargePeriodEnd",
                "ChargePeriodStart",
            )
        ]
    )
    frame = _split_shared(session, frame, params)
    tags = [
        json.dumps({**json.loads(t), "team": team}, sort_keys=True)
        for t, team in zip(frame["Tags"], frame["x_Team"], strict=True)
    ]
    frame = frame.with_columns(pl.Series("Tags", tags, dtype=pl.Utf8))
    return frame.select(FOCUS_COLUMNS), unpriced


_QUANTITIES = ("ConsumedQuantity", "PricingQuantity")


def _split_shared(session: Session, frame: pl.DataFrame, params: dict) -> pl.DataFrame:
    """Lines of usage a teams.yaml rule splits (`__split:<rule>` teams) become one line per
    team, money shared out exactly as `finops spend` shares it (by the teams' direct spend in
    the month), quantities by the same weights."""
    is_split = pl.col("x_Team").str.starts_with(SPLIT_PREFIX)
    if session.allocation is None or frame.filter(is_split).is_empty():
        return frame
    direct = session.query(
        "SELECT CAST(date_trunc('month', day) AS DATE) AS month, owner AS team, "
        "sum(cost_usd) AS cost_usd FROM "
        f"({session.owned_rows_sql(priced_sql())}) "
        f"WHERE NOT starts_with(owner, '{SPLIT_PREFIX}') GROUP BY ALL",
        params,
    )
    direct_by = {
        (r["month"], r["team"]): r["cost_usd"]
        for r in direct.to_dicts()
        if r["cost_usd"] is not None
    }
    measures = [*_MONEY, *_QUANTITIES]
    exact = pl.Decimal(38, 12)
    lines = frame.with_columns(
        pl.col("x_Team").alias("team"),
        pl.col("BillingPeriodStart").dt.date().alias("_month"),
        *[pl.col(q).cast(exact) for q in _QUANTITIES],
    ).drop("x_Team")
    keys = [c for c in lines.columns if c not in (*measures, "_month")]
    shared = apply_splits(lines, session.allocation, direct_by, keys=keys, measures=measures)
    return shared.rename({"team": "x_Team"}).with_columns(
        pl.col("ConsumedQuantity").cast(frame.schema["ConsumedQuantity"]),
        pl.col("PricingQuantity").cast(frame.schema["PricingQuantity"]),
    )


def export_focus(session: Session, *, month: dt.date, out: str | Path) -> FocusExport:
    """Write a month's FOCUS rows to `out` (.csv or .parquet)."""
    path = Path(out)
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    frame, unpriced = focus_rows(session, from_day=start, to_day=end)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.write_parquet(path)
    elif suffix == ".csv":
        neutralise_frame(frame).with_columns(
            [
                pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                for c in (
                    "BillingPeriodEnd",
                    "BillingPeriodStart",
                    "ChargePeriodEnd",
                    "ChargePeriodStart",
                )
            ]
        ).write_csv(path)
    else:
        msg = f"{path}: write .csv or .parquet"
        raise ValueError(msg)
    return FocusExport(
        path=path,
        rows=frame.height,
        list_cost_usd=Decimal(frame["ListCost"].sum() or 0),
        effective_cost_usd=Decimal(frame["EffectiveCost"].sum() or 0),
        unpriced_rows_left_out=unpriced,
    )
