"""Spend forecasts as the app shows them: the total, or coherent forecasts by team, provider or
model (children add up to the total), with this month's and next month's totals.

By default the page reads the store's one forecast (`finops.analysis.forecast.state`), so its
numbers are the Overview's, the budgets' and the review's. Another method or a longer horizon
is an exploration made on the spot with `finops.analysis.forecast.api`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from finops.analysis.filters import SpendFilter, filtered_spend
from finops.analysis.forecast.api import backtest_series, forecast_hierarchy, forecast_series
from finops.analysis.forecast.outlook import period_from_forecast, standard_horizon
from finops.analysis.forecast.selection import select
from finops.analysis.forecast.state import HORIZON_DAYS, store_forecast
from finops.core.months import month_end
from finops.session.session import Session

__all__ = ["SPLITS", "SpendForecast", "backtest_total", "build_forecast"]

#: What a forecast can be split by (None: the total only).
SPLITS = (None, "team", "provider", "model")
_TOP = 8  # series forecast on their own; the rest are summed into "other"
_FORECAST_COLUMNS = [
    "key",
    "day",
    "mean",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "method",
    "note",
    "cum_mean",
    "cum_lo80",
    "cum_hi80",
    "cum_lo95",
    "cum_hi95",
]
_MONTH_SCHEMA = {
    "key": pl.Utf8,
    "month": pl.Date,
    "actual_to_date": pl.Float64,
    "mean": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
    "lo95": pl.Float64,
    "hi95": pl.Float64,
}


@dataclass(frozen=True)
class SpendForecast:
    split: str | None
    horizon: int
    as_of: dt.date
    history: pl.DataFrame  # day, key, cost_usd (float): the daily spend forecast from
    forecast: pl.DataFrame  # key, day, mean, lo80, hi80, lo95, hi95, method, note, cum_*
    months: pl.DataFrame  # key, month, actual_to_date, mean, lo80, hi80, lo95, hi95
    shared: bool = True  # the store's one forecast (False: an exploration made on the spot)
    change: str | None = None  # what moved the store's forecast since its previous one
    approximate: tuple[str, ...] = ()  # keys whose intervals sum several forecasts

    def series(self, key: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(history, forecast) of one key ('total' for the whole)."""
        return (
            self.history.filter(pl.col("key") == key),
            self.forecast.filter(pl.col("key") == key),
        )

    @property
    def keys(self) -> list[str]:
        return self.forecast["key"].unique(maintain_order=True).to_list()


def _calendar(frame: pl.DataFrame, keys: list[str], first: dt.date, last: dt.date) -> pl.DataFrame:
    days = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    grid = days.join(pl.DataFrame({"key": keys}), how="cross")
    return grid.join(frame, on=["day", "key"], how="left").with_columns(
        pl.col("cost_usd").fill_null(0.0)
    )


def build_forecast(
    session: Session,
    flt: SpendFilter,
    *,
    split: str | None = None,
    horizon: int | None = None,
    method: str = "auto",
) -> SpendForecast:
    """The forecast the page shows: by default the store's one forecast
    (`finops.analysis.forecast.state.store_forecast`) for the filter's teams, providers and
    models, to the end of next month — the numbers the Overview, budgets, the review and
    `finops forecast` show. The total is the same whichever split is shown, and the parts
    add up to it (month totals to the cent).

    Another `method`, or a horizon past `HORIZON_DAYS`, is an exploration: that
    forecast is made on the spot, for the filter's days, and is not the shared one.
    """
    if split not in SPLITS:
        msg = f"cannot split a forecast by {split!r}; choose {', '.join(str(s) for s in SPLITS)}"
        raise ValueError(msg)
    today = session.today(before=flt.to_day)
    if today is None:
        msg = "no priced spend in the filter's range to forecast from"
        raise LookupError(msg)
    if method == "auto" and (horizon is None or horizon <= HORIZON_DAYS):
        return _shared(session, flt, split, horizon, today)
    return _explore(session, flt, split=split, horizon=horizon, method=method)


def _shared(
    session: Session, flt: SpendFilter, split: str | None, horizon: int | None, today: dt.date
) -> SpendForecast:
    shared = store_forecast(session, today=today)
    chosen = select(
        shared,
        split=split,
        teams=flt.teams,
        providers=flt.providers,
        models=flt.models,
    )
    horizon = horizon or standard_horizon(today)
    last = today + dt.timedelta(days=horizon)
    history = chosen.history.with_columns(pl.col("cost_usd").cast(pl.Float64))
    if flt.from_day is not None:
        history = history.filter(pl.col("day") >= flt.from_day)
    # every key on every day since its first: a day without spend spent 0
    history = (
        history.group_by("key")
        .agg(pl.col("day").min().alias("first"))
        .with_columns(pl.date_ranges("first", pl.lit(today)).alias("day"))
        .explode("day")
        .drop("first")
        .join(history, on=["key", "day"], how="left")
        .with_columns(pl.col("cost_usd").fill_null(0.0))
    )
    forecast = chosen.days.filter(pl.col("day") <= last).select(_FORECAST_COLUMNS)
    months = chosen.months.filter(pl.col("month").dt.month_end() <= last)
    return SpendForecast(
        split=split,
        horizon=horizon,
        as_of=today,
        history=history.select("day", "key", "cost_usd").sort("key", "day"),
        forecast=forecast,
        months=months.select(list(_MONTH_SCHEMA)),
        approximate=chosen.approximate,
        change=shared.change,
    )


