"""What one view shows of the store's forecast: the total and its parts for a filter.

`select` reads nodes of `finops.analysis.forecast.state.StoreForecast` for a filter's teams,
providers and models and an optional split; `projection` gives one month as a `Projection`
(the Overview's month end, the review's next month). Month means are the bottom series' cents
added up, so every split foots; a sum of several nodes (two teams, or provider x team, which
is not a level) adds intervals as if independent and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from finops.analysis.filters import SpendFilter
from finops.analysis.forecast.outlook import Projection
from finops.analysis.forecast.state import (
    HIERARCHY,
    INTERVALS,
    LEVELS,
    StoreForecast,
    level_name,
    store_forecast,
)
from finops.core.months import month_end
from finops.session.session import Session

__all__ = ["Selection", "month_projection", "projection", "select"]


@dataclass(frozen=True)
class Selection:
    """The part of a store forecast one view shows: the total ("total") and, with a split,
    one key per team, provider or model.

    - ``days``: key, day, mean, lo80..hi95, cum_mean, cum_lo80..cum_hi95, tokens_mean,
      price_factor, method, note.
    - ``months``: key, month, actual_to_date (exact Decimal), mean (Decimal cents: the sum of
      the bottom series' cents, so keys add up to the total), lo80..hi95 (Decimal cents).
    - ``history``: key, day, cost_usd (exact Decimal as priced then).

    ``approximate`` names the keys whose intervals are not a forecast's own: a sum of nodes
    (e.g. two teams), taken as independent. Means are always exact sums.
    """

    as_of: dt.date
    split: str | None
    days: pl.DataFrame
    months: pl.DataFrame
    history: pl.DataFrame
    approximate: tuple[str, ...]

    @property
    def keys(self) -> list[str]:
        return self.days["key"].unique(maintain_order=True).to_list()

    def month(self, month: dt.date, key: str = "total") -> dict[str, Any] | None:
        rows = self.months.filter((pl.col("key") == key) & (pl.col("month") == month))
        return rows.row(0, named=True) if rows.height else None


def _restrict(frame: pl.DataFrame, chosen: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    for key, values in chosen.items():
        frame = frame.filter(pl.col(key).is_in(list(values)))
    return frame


def _sum_nodes(frame: pl.DataFrame, by: list[str], bands: list[tuple[str, str]]) -> pl.DataFrame:
    """Sum nodes per ``by``: means add up; each band's half-widths add in quadrature."""
    aggs: list[pl.Expr] = [pl.col("mean").sum(), pl.len().alias("_nodes")]
    for lo, hi in bands:
        aggs.append(((pl.col("mean") - pl.col(lo)) ** 2).sum().sqrt().alias(f"_d{lo}"))
        aggs.append(((pl.col(hi) - pl.col("mean")) ** 2).sum().sqrt().alias(f"_d{hi}"))
    extra = [c for c in ("tokens_mean", "cum_mean") if c in frame.columns]
    aggs += [pl.col(c).sum() for c in extra]
    if "price_factor" in frame.columns:
        aggs.append(pl.col("method").first())
        aggs.append(pl.col("note").drop_nulls().unique().str.join("; ").alias("note"))
    out = frame.group_by(by, maintain_order=True).agg(aggs)
    centers = {lo: "cum_mean" if lo.startswith("cum_") else "mean" for lo, _ in bands}
    return out.with_columns(
        *[(pl.col(centers[lo]) - pl.col(f"_d{lo}")).alias(lo) for lo, _ in bands],
        *[(pl.col(centers[lo]) + pl.col(f"_d{hi}")).alias(hi) for lo, hi in bands],
    ).drop([f"_d{c}" for pair in bands for c in pair])


def select(
    fc: StoreForecast,
    *,
    split: str | None = None,
    teams: tuple[str, ...] = (),
    providers: tuple[str, ...] = (),
    models: tuple[str, ...] = (),
) -> Selection:
    """The total and (with ``split``) its parts, restricted to the teams, providers, models
    given (empty: all). A node of the hierarchy is read as it is; a sum of several (two teams,
    or provider × team, which is not a level) adds means exactly and intervals as independent.
    """
    if split is not None and split not in HIERARCHY:
        msg = f"cannot split a forecast by {split!r}; choose {', '.join(HIERARCHY)}"
        raise ValueError(msg)
    chosen = {k: v for k, v in (("provider", providers), ("model", models), ("team", teams)) if v}
    day_bands = [(f"lo{lv}", f"hi{lv}") for lv in INTERVALS]
    day_bands += [(f"cum_lo{lv}", f"cum_hi{lv}") for lv in INTERVALS]
    month_bands = [(f"lo{lv}", f"hi{lv}") for lv in INTERVALS]
    days_out, months_out, history_out, approximate = [], [], [], []
    # the total first, then the split asked for
    for target in (None, split) if split is not None else (None,):
        group = tuple(k for k in HIERARCHY if k in chosen or k == target)
        level = group if group in LEVELS else HIERARCHY
        by = [target] if target else []
        nodes = _restrict(fc.days.filter(pl.col("level") == level_name(level)), chosen)
        summed = _sum_nodes(nodes, ["day", *by], day_bands)
        # month means: the bottom series' cents; bounds: the level's nodes
        bottoms = _restrict(fc.months, chosen)
        node_cents = bottoms.group_by("month", *level).agg(
            pl.col("total_usd").sum().alias("mean"), pl.col("actual_usd").sum()
        )
        node_bounds = fc.month_bounds.filter(pl.col("level") == level_name(level)).drop(
            "level", *[k for k in HIERARCHY if k not in level]
        )
        node_months = node_cents.join(
            node_bounds, on=["month", *level], how="left", nulls_equal=True
        )
        float_months = node_months.with_columns(
            [
                pl.col(c).cast(pl.Float64)
                for c in ("mean", *[c for pair in month_bands for c in pair])
            ]
        )
        month_sum = _sum_nodes(float_months, ["month", *by], month_bands)
        exact = node_months.group_by("month", *by).agg(
            pl.col("mean").sum(), pl.col("actual_usd").sum().alias("actual_to_date")
        )
        months = exact.join(
            month_sum.select("month", *by, "_nodes", *[c for pair in month_bands for c in pair]),
            on=["month", *by],
            how="left",
            nulls_equal=True,
        )
        key_expr = pl.col(target).cast(pl.Utf8) if target else pl.lit("total")
        several = summed.filter(pl.col("_nodes") > 1)
        if several.height:
            approximate += several.select(key_expr.alias("key"))["key"].unique().to_list()
        days_out.append(summed.with_columns(key_expr.alias("key")).drop("_nodes", *by))
        months = months.with_columns(
            key_expr.alias("key"),
            *[
                pl.when(pl.col("_nodes") > 1)
                .then(pl.col(c).round(2))
                .otherwise(pl.col(c))
                .cast(pl.Decimal(38, 2))
                .alias(c)
                for pair in month_bands
                for c in pair
            ],
        ).drop("_nodes", *by)
        months_out.append(months)
        hist = _restrict(fc.history, chosen).group_by("day", *by).agg(pl.col("cost_usd").sum())
        history_out.append(hist.with_columns(key_expr.alias("key")).drop(*by))
    order = ["key", "day"]
    days = pl.concat(
        [d.select("key", *[c for c in d.columns if c != "key"]) for d in days_out],
        how="diagonal_relaxed",
    )
    months = pl.concat(
        [
            m.select("key", "month", "actual_to_date", "mean", *[c for p in month_bands for c in p])
            for m in months_out
        ]
    )
    history = pl.concat([h.select("key", "day", "cost_usd") for h in history_out])
    return Selection(
        as_of=fc.as_of,
        split=split,
        days=days.sort(order),
        months=months.sort("key", "month"),
        history=history.sort(order),
        approximate=tuple(sorted(set(approximate))),
    )


def projection(
    fc: StoreForecast,
    month: dt.date,
    *,
    teams: tuple[str, ...] = (),
    providers: tuple[str, ...] = (),
    models: tuple[str, ...] = (),
) -> Projection:
    """``month``'s total (actual to date + forecast) for the teams, providers and models given."""
    month = month.replace(day=1)
    chosen = select(fc, teams=teams, providers=providers, models=models)
    row = chosen.month(month)
    start, end = month, month_end(month)
    if row is None:
        return Projection(
            period_start=start,
            period_end=end,
            actual_to_date=0.0,
            days_forecast=0,
            mean=None,
            note=f"the forecast runs from {fc.as_of + dt.timedelta(days=1)} to {fc.horizon_end}",
        )
    node = chosen.days.filter(pl.col("key") == "total")
    notes = [n for n in node["note"].unique().to_list() if n]
    if chosen.approximate:
        notes.append("interval approximate: a sum of forecasts taken as independent")
    first = max(start, fc.as_of + dt.timedelta(days=1))
    return Projection(
        period_start=start,
        period_end=end,
        actual_to_date=float(row["actual_to_date"]),
        days_forecast=max(0, (end - first).days + 1),
        mean=float(row["mean"]),
        lo80=float(row["lo80"]),
        hi80=float(row["hi80"]),
        lo95=float(row["lo95"]),
        hi95=float(row["hi95"]),
        method=node["method"][0] if node.height else None,
        note="; ".join(notes) or None,
    )


def month_projection(
    session: Session,
    month: dt.date,
    *,
    today: dt.date,
    flt: SpendFilter | None = None,
) -> Projection:
    """`projection` of the store's one forecast as of `today` for the filter's teams,
    providers and models (the Overview's month end, the review's next month), or a projection
    that says why there is none."""
    flt = flt or SpendFilter()
    try:
        fc = store_forecast(session, today=today)
    except LookupError as exc:
        start = month.replace(day=1)
        return Projection(
            period_start=start,
            period_end=month_end(start),
            actual_to_date=0.0,
            days_forecast=0,
            mean=None,
            note=f"no forecast: {exc}",
        )
    return projection(fc, month, teams=flt.teams, providers=flt.providers, models=flt.models)
