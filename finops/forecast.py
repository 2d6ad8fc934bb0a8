"""Daily spend forecasts with calibrated intervals, for one series, many, or a hierarchy.

The method per series is chosen by a rolling-origin backtest among a few fast
candidates (seasonal naive, robust STL + damped-trend ETS, and their average); the
80% and 95% intervals (levels configurable) are calibrated from that backtest's errors
rather than taken from a model's assumptions. Every forecast row also carries the
running total from the first forecast day with its own intervals (``cum_*`` columns),
calibrated on backtest errors of running totals, which is what month-end totals and
budget run-out dates need: a sum of daily bounds would overstate or understate them.

Example:
    >>> import datetime
    >>> spend = [100.0, 120.0, 118.0, 121.0, 119.0, 60.0, 55.0] * 8
    >>> fc = forecast_series(spend, start=datetime.date(2025, 1, 6), horizon=7)
    >>> fc.columns[:8]
    ['day', 'mean', 'lo80', 'hi80', 'lo95', 'hi95', 'method', 'note']
    >>> fc["day"][0]
    datetime.date(2025, 3, 3)
    >>> bool((fc["lo95"] <= fc["lo80"]).all() and (fc["hi80"] <= fc["hi95"]).all())
    True
"""

from __future__ import annotations

import calendar
import datetime
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from finops._forecast_engine import (
    Fill,
    SeriesForecast,
    fill_gaps,
    forecast_array,
    forecast_many,
)
from finops._forecast_methods import METHODS

__all__ = [
    "FORECAST_COLUMNS",
    "METHOD_NAMES",
    "backtest_series",
    "budget_exhaustion",
    "forecast_frame",
    "forecast_hierarchy",
    "forecast_series",
    "period_total",
]

FORECAST_COLUMNS = ["day", "mean", "lo80", "hi80", "lo95", "hi95", "method"]
METHOD_NAMES = ("auto", "ensemble", *METHODS)

_EPOCH = datetime.date(1970, 1, 1)


# -- input ------------------------------------------------------------------------------


def _check_options(horizon: int, levels: Sequence[int], method: str, fill: str) -> tuple[int, ...]:
    if not isinstance(horizon, int) or horizon < 1:
        msg = f"horizon must be a positive whole number of days, got {horizon!r}"
        raise ValueError(msg)
    if not levels or any(not isinstance(lv, int) or not 0 < lv < 100 for lv in levels):
        msg = f"levels must be whole percentages between 1 and 99, got {levels!r}"
        raise ValueError(msg)
    if method not in METHOD_NAMES:
        msg = f"unknown forecast method {method!r}: use one of {', '.join(METHOD_NAMES)}"
        raise ValueError(msg)
    if fill not in ("interpolate", "zero"):
        msg = f"fill must be 'interpolate' or 'zero', got {fill!r}"
        raise ValueError(msg)
    return tuple(sorted(set(levels)))


def _day_numbers(days: Any) -> np.ndarray:
    """Dates (list, numpy or polars) -> days since 1970-01-01 as int64."""
    series = days if isinstance(days, pl.Series) else pl.Series("day", list(days))
    if series.dtype == pl.Datetime:
        series = series.dt.date()
    if series.dtype != pl.Date:
        msg = f"days must be dates, got {series.dtype}"
        raise ValueError(msg)
    if series.null_count():
        msg = "days contains a null date: every value needs its day"
        raise ValueError(msg)
    return series.cast(pl.Int32).to_numpy().astype(np.int64)


def _calendar(values: Any, start: datetime.date | None, days: Any) -> tuple[int, np.ndarray]:
    """(first day number, values on a full calendar with NaN for missing days)."""
    raw = values.cast(pl.Float64) if isinstance(values, pl.Series) else values
    y = np.asarray(raw.to_numpy() if isinstance(raw, pl.Series) else raw, dtype=np.float64)
    if y.ndim != 1:
        msg = f"values must be one-dimensional, got shape {y.shape}"
        raise ValueError(msg)
    if (start is None) == (days is None):
        msg = "give exactly one of start= (the first value's day) or days= (one date per value)"
        raise ValueError(msg)
    if start is not None:
        numbers = (start - _EPOCH).days + np.arange(len(y), dtype=np.int64)
    else:
        numbers = _day_numbers(days)
        if len(numbers) != len(y):
            msg = f"days has {len(numbers)} dates but values has {len(y)} values"
            raise ValueError(msg)
    observed = ~np.isnan(y)
    if not observed.any():
        msg = "values has no observed (non-null) value to forecast from"
        raise ValueError(msg)
    order = np.argsort(numbers, kind="stable")
    numbers, y = numbers[order], y[order]
    if len(numbers) > 1 and (np.diff(numbers) == 0).any():
        dup = _EPOCH + datetime.timedelta(days=int(numbers[np.argmax(np.diff(numbers) == 0)]))
        msg = f"day {dup} appears more than once: sum the values per day first"
        raise ValueError(msg)
    first = int(numbers[~np.isnan(y)][0])
    last = int(numbers[-1])
    full = np.full(last - first + 1, np.nan)
    keep = numbers >= first
    full[numbers[keep] - first] = y[keep]
    return first, full


# -- output -----------------------------------------------------------------------------


def _level_columns(levels: tuple[int, ...]) -> list[str]:
    return [f"{side}{lv}" for lv in levels for side in ("lo", "hi")]