def _explore(
    session: Session,
    flt: SpendFilter,
    *,
    split: str | None,
    horizon: int | None,
    method: str,
) -> SpendForecast:
    """A forecast made on the spot for another method or a longer horizon (not the shared
    one): the largest `_TOP` values of the split apart, the rest as "other", reconciled."""
    by = ["day", split] if split else ["day"]
    daily = filtered_spend(session, flt, by=by).filter(pl.col("cost_usd").is_not_null())
    if daily.is_empty():
        msg = "no priced spend in the filter's range to forecast from"
        raise LookupError(msg)
    daily = daily.with_columns(pl.col("cost_usd").cast(pl.Float64))
    if split:
        ranked = (
            daily.group_by(split).agg(pl.col("cost_usd").sum()).sort("cost_usd", descending=True)
        )
        top = ranked[split].head(_TOP).to_list()
        daily = daily.with_columns(
            pl.when(pl.col(split).is_in(top))
            .then(pl.col(split))
            .otherwise(pl.lit("other"))
            .alias("key")
        )
    else:
        daily = daily.with_columns(pl.lit("total").alias("key"))
    daily = daily.group_by("day", "key").agg(pl.col("cost_usd").sum())
    first, as_of = daily["day"].min(), daily["day"].max()
    horizon = horizon or standard_horizon(as_of)
    keys = daily.group_by("key").agg(pl.col("cost_usd").sum()).sort("cost_usd", descending=True)
    history = _calendar(daily, keys["key"].to_list(), first, as_of)
    if split:
        fc = forecast_hierarchy(
            history,
            levels_keys=["key"],
            value_col="cost_usd",
            horizon=horizon,
            method=method,
            groupings=[[], ["key"]],
        )
        fc = fc.with_columns(pl.col("key").fill_null("total")).drop("level")
        total = (
            history.group_by("day")
            .agg(pl.col("cost_usd").sum())
            .with_columns(pl.lit("total").alias("key"))
        )
        history = pl.concat([total.select(history.columns), history])
    else:
        fc = forecast_series(
            history["cost_usd"], start=first, horizon=horizon, method=method, fill="zero"
        ).with_columns(pl.lit("total").alias("key"))
    fc = fc.select("key", *[c for c in fc.columns if c != "key"])
    return SpendForecast(
        split=split,
        horizon=horizon,
        as_of=as_of,
        history=history.sort("key", "day"),
        forecast=fc,
        months=_month_totals(history, fc, as_of),
        shared=False,
    )


def _month_totals(history: pl.DataFrame, fc: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """This month's projected total and the next months wholly inside the horizon, per key."""
    rows = []
    last = fc["day"].max()
    this_start = as_of.replace(day=1)
    for key in fc["key"].unique(maintain_order=True):
        series = fc.filter(pl.col("key") == key).sort("day")
        actual = history.filter((pl.col("key") == key) & (pl.col("day") >= this_start))
        month = this_start
        while month_end(month) <= last:
            spent = float(actual["cost_usd"].sum()) if month == this_start else 0.0
            out = period_from_forecast(
                series, actual_to_date=spent, period_start=month, period_end=month_end(month)
            )
            rows.append(
                {
                    "key": key,
                    "month": month,
                    "actual_to_date": spent,
                    **{k: out.get(k) for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
                }
            )
            month = month_end(month) + dt.timedelta(days=1)
    return pl.DataFrame(rows, schema=_MONTH_SCHEMA)


def backtest_total(
    session: Session, flt: SpendFilter, *, horizon: int = 28, method: str = "auto"
) -> dict:
    """How well the forecaster did on this spend's own past (rolling origins)."""
    daily = filtered_spend(session, flt, by=["day"]).filter(pl.col("cost_usd").is_not_null())
    if daily.is_empty():
        msg = "no priced spend in the filter's range to backtest"
        raise LookupError(msg)
    return backtest_series(
        daily["cost_usd"].cast(pl.Float64),
        days=daily["day"],
        horizon=horizon,
        method=method,
        fill="zero",
    )
