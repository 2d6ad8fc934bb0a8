"""Every number of the monthly review, computed once (`build_review` → `MonthlyReview`).

Money is list cost (`cost_usd`: catalog prices in force on the day of use); effective cost
after contract discounts is kept beside it where a contracts file makes them differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

import polars as pl

from finops.analysis.anomalies import AnomalyConfig
from finops.analysis.budgets import BASIS_EFFECTIVE, budget_status, judged_basis, spend_in_cents
from finops.analysis.filters import (
    SpendFilter,
    filtered_spend,
    monthly_budget,
    regroup,
    tokens_expr,
)
from finops.analysis.forecast.outlook import Projection
from finops.analysis.forecast.selection import month_projection
from finops.analysis.opportunities import Opportunity
from finops.analysis.pvm import (
    allocate_cents,
    effects_in_cents,
    price_volume_mix,
    priced_tokens,
    summarize_effects,
)
from finops.analysis.unit_economics import with_unit_economics
from finops.core.months import month_end
from finops.pricing import costing
from finops.session.session import Session
from finops.views.anomalies import find_for_filter
from finops.views.plans import default_plans_path, planned_outlook
from finops.views.savings import store_opportunities

__all__ = [
    "TOP_MOVERS",
    "MonthlyReview",
    "TeamSpend",
    "build_review",
    "default_month",
    "default_month_for",
    "months_between",
]

TOP_MOVERS = 10
_CELL = ["team", "provider", "model"]


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _prev_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every month from `first`'s to `last`'s, newest first."""
    months, month = [], last.replace(day=1)
    while month >= first.replace(day=1):
        months.append(month)
        month = _prev_month(month)
    return months


def default_month_for(first: dt.date, last: dt.date) -> dt.date:
    """The last complete month in [first, last] (the month of `last` if none is complete)."""
    if last == month_end(last):
        return last.replace(day=1)
    previous = _prev_month(last.replace(day=1))
    return previous if first <= month_end(previous) else last.replace(day=1)


def default_month(session: Session) -> dt.date | None:
    """The month to review by default: the last complete month with usage."""
    first, last = session.day_span()
    return None if last is None else default_month_for(first, last)


class TeamSpend(NamedTuple):
    """A team's month to date as budgets judge it (effective cost with contracts)."""

    paid: Decimal  # on the budget's basis, in the cents the Budgets page shows
    listed: Decimal  # at list prices, likewise
    exact: Decimal  # on the budget's basis, exact: what is compared with the budget


