"""The monthly spend review: what was spent, why it changed, what comes next — one document.

`build_review` computes every number once (a `MonthlyReview`); `review_sections` lays them out
as sections of text, headline metrics, tables and charts; the Streamlit page, the Markdown
export and the self-contained HTML export all render those same sections, so the numbers
presented are the numbers computed, whatever the medium.

Sections: summary, total and change (also per day), the change split into volume, mix and
price effects by team and by model (formulas in `finops.analysis.pvm`), top movers, new and retired
models, anomalies (when `finops.analysis.anomalies` is available), unallocated and unpriced usage,
catalog price changes effective in the month, unit economics, and next month's forecast
against the budget.

Money is list cost (`cost_usd`: catalog prices in force on the day of use); effective cost
after contract discounts is shown beside it where a contracts file makes them differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from dataclasses import dataclass, field
from decimal import Decimal

import plotly.graph_objects as go
import polars as pl

from finops.analysis.filters import (
    SpendFilter,
    filtered_spend,
    monthly_budget,
    regroup,
    tokens_expr,
)
from finops.analysis.forecast.outlook import Projection, project_period
from finops.analysis.pvm import (
    allocate_cents,
    effects_in_cents,
    price_volume_mix,
    summarize_effects,
)
from finops.analysis.unit_economics import with_unit_economics
from finops.core.format import count as _int
from finops.core.format import pct, signed_usd, usd
from finops.core.format import rate as _rate
from finops.core.format import share as _share
from finops.core.months import month_end, parse_month
from finops.core.store import fetch_one
from finops.pricing import costing
from finops.session.session import Session
from finops.views import charts
from finops.views.anomalies import anomalies_available, find_for_filter

__all__ = [
    "SECTIONS",
    "Metric",
    "MonthlyReview",
    "Section",
    "Table",
    "build_review",
    "default_month",
    "default_month_for",
    "months_between",
    "parse_month",
    "render_html",
    "render_markdown",
    "review_sections",
]

#: (id, title) of every section, in order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("total", "Total and change"),
    ("drivers", "Why it changed: volume, mix and price"),
    ("movers", "Top movers"),
    ("models", "New and retired models"),
    ("anomalies", "Anomalies of the month"),
    ("coverage", "Unallocated and unpriced usage"),
    ("catalog", "Catalog price changes effective this month"),
    ("unit_economics", "Unit economics"),
    ("outlook", "Next month: forecast and budget"),
)
TOP_MOVERS = 10
_CELL = ["team", "provider", "model"]


# --- the computed review ------------------------------------------------------------------------


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
    first, last = fetch_one(session.con, "SELECT min(day), max(day) FROM daily_usage")
    return None if last is None else default_month_for(first, last)


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
    anomalies: pl.DataFrame | None  # FINDING_SCHEMA rows of the month; None: not available
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
        (tokens_expr() - pl.col("unpriced_tokens")).clip(lower_bound=0).alias("tokens"),
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


def _anomalies(session: Session, month: dt.date, as_of: dt.date, flt: SpendFilter):
    if not anomalies_available():
        return None, "Anomaly detection (finops.analysis.anomalies) is not available."
    from finops.analysis.anomalies import AnomalyConfig

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


def build_review(
    session: Session, month: dt.date, *, filters: SpendFilter | None = None
) -> MonthlyReview:
    """Every number of the review of `month` (its first day), for the filter's teams,
    providers and models (its dates are ignored: the review covers the month)."""
    month = month.replace(day=1)
    flt = (filters or SpendFilter()).without_dates()
    next_month = _next_month(month)
    prev = _prev_month(month)
    as_of = fetch_one(
        session.con,
        "SELECT max(day) FROM daily_usage WHERE day < CAST($end AS DATE)",
        {"end": next_month},
    )[0]
    if as_of is None or as_of < month:
        first = fetch_one(session.con, "SELECT min(day) FROM daily_usage")[0]
        last = fetch_one(session.con, "SELECT max(day) FROM daily_usage")[0]
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

    unpriced = costing.unpriced(
        session.con, revision_id=session.revision_id, from_day=month, to_day=next_month
    )
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
    next_end = month_end(next_month)
    forecast = project_period(
        daily_totals, as_of=as_of, period_start=next_month, period_end=next_end
    )
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
    )


# --- sections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    delta_color: str = "inverse"  # spend going up is shown red; "normal" where up is good


@dataclass(frozen=True)
class Table:
    caption: str
    frame: pl.DataFrame  # every column already formatted as text


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    text: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[go.Figure] = field(default_factory=list)


def _fmt(frame: pl.DataFrame, formats: dict[str, tuple[str, callable]]) -> pl.DataFrame:
    """Rename and format columns: {column: (header, formatter)}; other columns are dropped."""
    data = {}
    for column, (header, formatter) in formats.items():
        data[header] = [formatter(v) for v in frame[column].to_list()]
    return pl.DataFrame(data, schema={h: pl.Utf8 for h, _ in formats.values()})


def _per_mtok(value: Decimal | None) -> str:
    """A catalog rate per 1M tokens, without trailing zeros: $0.15, $2.5."""
    return "—" if value is None else "$" + format(value.normalize(), "f")


def _str(value) -> str:
    return "—" if value is None else str(value)


def _effects_table(frame: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
    formats = {k: (header, _str) for k, header in keys.items()}
    formats.update(
        {
            "base_usd": ("last month", usd),
            "current_usd": ("this month", usd),
            "change_usd": ("change", signed_usd),
            "volume_usd": ("volume", signed_usd),
            "mix_usd": ("mix", signed_usd),
            "price_usd": ("price", signed_usd),
        }
    )
    return _fmt(frame, formats)


def _movers_table(frame: pl.DataFrame) -> pl.DataFrame:
    with_pct = frame.with_columns(
        pl.when(pl.col("base_usd") > 0)
        .then(pl.col("change_usd").cast(pl.Float64) / pl.col("base_usd").cast(pl.Float64) * 100)
        .otherwise(None)
        .alias("change_pct")
    )
    return _fmt(
        with_pct,
        {
            "team": ("team", _str),
            "provider": ("provider", _str),
            "model": ("model", _str),
            "base_usd": ("last month", usd),
            "current_usd": ("this month", usd),
            "change_usd": ("change", signed_usd),
            "change_pct": ("change %", lambda v: "new" if v is None else pct(v)),
        },
    )


def _largest(frame: pl.DataFrame, key: str) -> str | None:
    if frame.is_empty():
        return None
    row = frame.row(0, named=True)
    return f"{row[key]} ({signed_usd(row['change_usd'])})"


def _summary(r: MonthlyReview) -> list[str]:
    lines = []
    b = r.bridge_cents()
    direction = "up" if b["change_usd"] > 0 else "down" if b["change_usd"] < 0 else "unchanged at"
    period = (
        f"{r.month:%B %Y}"
        if r.complete
        else f"{r.month:%B %Y} to date ({r.days_covered} of {r.days} days, through {r.as_of})"
    )
    if r.prev_total_usd:
        lines.append(
            f"AI spend in {period} was {usd(b['total_usd'])}, {direction} "
            f"{usd(abs(b['change_usd']))} ({pct(r.change_pct)}) on {r.prev_month:%B} "
            f"({usd(b['prev_total_usd'])}). Per day it was {usd(r.per_day_usd)} against "
            f"{usd(r.prev_per_day_usd)} ({pct(r.per_day_change_pct)}; "
            f"{r.days_covered} days against {r.prev_days})."
        )
        parts = sorted(
            (("volume", b["volume_usd"]), ("mix", b["mix_usd"]), ("price", b["price_usd"])),
            key=lambda p: abs(p[1]),
            reverse=True,
        )
        lines.append(
            "Of the change, "
            + ", ".join(f"{name} contributed {signed_usd(value)}" for name, value in parts)
            + f"; the largest driver was {parts[0][0]}."
        )
    else:
        lines.append(f"AI spend in {period} was {usd(b['total_usd'])}; there is no prior month.")
    up, down = _largest(r.movers_up, "model"), _largest(r.movers_down, "model")
    if up:
        row = r.movers_up.row(0, named=True)
        lines.append(
            f"The largest increase was {row['team']} on {row['model']} "
            f"({signed_usd(row['change_usd'])})"
            + (
                f"; the largest decrease {r.movers_down['team'][0]} on {down}."
                if down
                else "; nothing decreased."
            )
        )
    if r.new_models.height or r.retired_models.height:
        lines.append(
            f"{r.new_models.height} model(s) were used for the first time "
            f"({', '.join(r.new_models['model'].head(3).to_list()) or 'none'}) and "
            f"{r.retired_models.height} stopped being used "
            f"({', '.join(r.retired_models['model'].head(3).to_list()) or 'none'})."
        )
    if r.anomalies is not None and r.anomalies.height:
        lines.append(f"{r.anomalies.height} anomaly finding(s) were flagged during the month.")
    in_use = r.catalog_changes.filter(pl.col("cost_usd_this_month").is_not_null())
    if in_use.height:
        lines.append(
            f"{in_use.height} catalog price change(s) took effect this month on models in use: "
            + ", ".join(in_use["model"].head(3).to_list())
            + "."
        )
    if r.unpriced_rows:
        lines.append(
            f"Unpriced usage: {r.unpriced_rows:,} rows / {r.unpriced_tokens:,} tokens "
            f"({_share(r.unpriced_token_share)} of tokens) are not in these totals."
        )
    if r.unallocated_usd:
        lines.append(
            f"{usd(r.unallocated_usd)} ({_share(r.unallocated_share)}) is not allocated to a team."
        )
    fc = r.forecast
    if fc is not None and fc.available:
        text = f"{fc.period_start:%B} is forecast at {usd(fc.mean)}"
        if fc.lo80 is not None:
            text += f" (80% interval {usd(fc.lo80)} to {usd(fc.hi80)})"
        if r.budget_usd is not None:
            text += (
                f", against a budget of {usd(r.budget_usd)} ({_budget_verdict(fc, r.budget_usd)})"
            )
        lines.append(text + ".")
    return lines


def _budget_verdict(fc: Projection, budget: Decimal) -> str:
    b = float(budget)
    if fc.lo80 is not None and fc.lo80 > b:
        return "likely over budget"
    if fc.mean > b:
        return "over budget at the forecast's mean"
    if fc.hi80 is not None and fc.hi80 > b:
        return "within budget at the mean, over at the top of the interval"
    return "within budget"


def _change_metric(
    ue: pl.DataFrame, column: str, label: str, formatter, *, points: bool = False
) -> Metric:
    """The all-teams value of a unit-economics column, with its change on last month
    (relative, or in percentage points for a rate such as the cache-hit rate)."""
    if ue.is_empty():
        return Metric(label, "—")
    now, before = ue[column][0], ue[f"prev_{column}"][0]
    delta = None
    if points and now is not None and before is not None:
        delta = f"{(now - before) * 100:+.1f} pts vs last month"
    elif now is not None and before:
        delta = f"{pct((now - before) / before * 100)} vs last month"
    return Metric(
        label,
        formatter(now),
        delta,
        help=f"last month {formatter(before)}",
        delta_color="normal" if points else "inverse",
    )


def review_sections(r: MonthlyReview) -> list[Section]:
    """The review as sections (in `SECTIONS` order): text, metrics, tables and charts."""
    titles = dict(SECTIONS)
    out: list[Section] = []
    out.append(Section("summary", titles["summary"], text=_summary(r)))

    b = r.bridge_cents()
    total_metrics = [
        Metric(
            f"Total {r.month:%B %Y}" + ("" if r.complete else " to date"),
            usd(b["total_usd"]),
            None
            if not r.prev_total_usd
            else f"{signed_usd(b['change_usd'])} ({pct(r.change_pct)})",
        ),
        Metric(f"Total {r.prev_month:%B %Y}", usd(b["prev_total_usd"])),
        Metric(
            "Per day",
            usd(r.per_day_usd),
            None if r.per_day_change_pct is None else f"{pct(r.per_day_change_pct)} per day",
            help=f"{r.days_covered} days against {r.prev_days}",
        ),
        Metric(f"Per day {r.prev_month:%B}", usd(r.prev_per_day_usd)),
    ]
    total_text = []
    if r.effective_usd != r.total_usd or r.prev_effective_usd != r.prev_total_usd:
        total_text.append(
            f"After contract discounts (effective cost): {usd(r.effective_usd)} against "
            f"{usd(r.prev_effective_usd)}."
        )
    if not r.complete:
        total_text.append(
            f"The store has data through {r.as_of}: the month is {r.days_covered} of {r.days} "
            "days, so compare per day."
        )
    out.append(
        Section(
            "total",
            titles["total"],
            text=total_text,
            metrics=total_metrics,
            figures=[charts.daily_vs_last_month(r)],
        )
    )

    out.append(
        Section(
            "drivers",
            titles["drivers"],
            text=[
                (
                    "Volume: the change had every team and model grown at the overall token growth "
                    "rate, at last month's prices. Mix: tokens moving between teams and models at "
                    "last month's prices. Price: each team-model's change in cost per token "
                    "(catalog prices and token make-up: cache hits, output share, batch). "
                    "The three add up to the change exactly; cents are allocated so that every "
                    "row and column foots to the totals shown."
                )
            ],
            metrics=[
                Metric("Change", signed_usd(b["change_usd"])),
                Metric("Volume effect", signed_usd(b["volume_usd"])),
                Metric("Mix effect", signed_usd(b["mix_usd"])),
                Metric("Price effect", signed_usd(b["price_usd"])),
            ],
            tables=[
                Table("By team", _effects_table(r.effects_table("team"), {"team": "team"})),
                Table(
                    "By model",
                    _effects_table(
                        r.effects_table("model"), {"provider": "provider", "model": "model"}
                    ),
                ),
            ],
            figures=[
                charts.bridge_waterfall(r),
                charts.effects_by(r.effects_table("team"), "team"),
            ],
        )
    )

    out.append(
        Section(
            "movers",
            titles["movers"],
            text=[f"Team and model pairs with the largest change, top {TOP_MOVERS} each way."],
            tables=[
                Table("Largest increases", _movers_table(r.movers_up)),
                Table("Largest decreases", _movers_table(r.movers_down)),
            ],
            figures=[charts.movers(r.movers_up, r.movers_down)]
            if r.movers_up.height or r.movers_down.height
            else [],
        )
    )

    out.append(
        Section(
            "models",
            titles["models"],
            metrics=[
                Metric("New models", str(r.new_models.height)),
                Metric("Retired models", str(r.retired_models.height)),
            ],
            tables=[
                Table(
                    "Used for the first time this month",
                    _fmt(
                        r.new_models,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "first_day": ("first used", _str),
                            "cost_usd": ("cost this month", usd),
                            "requests": ("requests", _int),
                        },
                    ),
                ),
                Table(
                    "Used last month, not this month",
                    _fmt(
                        r.retired_models,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "last_day": ("last used", _str),
                            "prev_cost_usd": ("cost last month", usd),
                        },
                    ),
                ),
            ],
        )
    )

    if r.anomalies is None:
        out.append(
            Section(
                "anomalies",
                titles["anomalies"],
                text=[
                    "Anomaly detection (finops.analysis.anomalies) is not available in this install."
                ],
            )
        )
    else:
        found = r.anomalies
        out.append(
            Section(
                "anomalies",
                titles["anomalies"],
                text=[
                    (
                        "Spikes, unit-cost drift, first use of a model and deprecations, per team "
                        "and per model (API-key findings are on the Anomalies page)."
                    )
                ]
                + [n for n in r.notes if n.startswith("Anomalies")]
                + ([] if found.height else ["No anomalies were found in the month."]),
                metrics=[Metric("Findings", str(found.height))],
                tables=[
                    Table(
                        "Findings (largest impact first within each day)",
                        _fmt(
                            found.head(25),
                            {
                                "day": ("day", _str),
                                "check": ("check", _str),
                                "scope": ("scope", _str),
                                "key": ("key", _str),
                                "impact_usd": (
                                    "impact",
                                    lambda v: "—" if v is None else signed_usd(v),
                                ),
                                "detail": ("detail", _str),
                            },
                        ),
                    )
                ]
                if found.height
                else [],
            )
        )

    out.append(
        Section(
            "coverage",
            titles["coverage"],
            text=[
                (
                    "Unpriced usage has no catalog price: it is counted here and never added as $0. "
                    "Unallocated spend has no team (add a rule to teams.yaml)."
                )
            ]
            + [n for n in r.notes if n.startswith("The unpriced")],
            metrics=[
                Metric("Unallocated", f"{usd(r.unallocated_usd)} ({_share(r.unallocated_share)})"),
                Metric("Unpriced rows", _int(r.unpriced_rows)),
                Metric("Unpriced tokens", _int(r.unpriced_tokens)),
                Metric("Unpriced share of tokens", _share(r.unpriced_token_share)),
            ],
            tables=[
                Table(
                    "Unpriced usage this month",
                    _fmt(
                        r.usage_rows_unpriced,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "reason": ("reason", _str),
                            "rows": ("rows", _int),
                            "tokens": ("tokens", _int),
                        },
                    ),
                )
            ]
            if r.usage_rows_unpriced.height
            else [],
        )
    )

    changes = r.catalog_changes
    in_use = changes.filter(pl.col("cost_usd_this_month").is_not_null())
    shown = changes.filter(
        pl.col("cost_usd_this_month").is_not_null() | (pl.col("change") == "price change")
    )
    launches = changes.height - shown.height
    out.append(
        Section(
            "catalog",
            titles["catalog"],
            text=[
                (
                    f"Price periods starting in {r.month:%B %Y}: {changes.height} in the catalog, "
                    f"{in_use.height} on models we used. Shown: every price change, and new "
                    f"prices of models we used ({launches} first prices of models we did not use "
                    "are left out). Rates are standard-tier USD per 1M tokens."
                )
            ],
            tables=[
                Table(
                    "Price periods starting this month",
                    _fmt(
                        shown,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "valid_from": ("from", _str),
                            "change": ("change", _str),
                            "input_before": ("input before", _per_mtok),
                            "input_after": ("input after", _per_mtok),
                            "output_before": ("output before", _per_mtok),
                            "output_after": ("output after", _per_mtok),
                            "cost_usd_this_month": ("our spend this month", usd),
                        },
                    ),
                )
            ]
            if shown.height
            else [],
        )
    )

    ue = r.unit_economics
    out.append(
        Section(
            "unit_economics",
            titles["unit_economics"],
            text=[
                (
                    "Cost per 1K requests, cost per 1M priced tokens, and the share of prompt tokens "
                    "read from the prompt cache, this month against last."
                )
            ],
            metrics=[
                _change_metric(ue, "usd_per_1k_requests", "Cost per 1K requests", _rate),
                _change_metric(ue, "usd_per_mtok", "Cost per 1M tokens", _rate),
                _change_metric(ue, "cache_hit_rate", "Cache-hit rate", _share, points=True),
            ],
            tables=[
                Table(
                    "By team",
                    _fmt(
                        ue,
                        {
                            "team": ("team", _str),
                            "requests": ("requests", _int),
                            "usd_per_1k_requests": ("$/1K requests", _rate),
                            "prev_usd_per_1k_requests": ("last month", _rate),
                            "usd_per_mtok": ("$/1M tokens", _rate),
                            "prev_usd_per_mtok": ("last month ", _rate),
                            "cache_hit_rate": ("cache-hit", _share),
                            "prev_cache_hit_rate": ("last month  ", _share),
                        },
                    ),
                )
            ],
        )
    )

    fc = r.forecast
    outlook_metrics = []
    outlook_text = []
    if fc is not None and fc.available:
        outlook_metrics.append(
            Metric(
                f"Forecast {fc.period_start:%B %Y}",
                usd(fc.mean),
                None
                if not r.total_usd
                else f"{pct((fc.mean - float(r.total_usd)) / float(r.total_usd) * 100)} vs {r.month:%B}",
            )
        )
        if fc.lo80 is not None:
            outlook_metrics.append(Metric("Low (80% interval)", usd(fc.lo80)))
            outlook_metrics.append(Metric("High (80% interval)", usd(fc.hi80)))
        outlook_text.append(
            f"Forecast with {fc.method or 'the default method'} from daily spend through "
            f"{r.as_of}" + (f" ({fc.note})" if fc.note else "") + "."
        )
    else:
        outlook_text.append(
            "No forecast: " + (fc.note if fc is not None and fc.note else "not available") + "."
        )
    if r.budget_usd is not None:
        outlook_metrics.append(Metric("Monthly budget", usd(r.budget_usd)))
        if fc is not None and fc.available:
            outlook_text.append(f"Against the budget: {_budget_verdict(fc, r.budget_usd)}.")
    else:
        outlook_text.append("No monthly budget is set (monthly_budget_usd in teams.yaml).")
    out.append(
        Section(
            "outlook",
            titles["outlook"],
            text=outlook_text,
            metrics=outlook_metrics,
            figures=[charts.outlook(r)],
        )
    )
    return out


# --- exports --------------------------------------------------------------------------------


def _md_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "_none_"
    head = "| " + " | ".join(c.strip() for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in frame.rows()]
    return "\n".join([head, rule, *body])


def render_markdown(r: MonthlyReview) -> str:
    """The review as Markdown (charts are left out; the HTML export has them)."""
    lines = [
        f"# {r.title}",
        "",
        f"Data through {r.as_of}; catalog revision {r.revision_id}; scope: {r.filter.describe()}.",
    ]
    for section in review_sections(r):
        lines += ["", f"## {section.title}", ""]
        for paragraph in section.text:
            lines += [paragraph, ""]
        if section.metrics:
            lines += ["| metric | value | change |", "|---|---|---|"]
            lines += [f"| {m.label} | {m.value} | {m.delta or ''} |" for m in section.metrics]
            lines.append("")
        for table in section.tables:
            lines += [f"**{table.caption}**", "", _md_table(table.frame), ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2328}
header{background:#0e1117;color:#fff;padding:24px 40px}
header h1{margin:0 0 6px;font-size:28px} header p{margin:0;opacity:.8}
section{padding:24px 40px;border-bottom:1px solid #e5e7eb;page-break-inside:avoid}
h2{font-size:22px;margin:0 0 12px}
.metrics{display:flex;flex-wrap:wrap;gap:16px;margin:12px 0}
.metric{border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;min-width:180px}
.metric .label{font-size:13px;color:#57606a}.metric .value{font-size:26px;font-weight:600}
.metric .delta{font-size:13px;color:#57606a}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 10px}
.num{text-align:right}.txt{text-align:left} caption{text-align:left;font-weight:600;padding:6px 0}
"""