def _to_frame(fc: SeriesForecast, first_day: int, levels: tuple[int, ...]) -> pl.DataFrame:
    horizon = len(fc.mean)
    columns: dict[str, Any] = {
        "day": pl.Series(np.arange(first_day, first_day + horizon, dtype=np.int32)).cast(pl.Date),
        "mean": fc.mean,
    }
    for lv in levels:
        columns[f"lo{lv}"], columns[f"hi{lv}"] = fc.bounds[lv]
    columns["method"] = [fc.method] * horizon
    columns["note"] = pl.Series([("; ".join(fc.notes) or None)] * horizon, dtype=pl.String)
    columns["cum_mean"] = fc.cum_mean
    for lv in levels:
        columns[f"cum_lo{lv}"], columns[f"cum_hi{lv}"] = fc.cum_bounds[lv]
    return pl.DataFrame(columns)


def forecast_series(
    values: Any,
    *,
    start: datetime.date | None = None,
    days: Any = None,
    horizon: int = 28,
    levels: tuple[int, ...] = (80, 95),
    method: str = "auto",
    fill: Fill = "interpolate",
    nonnegative: bool | None = None,
) -> pl.DataFrame:
    """Forecast one daily series ``horizon`` days past its last day.

    Args:
        values: daily values (list, numpy array or polars Series); null/NaN = missing.
        start: the day of the first value (values are consecutive days), or
        days: one date per value; gaps allowed (missing days are filled, see ``fill``).
        horizon: days to forecast.
        levels: interval levels in percent.
        method: "auto" (chosen by backtest) or one of ``METHOD_NAMES``.
        fill: missing days inside the history: "interpolate" from the same weekday's
            neighbours (a lost export), or "zero" (no row means nothing was spent).
        nonnegative: clip forecasts and bounds at 0; default: when no value is negative.

    Returns:
        One row per future day: ``FORECAST_COLUMNS`` with ``lo{L}``/``hi{L}`` per level,
        ``note`` (null unless e.g. short history or filled gaps) and the running total
        since the first forecast day, ``cum_mean`` and ``cum_lo{L}``/``cum_hi{L}``.
    """
    levels = _check_options(horizon, levels, method, fill)
    first, y = _calendar(values, start, days)
    fc = forecast_array(
        y, horizon=horizon, levels=levels, method=method, nonnegative=nonnegative, fill=fill
    )
    return _to_frame(fc, first + len(y), levels)


def _frame_series(
    frame: pl.DataFrame, keys: list[str], date_col: str, value_col: str
) -> tuple[pl.DataFrame, list[tuple[int, np.ndarray]]]:
    """(one row of keys per series, [(first day number, calendar array)] in that order)."""
    missing = [c for c in [*keys, date_col, value_col] if c not in frame.columns]
    if missing:
        msg = f"frame has no column(s) {missing}; it has {frame.columns}"
        raise ValueError(msg)
    daily = (
        frame.select(*keys, pl.col(date_col).cast(pl.Date), pl.col(value_col).cast(pl.Float64))
        .group_by(*keys, date_col)
        .agg(pl.col(value_col).sum(min_count=1))
        .sort(*keys, date_col)
    )
    series: list[tuple[int, np.ndarray]] = []
    key_rows = []
    groups = daily.partition_by(keys, maintain_order=True, as_dict=True) if keys else {(): daily}
    for key, part in groups.items():
        observed = part.filter(pl.col(value_col).is_not_nan() & pl.col(value_col).is_not_null())
        if observed.is_empty():
            continue
        first, y = _calendar(part[value_col], None, part[date_col])
        series.append((first, y))
        key_rows.append(key)
    key_frame = pl.DataFrame(
        [list(k) for k in key_rows], schema={k: daily.schema[k] for k in keys}, orient="row"
    )
    return key_frame, series


def _assemble(
    key_frame: pl.DataFrame,
    forecasts: list[SeriesForecast],
    first_days: list[int],
    levels: tuple[int, ...],
) -> pl.DataFrame:
    parts = [_to_frame(fc, d, levels) for fc, d in zip(forecasts, first_days, strict=True)]
    if not parts:
        return pl.DataFrame()
    body = pl.concat(parts)
    horizon = len(forecasts[0].mean)
    index = pl.Series("_series", np.repeat(np.arange(len(parts)), horizon))
    keys = key_frame.with_row_index("_series").with_columns(pl.col("_series").cast(pl.Int64))
    return (
        body.with_columns(index.cast(pl.Int64))
        .join(keys, on="_series", how="left", maintain_order="left")
        .select(*key_frame.columns, *body.columns)
    )


def forecast_frame(
    frame: pl.DataFrame,
    *,
    keys: list[str],
    date_col: str = "day",
    value_col: str = "value",
    horizon: int = 28,
    levels: tuple[int, ...] = (80, 95),
    method: str = "auto",
    workers: int | None = None,
    fill: Fill = "interpolate",
) -> pl.DataFrame:
    """Forecast every series of a long frame (one row per key and day), in parallel.

    Rows sharing keys and day are summed. Each series starts at its own first day and
    is forecast ``horizon`` days past its own last day. ``workers``: processes to use
    (default: the CPUs available, serial for small jobs). Output: keys + the columns of
    ``forecast_series``.
    """
    levels = _check_options(horizon, levels, method, fill)
    key_frame, series = _frame_series(frame, keys, date_col, value_col)
    forecasts = forecast_many(
        [y for _, y in series],
        workers=workers,
        horizon=horizon,
        levels=levels,
        method=method,
        fill=fill,
        nonnegative=None,
    )
    first_days = [first + len(y) for first, y in series]
    return _assemble(key_frame, forecasts, first_days, levels)
