"""Reconciliation: does computed cost match what the provider billed (or a tool estimated)?

Compares, by day × provider × model, finops' cost (effective cost, so contract discounts
count) with billed cost from provider cost data sets, or else the tool estimate carried on
usage rows, and lists differences above a threshold with their likely reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from finops.core.format import plural
from finops.core.store import relation
from finops.pricing.costing import priced_sql
from finops.session.session import Session

__all__ = ["likely_reason", "reconcile"]


def likely_reason(row: dict) -> str:
    """A best guess at why computed and reported cost differ, from what the row shows."""
    computed, reference = row["computed_usd"], row["reported_usd"]
    if computed is None or computed == 0:
        if row["unpriced_rows"]:
            rows = plural(row["unpriced_rows"], "row")
            return f"unpriced usage: {rows} without a catalog price (finops unpriced)"
        return "missing usage: the provider billed this day and model, but no usage was loaded"
    if reference is None or reference == 0:
        return "no reported cost for this usage (is the cost export missing this day?)"
    if row["unpriced_rows"]:
        rows = plural(row["unpriced_rows"], "row")
        return f"unpriced usage: {rows} not in the computed cost"
    ratio = reference / computed
    if (
        row["list_cost_usd"]
        and row["effective_cost_usd"] != row["list_cost_usd"]
        and abs(reference - row["list_cost_usd"]) < abs(reference - computed)
    ):
        return "discount: the reported cost matches list price; is the contract applied by the provider?"
    if Decimal("0.45") <= ratio <= Decimal("0.55") and not row["has_batch"]:
        return "tier: about half the computed cost — batch usage reported as standard?"
    if ratio > 1 and row["has_long_context"]:
        return "tier: long-context requests may be billed at the higher band"
    if Decimal("1.4") <= ratio <= Decimal("2.1"):
        return "tier: reported well above computed — long-context or priority tier not in the usage export?"
    if ratio < 1:
        return (
            "discount or credits on the bill not in contracts.yaml, or usage counted twice upstream"
        )
    return "missing usage: part of the billed usage was not loaded"


def reconcile(
    session: Session,
    *,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
    threshold_pct: float = 1.0,
    all_rows: bool = False,
) -> pl.DataFrame:
    """Rows where computed and reported cost differ by more than `threshold_pct` percent.

    `reported_usd` is billed cost where a provider cost data set covers the row, else the
    tool estimate; `source` says which. With `all_rows`, every compared row is returned.
    """
    params = {"revision_id": session.revision_id, "from_day": from_day, "to_day": to_day}
    sql = relation("reconciliation", priced=priced_sql())
    frame = session.query(sql, params)
    rows = []
    limit = Decimal(str(threshold_pct)) / 100
    for row in frame.to_dicts():
        row["computed_usd"] = row["effective_cost_usd"]
        if row["billed_usd"] is not None:
            row["reported_usd"], row["source"] = row["billed_usd"], "billed"
        else:
            row["reported_usd"], row["source"] = row["tool_estimate_usd"], "tool estimate"
        computed = row["computed_usd"] or Decimal(0)
        reference = row["reported_usd"] or Decimal(0)
        row["difference_usd"] = computed - reference
        base = max(abs(reference), abs(computed))
        row["difference_pct"] = float(row["difference_usd"] / base * 100) if base else 0.0
        flagged = base > 0 and abs(row["difference_usd"]) > limit * base
        row["reason"] = likely_reason(row) if flagged else None
        if flagged or all_rows:
            rows.append(row)
    columns = [
        "day",
        "provider",
        "model",
        "computed_usd",
        "reported_usd",
        "source",
        "difference_usd",
        "difference_pct",
        "list_cost_usd",
        "unpriced_rows",
        "reason",
    ]
    schema = {
        **{c: frame.schema.get(c, pl.Utf8) for c in columns if c in frame.columns},
        "computed_usd": pl.Decimal(38, 12),
        "reported_usd": pl.Decimal(38, 12),
        "difference_usd": pl.Decimal(38, 12),
        "difference_pct": pl.Float64,
        "source": pl.Utf8,
        "reason": pl.Utf8,
    }
    return pl.DataFrame(
        [{c: r[c] for c in columns} for r in rows], schema={c: schema[c] for c in columns}
    )
