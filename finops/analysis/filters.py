"""Spend filtered by date range, team, provider and model: what every app page and the review use.

`costing.spend` groups by allowlisted keys over a day range; a filter on team, provider or model
adds those keys to the grouping, keeps the chosen values, and sums back up to the keys asked
for. Money stays Decimal; unpriced rows and tokens are carried through every sum.

>>> SpendFilter(teams=("search",)).describe()
'team search'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from finops.pricing import costing
from finops.session.session import Session

__all__ = [
    "FilterOptions",
    "SpendFilter",
    "filter_options",
    "filtered_spend",
    "monthly_budget",
    "regroup",
    "tokens_expr",
]

_DIMENSIONS = ("team", "provider", "model")


@dataclass(frozen=True)
class SpendFilter:
    """Days [from_day, to_day) (None = open) and the teams, providers, models kept (() = all)."""

    from_day: dt.date | None = None
    to_day: dt.date | None = None
    teams: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def values(self, dimension: str) -> tuple[str, ...]:
        return {"team": self.teams, "provider": self.providers, "model": self.models}[dimension]

    @property
    def dimensions(self) -> list[str]:
        """The dimensions this filter restricts."""
        return [d for d in _DIMENSIONS if self.values(d)]

    def describe(self) -> str:
        """A short human description, e.g. 'team search; provider openai, anthropic'."""
        parts = [f"{d} {', '.join(self.values(d))}" for d in self.dimensions]
        if self.from_day or self.to_day:
            last = self.to_day - dt.timedelta(days=1) if self.to_day else None
            parts.insert(0, f"{self.from_day or '…'} to {last or '…'}")
        return "; ".join(parts) or "everything"

    def without_dates(self) -> SpendFilter:
        return SpendFilter(teams=self.teams, providers=self.providers, models=self.models)


@dataclass(frozen=True)
class FilterOptions:
    """What can be chosen: the store's teams, providers, models and its first and last day."""

    teams: list[str]
    providers: list[str]
    models: list[str]
    first_day: dt.date | None
    last_day: dt.date | None


def filter_options(session: Session) -> FilterOptions:
    """Every team, provider and (catalog-resolved) model in the store, and the days it spans."""
    frame = session.spend(["team", "provider", "model"])
    first_day, last_day = session.day_span()
    return FilterOptions(
        teams=sorted(frame["team"].unique().to_list()),
        providers=sorted(frame["provider"].unique().to_list()),
        models=sorted(frame["model"].unique().to_list()),
        first_day=first_day,
        last_day=last_day,
    )


def monthly_budget(session: Session, flt: SpendFilter) -> Decimal | None:
    """The monthly budget of the filter's teams, from the teams map (`monthly_budget_usd`).

    Everything: the map's overall budget, else the sum of every team's. Some teams: the sum of
    theirs. None when a team has no budget, when there is no map, or when the filter narrows
    providers or models (a budget is per team, not per slice of a team).
    """
    alloc = session.allocation
    if alloc is None or flt.providers or flt.models:
        return None
    # a restricted viewer's map holds only their teams' budgets, its total theirs
    # (finops.session.access.restrict_to_teams)
    if not flt.teams and alloc.monthly_budget_usd is not None:
        return Decimal(alloc.monthly_budget_usd)
    names = flt.teams or tuple(alloc.teams)
    budgets = [alloc.teams[t].monthly_budget_usd if t in alloc.teams else None for t in names]
    if not budgets or any(b is None for b in budgets):
        return None
    return Decimal(sum(budgets))


def tokens_expr() -> pl.Expr:
    """Billed tokens of a `costing.spend` frame: input, cache read/write and output."""
    return (
        pl.col("input_tokens")
        + pl.col("cache_read_tokens")
        + pl.col("cache_write_tokens")
        + pl.col("output_tokens")
    )


def regroup(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Sum a `costing.spend` frame up to the keys `by` (cost stays NULL where nothing priced)."""
    measures = [c for c in costing.SPEND_MEASURES if c in frame.columns]
    aggs = [
        pl.when(pl.col(m).is_not_null().any()).then(pl.col(m).sum()).otherwise(None).alias(m)
        if m.endswith("_usd")
        else pl.col(m).sum()
        for m in measures
    ]
    if not by:
        if frame.is_empty():
            return _empty_spend([])
        return frame.select(aggs)
    return frame.group_by(by, maintain_order=False).agg(aggs).sort(by)


def _empty_spend(by: list[str]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        k: (pl.Date if k in ("day", "month") else pl.Utf8) for k in by
    }
    for m in costing.SPEND_MEASURES:
        schema[m] = pl.Decimal(38, 12) if m.endswith("_usd") else pl.Int128  # as spend sums
    return pl.DataFrame(schema=schema)


def _splits(session: Session) -> bool:
    """Whether the session's allocation map shares usage out with split rules."""
    return session.allocation is not None and any(r.split for r in session.allocation.rules)


def filtered_spend(session: Session, flt: SpendFilter, *, by: list[str]) -> pl.DataFrame:
    """`Session.spend` grouped by `by`, restricted to the filter's days, teams, providers, models.

    One query: the filtered dimensions join the grouping, rows outside the chosen values are
    dropped, and the rest is summed back to `by`. Teams are the session's allocation (shared
    usage already split out), so a team's numbers here equal `finops spend --by team`.
    """
    keys = list(dict.fromkeys([*by, *flt.dimensions]))
    options = {}
    if flt.teams and not _splits(session):
        # without split rules a team's rows are its own: keep only them in SQL (much less to
        # read back); a split rule's shares are only known after summing, so filter after
        options["only_teams"] = list(flt.teams)
    frame = session.spend(keys, from_day=flt.from_day, to_day=flt.to_day, **options)
    for dimension in flt.dimensions:
        frame = frame.filter(pl.col(dimension).is_in(list(flt.values(dimension))))
    if keys == list(by):
        return frame
    return regroup(frame, list(by))