@dataclass(frozen=True)
class MonthlyReview:
    month: dt.date  # first day
    prev_month: dt.date
    days: int  # days in the month
    days_covered: int  # days of the month the store has data for (to as_of)
    prev_days: int
    as_of: dt.date
    filter: SpendFilter
    revision_id: int
    total_usd: Decimal
    prev_total_usd: Decimal
    effective_usd: Decimal
    prev_effective_usd: Decimal
    volume_usd: Decimal
    mix_usd: Decimal
    price_usd: Decimal
    effects: pl.DataFrame  # PVM per team × provider × model (finops.analysis.pvm columns)
    by_team: pl.DataFrame  # team, base/current/change and the three effects
    by_model: pl.DataFrame  # provider, model, likewise
    movers_up: pl.DataFrame
    movers_down: pl.DataFrame
    new_models: pl.DataFrame  # provider, model, first_day, cost_usd, requests
    retired_models: pl.DataFrame  # provider, model, last_day, prev_cost_usd
    anomalies: pl.DataFrame  # FINDING_SCHEMA rows of the month
    unallocated_usd: Decimal
    unpriced_rows: int
    unpriced_tokens: int
    tokens: int
    usage_rows_unpriced: pl.DataFrame  # provider, model, reason, rows, tokens
    catalog_changes: pl.DataFrame
    unit_economics: pl.DataFrame  # team (and "all teams"), both months' unit economics
    daily: pl.DataFrame  # day, cost_usd (this month)
    prev_daily: pl.DataFrame
    monthly: pl.DataFrame  # month, cost_usd (up to six months to this one)
    forecast: Projection | None  # next month
    budget_usd: Decimal | None  # monthly budget for the filter's teams (teams.yaml)
    notes: list[str] = field(default_factory=list)
    team_budgets: dict[str, Decimal] = field(default_factory=dict)  # teams.yaml, per team
    #: what budgets are judged on: "effective cost" with contracts, else "list cost"
    budget_basis: str = "list cost"
    #: per team: its month as the Budgets page and `finops budgets` show and judge it
    team_spent: dict[str, TeamSpend] = field(default_factory=dict)
    opportunities: list[Opportunity] = field(default_factory=list)  # savings, largest first
    #: with a plans.yaml beside the store (or FINOPS_PLANS) and no filter: as is and as
    #: planned by month (finops.views.plans.planned_outlook)
    planned: pl.DataFrame | None = None

    @property
    def judged_on_effective(self) -> bool:
        """Budgets are judged on effective cost (contracts) and it differs from list."""
        return self.budget_basis == BASIS_EFFECTIVE and self.effective_usd != self.total_usd

    @property
    def effective_rate(self) -> Decimal:
        """This month's effective cost per dollar of list cost (1 without contracts)."""
        if not self.judged_on_effective or not self.total_usd:
            return Decimal(1)
        return self.effective_usd / self.total_usd

    @property
    def complete(self) -> bool:
        return self.days_covered == self.days

    @property
    def change_usd(self) -> Decimal:
        return self.total_usd - self.prev_total_usd

    @property
    def change_pct(self) -> float | None:
        if not self.prev_total_usd:
            return None
        return float(self.change_usd / self.prev_total_usd * 100)

    @property
    def per_day_usd(self) -> Decimal:
        return self.total_usd / self.days_covered

    @property
    def prev_per_day_usd(self) -> Decimal:
        return self.prev_total_usd / self.prev_days

    @property
    def per_day_change_pct(self) -> float | None:
        if not self.prev_per_day_usd:
            return None
        return float((self.per_day_usd - self.prev_per_day_usd) / self.prev_per_day_usd * 100)

    @property
    def unallocated_share(self) -> float | None:
        return float(self.unallocated_usd / self.total_usd) if self.total_usd else None

    @property
    def unpriced_token_share(self) -> float | None:
        return self.unpriced_tokens / self.tokens if self.tokens else None

    def bridge_cents(self) -> dict[str, Decimal]:
        """The totals and effects as presented: in cents, footing exactly.

        Each total and the volume and mix effects are rounded to the cent; the change is the
        difference of the rounded totals and the price effect what is left of it, so the
        bridge last month + volume + mix + price = this month holds on the page.
        """
        prev, total, volume, mix = (
            allocate_cents([v])[0]
            for v in (self.prev_total_usd, self.total_usd, self.volume_usd, self.mix_usd)
        )
        change = total - prev
        return {
            "prev_total_usd": prev,
            "total_usd": total,
            "change_usd": change,
            "volume_usd": volume,
            "mix_usd": mix,
            "price_usd": change - volume - mix,
        }

    def cells_in_cents(self) -> pl.DataFrame:
        """Every team × provider × model cell in cents footing to `bridge_cents()`: the rows
        the movers tables show (the same cents `finops spend --by team,provider,model`
        prints for the month), largest change first."""
        totals = {
            "base_usd": self.prev_total_usd,
            "current_usd": self.total_usd,
            "volume_usd": self.volume_usd,
            "mix_usd": self.mix_usd,
        }
        cells = effects_in_cents(self.effects.sort(_CELL), totals)
        return cells.sort(
            pl.col("change_usd").abs(), *_CELL, descending=[True, False, False, False]
        )

    def effects_table(self, by: str) -> pl.DataFrame:
        """Effects by `team` or `model` in cents that foot to `bridge_cents()`."""
        frame = {"team": self.by_team, "model": self.by_model}[by]
        totals = {
            "base_usd": self.prev_total_usd,
            "current_usd": self.total_usd,
            "volume_usd": self.volume_usd,
            "mix_usd": self.mix_usd,
        }
        return effects_in_cents(frame, totals)

    @property
    def title(self) -> str:
        scope = "" if not self.filter.dimensions else f" — {self.filter.describe()}"
        return f"AI spend review, {self.month:%B %Y}{scope}"


