"""The Overview: this month against last, spend by team over time, by model, unpriced usage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from finops import costing
from finops.session import Session
from finops.store import fetch_one

__all__ = ["Overview", "build_overview", "month_bounds"]


@dataclass(frozen=True)
class Overview:
    as_of: dt.date | None  # the last day with usage: "this month" is that day's month
    month_start: dt.date
    month_to_date_usd: Decimal
    days_elapsed: int
    last_month_start: dt.date
    last_month_usd: Decimal
    last_month_days: int
    unpriced_rows: int
    unpriced_tokens: int
    revision_id: int
    by_team_day: pl.DataFrame  # day, team, cost_usd
    by_model_month: pl.DataFrame  # provider, model, cost_usd, unpriced_rows (this month)

    @property
    def change_per_day_pct(self) -> float | None:
        """Daily run rate this month against last month's (months differ in length)."""
        if not self.last_month_usd or not self.days_elapsed:
            return None
        this_rate = self.month_to_date_usd / self.days_elapsed
        last_rate = self.last_month_usd / self.last_month_days
        return float((this_rate - last_rate) / last_rate * 100)


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """[first day of the month, first day of the next)."""
    start = day.replace(day=1)
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return start, nxt


def build_overview(session: Session, *, as_of: dt.date | None = None) -> Overview:
    con, rev = session.con, session.revision_id
    if as_of is None:
        as_of = fetch_one(con, "SELECT max(day) FROM daily_usage")[0]
    anchor = as_of or dt.date.today()
    month_start, _ = month_bounds(anchor)
    last_start, _ = month_bounds(month_start - dt.timedelta(days=1))
    end = anchor + dt.timedelta(days=1)
    this_month = costing.spend_totals(con, revision_id=rev, from_day=month_start, to_day=end)
    last_month = costing.spend_totals(con, revision_id=rev, from_day=last_start, to_day=month_start)
    everything = costing.spend_totals(con, revision_id=rev)
    by_team_day = costing.spend(con, by=["day", "team"], revision_id=rev).select(
        "day", "team", "cost_usd"
    )
    by_model = (
        costing.spend(
            con, by=["provider", "model"], revision_id=rev, from_day=month_start, to_day=end
        )
        .select("provider", "model", "cost_usd", "unpriced_rows")
        .sort("cost_usd", descending=True, nulls_last=True)
    )
    return Overview(
        as_of=as_of,
        month_start=month_start,
        month_to_date_usd=this_month.cost_usd,
        days_elapsed=(anchor - month_start).days + 1,
        last_month_start=last_start,
        last_month_usd=last_month.cost_usd,
        last_month_days=(month_start - last_start).days,
        unpriced_rows=everything.unpriced_rows,
        unpriced_tokens=everything.unpriced_tokens,
        revision_id=rev,
        by_team_day=by_team_day,
        by_model_month=by_model,
    )
