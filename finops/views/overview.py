"""The Overview: this month against last, the month-end projection, spend over time, by model.

Everything comes from one spend query (day × team × provider × model, restricted to the
filter's teams, providers and models) and is sliced from it, so every number on the page
agrees with every other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from finops.analysis.filters import (
    SpendFilter,
    filtered_spend,
    monthly_budget,
    regroup,
    tokens_expr,
)
from finops.analysis.forecast.outlook import Projection
from finops.analysis.forecast.selection import month_projection
from finops.core.months import month_bounds
from finops.lake.attach import source_note
from finops.pricing.costing import unpriced_warning
from finops.session.session import Session

__all__ = ["OVER_TIME_DIMENSIONS", "Overview", "build_overview"]

#: Dimensions `Overview.over_time` can split spend by.
OVER_TIME_DIMENSIONS = ("team", "model", "provider")


@dataclass(frozen=True)
class Overview:
    as_of: dt.date | None  # the last day with usage (within the filter): "this month" is its month
    month_start: dt.date
    month_to_date_usd: Decimal
    days_elapsed: int
    days_in_month: int
    last_month_start: dt.date
    last_month_usd: Decimal
    last_month_days: int
    last_month_same_days_usd: Decimal  # last month's first `days_elapsed` days
    month_to_date_effective_usd: Decimal  # after contracts (contracts.yaml); = list without
    last_month_effective_usd: Decimal
    unpriced_rows: int
    unpriced_tokens: int
    tokens: int  # every token in the range, priced or not
    revision_id: int
    projection: Projection | None
    budget_usd: Decimal | None  # this month's budget for the filter's teams (teams.yaml)
    daily: pl.DataFrame  # day, team, provider, model, cost_usd (the filter's date range)
    by_model_month: pl.DataFrame  # provider, model, cost_usd, unpriced_rows (this month)
    filter: SpendFilter = field(default_factory=SpendFilter)
    source: str | None = None  # where the data came from, when not (only) from uploads

    @property
    def unpriced_warning(self) -> str | None:
        """Set when more than 1% of the range's tokens are unpriced, naming the fixing command."""
        return unpriced_warning(self.unpriced_tokens, self.tokens)

    @property
    def change_per_day_pct(self) -> float | None:
        """Daily run rate this month against last month's (months differ in length)."""
        if not self.last_month_usd or not self.days_elapsed:
            return None
        this_rate = self.month_to_date_usd / self.days_elapsed
        last_rate = self.last_month_usd / self.last_month_days
        return float((this_rate - last_rate) / last_rate * 100)

    @property
    def change_same_days_pct(self) -> float | None:
        """Month to date against the same number of days at the start of last month."""
        if not self.last_month_same_days_usd:
            return None
        return float(
            (self.month_to_date_usd - self.last_month_same_days_usd)
            / self.last_month_same_days_usd
            * 100
        )

    @property
    def projected_vs_last_month_pct(self) -> float | None:
        if self.projection is None or not self.projection.available or not self.last_month_usd:
            return None
        last = float(self.last_month_usd)
        return (self.projection.mean - last) / last * 100

    @property
    def projected_vs_budget_pct(self) -> float | None:
        """The month-end projection against the budget (over budget is positive)."""
        if self.projection is None or not self.projection.available or not self.budget_usd:
            return None
        budget = float(self.budget_usd)
        return (self.projection.mean - budget) / budget * 100

    @property
    def period_usd(self) -> Decimal:
        """Total spend in the filter's date range (what the charts show)."""
        total = self.daily["cost_usd"].sum() if self.daily.height else None
        return Decimal(total or 0)

    @property
    def by_team_day(self) -> pl.DataFrame:
        return self.over_time("team")

    def over_time(self, dimension: str, *, top: int | None = None) -> pl.DataFrame:
        """day, `dimension`, cost_usd; with `top`, the rest of the values become 'other'."""
        if dimension not in OVER_TIME_DIMENSIONS:
            msg = f"cannot split spend by {dimension!r}; choose {', '.join(OVER_TIME_DIMENSIONS)}"
            raise ValueError(msg)
        frame = self.daily.select("day", dimension, "cost_usd").filter(
            pl.col("cost_usd").is_not_null()
        )
        if top is not None:
            ranked = (
                frame.group_by(dimension)
                .agg(pl.col("cost_usd").sum())
                .sort("cost_usd", descending=True)
            )
            keep = ranked[dimension].head(top).to_list()
            frame = frame.with_columns(
                pl.when(pl.col(dimension).is_in(keep))
                .then(pl.col(dimension))
                .otherwise(pl.lit("other"))
                .alias(dimension)
            )
        return frame.group_by("day", dimension).agg(pl.col("cost_usd").sum()).sort("day", dimension)


