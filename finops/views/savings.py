"""The Savings page model: ranked opportunities as a table people can read and act on.

The same rows back the Savings page and ``finops opportunities``; money is written by
:mod:`finops.core.format`, one formatter everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from finops.analysis.opportunities import Opportunity
from finops.core import format as fmt

__all__ = ["KIND_LABELS", "opportunities_table"]

#: How each kind of opportunity is named on the page and in the CLI.
KIND_LABELS = {
    "model_swap": "cheaper model",
    "batch": "batch tier",
    "prompt_caching": "prompt caching",
    "service_tier": "service tier",
    "retirement": "retiring model",
}


def _range(o: Opportunity) -> str:
    if o.savings_usd_low is None or o.savings_usd_high is None:
        return "—"
    if o.savings_usd_low == o.savings_usd_high:
        return "no range"
    return f"{fmt.usd(o.savings_usd_low)} to {fmt.usd(o.savings_usd_high)}"


def opportunities_table(found: Sequence[Opportunity]) -> pl.DataFrame:
    """One formatted row per opportunity, ranked as given (largest saving per month first).

    Columns: rank, kind, what, per month (the saving), range, of moved (share of the moved
    workload's cost), by (the retirement date, if any).
    """
    rows = [
        {
            "rank": index,
            "kind": KIND_LABELS.get(o.kind, o.kind),
            "what": o.title,
            "per month": fmt.usd(o.savings_usd),
            "range": _range(o),
            "of moved": fmt.exact_pct(o.savings_pct_of_moved),
            "by": "" if o.deadline is None else o.deadline.isoformat(),
        }
        for index, o in enumerate(found, start=1)
    ]
    schema = {
        "rank": pl.Int64,
        "kind": pl.Utf8,
        "what": pl.Utf8,
        "per month": pl.Utf8,
        "range": pl.Utf8,
        "of moved": pl.Utf8,
        "by": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