def _decimal_sum(frame: pl.DataFrame, column: str = "cost_usd") -> Decimal:
    total = frame[column].sum() if frame.height else None
    return Decimal(total or 0)


def _cells(frame: pl.DataFrame) -> pl.DataFrame:
    """team, provider, model, cost (NULL → 0) and priced tokens of a month's rows."""
    summed = regroup(frame, _CELL)
    return summed.select(
        *_CELL,
        pl.col("cost_usd").fill_null(Decimal(0)).alias("cost_usd"),
        priced_tokens().alias("tokens"),
    )


def _catalog_changes(session: Session, month: dt.date, this: pl.DataFrame) -> pl.DataFrame:
    """Price periods starting in the month, the standard rates before and after, our spend."""
    end = _next_month(month)
    spent = {
        (r["provider"], r["model"]): r["cost_usd"]
        for r in regroup(this, ["provider", "model"]).iter_rows(named=True)
    }
    rows = []
    for m in session.catalog.models:
        for index, period in enumerate(m.periods):
            if not month <= period.valid_from < end:
                continue
            before = m.periods[index - 1].rates.get(("standard", 0), {}) if index else {}
            after = period.rates.get(("standard", 0), {})
            rows.append(
                {
                    "provider": m.provider,
                    "model": m.id,
                    "valid_from": period.valid_from,
                    "change": "price change" if index else "first price",
                    "input_before": before.get("input"),
                    "input_after": after.get("input"),
                    "output_before": before.get("output"),
                    "output_after": after.get("output"),
                    "cost_usd_this_month": spent.get((m.provider, m.id)),
                    "source": period.source,
                }
            )
    money = pl.Decimal(38, 6)
    schema = {
        "provider": pl.Utf8,
        "model": pl.Utf8,
        "valid_from": pl.Date,
        "change": pl.Utf8,
        "input_before": money,
        "input_after": money,
        "output_before": money,
        "output_after": money,
        "cost_usd_this_month": pl.Decimal(38, 12),
        "source": pl.Utf8,
    }
    frame = pl.DataFrame(rows, schema=schema)
    return frame.sort(
        [
            pl.col("cost_usd_this_month").is_null(),
            pl.col("change"),
            "valid_from",
            "provider",
            "model",
        ],
        descending=[False, True, False, False, False],
    )


def _unit_economics(this: pl.DataFrame, prev: pl.DataFrame) -> pl.DataFrame:
    cols = [
        "cost_usd",
        "requests",
        "tokens",
        "usd_per_1k_requests",
        "usd_per_mtok",
        "cache_hit_rate",
    ]

    def per_team(frame: pl.DataFrame) -> pl.DataFrame:
        teams = with_unit_economics(regroup(frame, ["team"]))
        total = with_unit_economics(regroup(frame, [])).with_columns(
            pl.lit("all teams").alias("team")
        )
        return pl.concat([total.select("team", *cols), teams.select("team", *cols)])

    current = per_team(this)
    base = per_team(prev).rename({c: f"prev_{c}" for c in cols})
    return current.join(base, on="team", how="left", maintain_order="left")


def _anomalies(
    session: Session, month: dt.date, as_of: dt.date, flt: SpendFilter
) -> tuple[pl.DataFrame, str | None]:
    # team and model findings: API-key detail is for the Anomalies page (and costs most)
    found = find_for_filter(
        session,
        flt,
        first_day=month,
        last_day=as_of,
        config=AnomalyConfig(scopes=("team", "model")),
    )
    note = None
    if flt.dimensions:
        note = "Anomalies are detected store-wide and narrowed to the filter's teams and models."
    return found, note