def _sum(frame: pl.DataFrame, start: dt.date, end: dt.date, column: str = "cost_usd") -> Decimal:
    part = frame.filter((pl.col("day") >= start) & (pl.col("day") < end))
    total = part[column].sum() if part.height else None
    return Decimal(total or 0)


def build_overview(
    session: Session,
    *,
    as_of: dt.date | None = None,
    filters: SpendFilter | None = None,
    project: bool = True,
) -> Overview:
    """The Overview for the filter: "this month" is the month of the last day with usage
    (at or before the filter's end), compared with last month; the month end is projected
    with `finops.analysis.forecast.api` when the month is not over (`project=False` skips it)."""
    flt = filters or SpendFilter()
    rev = session.revision_id
    if as_of is None:
        as_of = session.today(before=flt.to_day)
    anchor = as_of or dt.date.today()  # an empty store: the calendar month frames nothing
    month_start, next_month = month_bounds(anchor)
    last_start, _ = month_bounds(month_start - dt.timedelta(days=1))
    end = anchor + dt.timedelta(days=1)
    history = SpendFilter(to_day=end, teams=flt.teams, providers=flt.providers, models=flt.models)
    keys = ["day", "team", "provider", "model"]
    cube = filtered_spend(session, history, by=keys)
    in_range = cube
    if flt.from_day is not None:
        in_range = in_range.filter(pl.col("day") >= flt.from_day)
    this_month = cube.filter(pl.col("day") >= month_start)
    by_model = (
        regroup(this_month, ["provider", "model"])
        .select("provider", "model", "cost_usd", "unpriced_rows")
        .sort("cost_usd", descending=True, nulls_last=True)
    )
    days_elapsed = (anchor - month_start).days + 1
    projection = None
    if project and as_of is not None:
        projection = month_projection(session, month_start, today=as_of, flt=flt)
    return Overview(
        as_of=as_of,
        month_start=month_start,
        month_to_date_usd=_sum(cube, month_start, end),
        days_elapsed=days_elapsed,
        days_in_month=(next_month - month_start).days,
        last_month_start=last_start,
        last_month_usd=_sum(cube, last_start, month_start),
        last_month_days=(month_start - last_start).days,
        last_month_same_days_usd=_sum(
            cube, last_start, min(month_start, last_start + dt.timedelta(days=days_elapsed))
        ),
        month_to_date_effective_usd=_sum(cube, month_start, end, "effective_cost_usd"),
        last_month_effective_usd=_sum(cube, last_start, month_start, "effective_cost_usd"),
        unpriced_rows=int(in_range["unpriced_rows"].sum()),
        unpriced_tokens=int(in_range["unpriced_tokens"].sum()),
        tokens=int(in_range.select(tokens_expr().sum()).item()),
        revision_id=rev,
        projection=projection,
        budget_usd=monthly_budget(session, flt),
        daily=in_range.select("day", "team", "provider", "model", "cost_usd"),
        by_model_month=by_model,
        filter=flt,
        source=source_note(session),
    )