_NUMBER = re.compile(r"^[-+]?\$?[\d,]+(\.\d+)?%?$|^—$|^new$")


def _html_table(table: Table) -> str:
    """A table; numbers right-aligned, text left (as each column's first cell reads)."""
    first = table.frame.row(0) if table.frame.height else ()
    numeric = [bool(_NUMBER.match(v)) for v in first]
    align = ["num" if n else "txt" for n in numeric]
    head = "".join(
        f"<th class='{a}'>{html.escape(c.strip())}</th>"
        for c, a in zip(table.frame.columns, align, strict=False)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td class='{a}'>{html.escape(v)}</td>" for v, a in zip(row, align, strict=True))
        + "</tr>"
        for row in table.frame.rows()
    )
    return (
        f"<table><caption>{html.escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def render_html(r: MonthlyReview) -> str:
    """The review as ONE self-contained HTML file: plotly.js is inlined, so it opens offline."""
    from plotly.offline import get_plotlyjs

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(r.title)}</title><style>{_CSS}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        (
            f"<header><h1>{html.escape(r.title)}</h1><p>Data through {r.as_of}; catalog revision "
            f"{r.revision_id}; scope: {html.escape(r.filter.describe())}.</p></header>"
        ),
    ]
    for section in review_sections(r):
        parts.append(f"<section id='{section.id}'><h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in section.text]
        if section.metrics:
            parts.append("<div class='metrics'>")
            for m in section.metrics:
                delta = f"<div class='delta'>{html.escape(m.delta)}</div>" if m.delta else ""
                parts.append(
                    f"<div class='metric'><div class='label'>{html.escape(m.label)}</div>"
                    f"<div class='value'>{html.escape(m.value)}</div>{delta}</div>"
                )
            parts.append("</div>")
        for index, fig in enumerate(section.figures):
            parts.append(
                fig.to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=f"{section.id}-chart-{index}",
                    config={"displaylogo": False, "responsive": True},
                )
            )
        parts += [_html_table(t) for t in section.tables]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