def _planned(session: Session, flt: SpendFilter) -> pl.DataFrame | None:
    """Planned migrations beside the forecast, for the whole company (plans move a scope of
    the total, so a filtered review leaves them out)."""
    path = default_plans_path(session.db)
    if path is None or flt.teams or flt.providers or flt.models:
        return None
    return planned_outlook(session, path)


def _opportunities(session: Session, as_of: dt.date, flt: SpendFilter) -> list[Opportunity]:
    """Savings the company could act on: the Savings page's (store-wide, with the eval
    scores beside the store); none for a review narrowed to some teams or models."""
    if flt.dimensions:
        return []
    return store_opportunities(session, today=as_of)


def _team_spent(session: Session, month: dt.date, as_of: dt.date) -> dict[str, TeamSpend]:
    """Each team's month to `as_of` as the Budgets page shows and judges it."""
    if session.allocation is None:
        return {}
    exact = budget_status(session, month=month, today=as_of)
    shown = spend_in_cents(exact)
    return {
        team: TeamSpend(paid, listed, judged)
        for scope, team, paid, listed, judged in zip(
            shown["scope"],
            shown["team"],
            shown["actual_usd"],
            shown["list_usd"],
            exact["actual_usd"],
            strict=True,
        )
        if scope == "team"
    }


def _team_budgets(session: Session) -> dict[str, Decimal]:
    alloc = session.allocation
    if alloc is None:
        return {}
    return {
        name: Decimal(team.monthly_budget_usd)
        for name, team in alloc.teams.items()
        if team.monthly_budget_usd is not None
    }


