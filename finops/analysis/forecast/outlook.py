"""Month-end projections and next-month forecasts of daily spend, for the Overview and the review.

A thin layer over `finops.analysis.forecast.api` (`forecast_series` + `period_total`): it lays a spend
frame's days on a calendar (a day without usage spent nothing), forecasts the days left,
and returns the period total with its 80% and 95% intervals. When `finops.analysis.forecast.api` cannot
be imported, or the history is too short, the result says why instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from finops.analysis.forecast.api import forecast_series, period_total
from finops.core.months import month_end

__all__ = [
    "Projection",
    "period_from_forecast",
    "project_period",
    "standard_horizon",
]


@dataclass(frozen=True)
class Projection:
    """A period's total: spend so far plus a forecast of the days left, with intervals."""

    period_start: dt.date
    period_end: dt.date  # last day of the period (inclusive)
    actual_to_date: float
    days_forecast: int
    mean: float | None
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None
    method: str | None = None
    note: str | None = None  # why there is no forecast, or the forecaster's caveats

    @property
    def available(self) -> bool:
        return self.mean is not None


def standard_horizon(as_of: dt.date) -> int:
    """Days from `as_of` to the end of the next month: the horizon every view forecasts with.

    The Overview's month-end projection, the review's next month and the Forecast page's
    default all come from a forecast of this length, so they show the same numbers (the
    method is chosen by a backtest over the horizon, so another horizon may choose another).
    """
    next_month = month_end(as_of) + dt.timedelta(days=1)
    return (month_end(next_month) - as_of).days


def project_period(
    daily: pl.DataFrame,
    *,
    as_of: dt.date,
    period_start: dt.date,
    period_end: dt.date,
) -> Projection:
    """Total of [period_start, period_end] given daily spend through `as_of`.

    `daily` has `day` and `cost_usd` (any other columns are summed over). Days after
    `as_of` are ignored. When the period is over, the total is the actual; when it has not
    started, `actual_to_date` is 0 and the whole period is forecast.
    """
    series = (
        daily.filter(pl.col("day") <= as_of)
        .group_by("day")
        .agg(pl.col("cost_usd").cast(pl.Float64).sum())
        .sort("day")
    )
    in_period = series.filter((pl.col("day") >= period_start) & (pl.col("day") <= period_end))
    actual = float(in_period["cost_usd"].sum()) if in_period.height else 0.0
    base = {"period_start": period_start, "period_end": period_end, "actual_to_date": actual}
    if as_of >= period_end:
        return Projection(**base, days_forecast=0, mean=actual, note="the period is complete")
    if series.is_empty():
        return Projection(**base, days_forecast=0, mean=None, note="no spend history to forecast")
    horizon = max(standard_horizon(as_of), (period_end - as_of).days)
    # a day without usage spent nothing; the series runs to as_of even if the last days are empty
    calendar = pl.DataFrame({"day": pl.date_range(series["day"][0], as_of, "1d", eager=True)}).join(
        series, on="day", how="left"
    )
    values = calendar["cost_usd"].fill_null(0.0)
    try:
        fc = forecast_series(values, start=calendar["day"][0], horizon=horizon, fill="zero")
        total = period_from_forecast(
            fc, actual_to_date=actual, period_start=period_start, period_end=period_end
        )
    except ValueError as exc:
        return Projection(**base, days_forecast=0, mean=None, note=f"no forecast: {exc}")
    return Projection(**base, **total)


def period_from_forecast(
    fc: pl.DataFrame, *, actual_to_date: float, period_start: dt.date, period_end: dt.date
) -> dict:
    """Mean and bounds of [period_start, period_end] from one series' forecast frame.

    When the period starts on the forecast's first day (or before it, with `actual_to_date`
    spent already) the bounds are the running-total intervals of `period_total`. When it starts
    later, the mean is exact (running total at its end less at its start) and the bounds are
    the running-total bounds at its end shifted by that same amount: wider than a calibrated
    interval for the period alone, and said so in the note.
    """

    first = fc["day"][0]
    method, note = fc["method"][0], fc["note"][0]
    skip = (period_start - first).days
    if skip <= 0:
        total = period_total(actual_to_date, fc, period_end=period_end)
        bounds = {k: v for k, v in total.items() if k.startswith(("lo", "hi"))}
        return {
            "days_forecast": total["days_forecast"],
            "mean": total["mean"],
            **bounds,
            "method": method,
            "note": note,
        }
    total = period_total(0.0, fc, period_end=period_end)
    before = period_total(0.0, fc, period_end=period_start - dt.timedelta(days=1))["mean"]
    bounds = {k: v - before for k, v in total.items() if k.startswith(("lo", "hi"))}
    caveat = "interval approximate: the period starts after the forecast does"
    return {
        "days_forecast": (period_end - period_start).days + 1,
        "mean": total["mean"] - before,
        **bounds,
        "method": method,
        "note": "; ".join(x for x in (note, caveat) if x),
    }
