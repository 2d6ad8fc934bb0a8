from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
from conftest import FIXTURES

from finops.export.focus import FOCUS_COLUMNS, export_focus
from finops.pricing import costing
from finops.session.session import ingest, open_session

# FOCUS 1.2 column names (FinOps Foundation spec; Microsoft FocusCost 1.2 lists the same set)
SPEC_1_2 = {
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
}


def test_focus_export_has_the_spec_columns_types_and_values(loaded, tmp_path):
    db, pricing = loaded
    out = tmp_path / "march.parquet"
    with open_session(db, pricing, contracts=FIXTURES / "contracts" / "contracts.yaml") as s:
        result = export_focus(s, month=dt.date(2025, 3, 1), out=out)
    frame = pl.read_parquet(out)
    assert set(frame.columns) - SPEC_1_2 == {c for c in FOCUS_COLUMNS if c.startswith("x_")}
    assert SPEC_1_2 <= set(frame.columns)
    assert all(c.startswith("x_") for c in set(frame.columns) - SPEC_1_2)
    # every dollar of list cost is there, unpriced usage is left out and counted
    assert result.list_cost_usd == Decimal("9.01") == frame["ListCost"].sum()
    assert result.effective_cost_usd == Decimal("7.616") == frame["EffectiveCost"].sum()
    assert result.unpriced_rows_left_out == 2
    assert set(frame["ChargeCategory"]) == {"Usage"}
    assert set(frame["ChargeFrequency"]) == {"Usage-Based"}
    assert set(frame["ServiceCategory"]) == {"AI and Machine Learning"}
    assert set(frame["PricingUnit"]) <= {"1000000 Tokens", "Searches", "Requests"}
    assert set(frame["PricingCategory"]) <= {"Standard", "Dynamic", "Committed", "Other"}
    assert frame.schema["BilledCost"] == pl.Decimal(38, 12)
    assert frame.schema["ChargePeriodStart"] == pl.Datetime("us", "UTC")
    # the team is in Tags, the model and token class in x_ columns
    r6_output = frame.filter((pl.col("x_Model") == "thinker") & (pl.col("x_TokenType") == "output"))
    assert json.loads(r6_output["Tags"][0])["team"] == "research"
    assert r6_output["ListCost"][0] == Decimal("3.2")  # 80,000 output tokens × $40/M
    assert r6_output["PricingQuantity"][0] == Decimal("0.08")
    assert r6_output["ListUnitPrice"][0] == Decimal(40)


def test_reingesting_the_export_reproduces_the_totals(loaded, tmp_path):
    db, pricing = loaded
    out = tmp_path / "march.csv"
    with open_session(db, pricing) as s:
        export_focus(s, month=dt.date(2025, 3, 1), out=out)
        # unpriced usage is not exported: compare with the priced rows only
        rows = costing.priced_rows(
            s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds
        )
        before = (
            rows.filter(pl.col("cost_usd").is_not_null())
            .group_by(pl.col("model_id").alias("model"))
            .agg(
                pl.col("cost_usd").sum(),
                *[pl.col(c).sum() for c in ("input_tokens", "output_tokens", "cache_read_tokens")],
                (
                    pl.col("cache_write_5m_tokens").fill_null(0)
                    + pl.col("cache_write_1h_tokens").fill_null(0)
                )
                .sum()
                .alias("cache_write_tokens"),
            )
        )
    with open_session(tmp_path / "again.duckdb", pricing) as s:
        report = ingest(s, [out])
        after = s.spend(["model"])
    assert report.files[0].format == "focus"
    columns = [
        "model",
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
    ]
    assert (
        after.select(columns).sort("model").to_dicts()
        == before.select(columns).sort("model").to_dicts()
    )
    assert after["cost_usd"].sum() == Decimal("9.01")