def build_review(
    session: Session,
    month: dt.date,
    *,
    filters: SpendFilter | None = None,
    opportunities: bool = True,
) -> MonthlyReview:
    """Every number of the review of `month` (its first day), for the filter's teams,
    providers and models (its dates are ignored: the review covers the month).

    `opportunities=False` leaves out the savings search (the slowest part) from the
    things to act on."""
    month = month.replace(day=1)
    flt = (filters or SpendFilter()).without_dates()
    next_month = _next_month(month)
    prev = _prev_month(month)
    as_of = session.today(before=next_month)
    if as_of is None or as_of < month:
        first, last = session.day_span()
        span = f"it holds {first} to {last}" if first else "it holds no usage yet"
        msg = f"no usage in {month:%Y-%m} in the store ({span})"
        raise LookupError(msg)
    history = dataclasses.replace(flt, to_day=next_month)
    cube = filtered_spend(session, history, by=["day", *_CELL])
    this = cube.filter(pl.col("day") >= month)
    last = cube.filter((pl.col("day") >= prev) & (pl.col("day") < month))

    # volume, mix and price effects per team × provider × model cell
    cells = _cells(last).join(_cells(this), on=_CELL, how="full", coalesce=True, suffix="_now")
    cells = cells.select(
        *_CELL,
        pl.col("cost_usd").alias("base_usd"),
        pl.col("cost_usd_now").alias("current_usd"),
        pl.col("tokens").fill_null(0).alias("base_tokens"),
        pl.col("tokens_now").fill_null(0).alias("current_tokens"),
    )
    effects = price_volume_mix(cells, keys=_CELL).filter(
        (pl.col("base_usd") != 0) | (pl.col("current_usd") != 0)
    )
    by_team = summarize_effects(effects, ["team"])
    by_model = summarize_effects(effects, ["provider", "model"])
    movers_up = (
        effects.filter(pl.col("change_usd") > 0)
        .sort("change_usd", descending=True)
        .head(TOP_MOVERS)
    )
    movers_down = effects.filter(pl.col("change_usd") < 0).sort("change_usd").head(TOP_MOVERS)

    # models used for the first time this month, and last month's models not used this month
    usage = cube.filter((pl.col("requests") > 0) | (tokens_expr() > 0))
    first_use = usage.group_by("provider", "model").agg(
        pl.col("day").min().alias("first_day"), pl.col("day").max().alias("last_day")
    )
    this_models = regroup(this, ["provider", "model"]).select(
        "provider", "model", "cost_usd", "requests"
    )
    new_models = (
        first_use.filter(pl.col("first_day") >= month)
        .join(this_models, on=["provider", "model"], how="left")
        .select("provider", "model", "first_day", "cost_usd", "requests")
        .sort("cost_usd", descending=True, nulls_last=True)
    )
    used_now = usage.filter(pl.col("day") >= month).select("provider", "model").unique()
    used_before = usage.filter((pl.col("day") >= prev) & (pl.col("day") < month))
    retired_models = (
        regroup(used_before, ["provider", "model"])
        .join(used_now, on=["provider", "model"], how="anti")
        .join(first_use.select("provider", "model", "last_day"), on=["provider", "model"])
        .select("provider", "model", "last_day", pl.col("cost_usd").alias("prev_cost_usd"))
        .sort("prev_cost_usd", descending=True, nulls_last=True)
    )

    anomalies, anomaly_note = _anomalies(session, month, as_of, flt)
    notes = [n for n in (anomaly_note,) if n]

    unpriced = session.unpriced(from_day=month, to_day=next_month)
    if flt.providers:
        unpriced = unpriced.filter(pl.col("provider").is_in(list(flt.providers)))
    if flt.teams:
        notes.append("The unpriced listing covers all teams (the store prices before allocating).")
    this_sum = regroup(this, [])
    totals_row = this_sum.row(0, named=True) if this_sum.height else {}

    daily_totals = regroup(cube.select("day", *costing.SPEND_MEASURES), ["day"]).select(
        "day", pl.col("cost_usd").fill_null(Decimal(0))
    )
    monthly = (
        daily_totals.with_columns(pl.col("day").dt.truncate("1mo").alias("month"))
        .group_by("month")
        .agg(pl.col("cost_usd").sum())
        .sort("month")
        .tail(6)
    )
    forecast = month_projection(session, next_month, today=as_of, flt=flt)
    total = _decimal_sum(this)
    return MonthlyReview(
        month=month,
        prev_month=prev,
        days=(next_month - month).days,
        days_covered=(as_of - month).days + 1,
        prev_days=(month - prev).days,
        as_of=as_of,
        filter=flt,
        revision_id=session.revision_id,
        total_usd=total,
        prev_total_usd=_decimal_sum(last),
        effective_usd=_decimal_sum(this, "effective_cost_usd"),
        prev_effective_usd=_decimal_sum(last, "effective_cost_usd"),
        volume_usd=_decimal_sum(effects, "volume_usd"),
        mix_usd=_decimal_sum(effects, "mix_usd"),
        price_usd=_decimal_sum(effects, "price_usd"),
        effects=effects,
        by_team=by_team,
        by_model=by_model,
        movers_up=movers_up,
        movers_down=movers_down,
        new_models=new_models,
        retired_models=retired_models,
        anomalies=anomalies,
        unallocated_usd=_decimal_sum(this.filter(pl.col("team") == "unallocated")),
        unpriced_rows=int(totals_row.get("unpriced_rows") or 0),
        unpriced_tokens=int(totals_row.get("unpriced_tokens") or 0),
        tokens=int(this.select(tokens_expr().sum()).item() or 0) if this.height else 0,
        usage_rows_unpriced=unpriced.select("provider", "model", "reason", "rows", "tokens"),
        catalog_changes=_catalog_changes(session, month, this),
        unit_economics=_unit_economics(this, last),
        daily=daily_totals.filter(pl.col("day") >= month),
        prev_daily=daily_totals.filter((pl.col("day") >= prev) & (pl.col("day") < month)),
        monthly=monthly,
        forecast=forecast,
        budget_usd=monthly_budget(session, flt),
        notes=notes,
        team_budgets=_team_budgets(session),
        budget_basis=judged_basis(session),
        team_spent=_team_spent(session, month, as_of),
        opportunities=_opportunities(session, as_of, flt) if opportunities else [],
        planned=_planned(session, flt),
    )
