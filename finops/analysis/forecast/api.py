"""Daily spend forecasts with calibrated intervals, for one series, many, or a hierarchy.

The method per series is chosen by a rolling-origin backtest among a few fast
candidates (a robust seasonal naive; robust STL with damped-trend ETS on the adjusted
series; and the default, an ensemble averaging that ETS level with a two-week mean);
the 80% and 95% intervals (levels configurable) are calibrated from that backtest's errors
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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse

from finops.analysis.forecast.calendar_effects import holiday_ids
from finops.analysis.forecast.engine import (
    SHORT_HISTORY_DAYS,
    SHORT_METHODS,
    Fill,
    SeriesForecast,
    fill_gaps,
    forecast_array,
    forecast_many,
    recenter,
    single_threaded,
)
from finops.analysis.forecast.methods import METHODS

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
METHOD_NAMES = ("auto", *METHODS)

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
    return _lay_out(numbers, y)


def _lay_out(numbers: np.ndarray, y: np.ndarray) -> tuple[int, np.ndarray]:
    """Values at day numbers -> (first observed day, full calendar with NaN gaps)."""
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


def _forecasts_frame(
    forecasts: list[SeriesForecast], first_days: list[int], levels: tuple[int, ...]
) -> pl.DataFrame:
    """One frame for many forecasts, rows in order; columns as ``forecast_series``."""
    horizon = len(forecasts[0].mean) if forecasts else 0
    steps = np.arange(horizon, dtype=np.int32)
    day_numbers = np.concatenate(
        [np.empty(0, np.int32), *(np.int32(d) + steps for d in first_days)]
    )

    def stack(get: Any) -> np.ndarray:
        return np.concatenate([np.empty(0), *(get(fc) for fc in forecasts)])

    columns: dict[str, Any] = {
        "day": pl.Series(day_numbers).cast(pl.Date),
        "mean": stack(lambda fc: fc.mean),
    }
    for lv in levels:
        columns[f"lo{lv}"] = stack(lambda fc, lv=lv: fc.bounds[lv][0])
        columns[f"hi{lv}"] = stack(lambda fc, lv=lv: fc.bounds[lv][1])
    columns["method"] = pl.Series([fc.method for fc in forecasts], dtype=pl.String).gather(
        np.repeat(np.arange(len(forecasts)), horizon)
    )
    notes = [("; ".join(fc.notes) or None) for fc in forecasts]
    columns["note"] = pl.Series(notes, dtype=pl.String).gather(
        np.repeat(np.arange(len(notes)), horizon)
    )
    columns["cum_mean"] = stack(lambda fc: fc.cum_mean)
    for lv in levels:
        columns[f"cum_lo{lv}"] = stack(lambda fc, lv=lv: fc.cum_bounds[lv][0])
        columns[f"cum_hi{lv}"] = stack(lambda fc, lv=lv: fc.cum_bounds[lv][1])
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
    holidays: str | None = None,
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
        holidays: a public holiday calendar to adjust for ("US", "GB", "AU-VIC", ...: see
            ``calendar_effects``); None: none.

    Returns:
        One row per future day: ``FORECAST_COLUMNS`` with ``lo{L}``/``hi{L}`` per level,
        ``note`` (null unless e.g. short history or filled gaps) and the running total
        since the first forecast day, ``cum_mean`` and ``cum_lo{L}``/``cum_hi{L}``.
    """
    levels = _check_options(horizon, levels, method, fill)
    first, y = _calendar(values, start, days)
    with single_threaded():
        fc = forecast_array(
            y,
            horizon=horizon,
            levels=levels,
            method=method,
            nonnegative=nonnegative,
            fill=fill,
            holidays=_holidays(holidays, first, len(y) + horizon),
        )
    return _forecasts_frame([fc], [first + len(y)], levels)


def _holidays(country: str | None, first: int, days: int) -> np.ndarray | None:
    """Holiday ids for ``days`` days from day number ``first`` (None without a calendar)."""
    if not country:
        return None
    ids, _ = holiday_ids(country, _EPOCH + datetime.timedelta(days=first), days)
    return ids


def _frame_series(
    frame: pl.DataFrame, keys: list[str], date_col: str, value_col: str
) -> tuple[pl.DataFrame, list[tuple[int, np.ndarray]]]:
    """(one row of keys per series, [(first day number, calendar array)] in that order)."""
    missing = [c for c in [*keys, date_col, value_col] if c not in frame.columns]
    if missing:
        msg = f"frame has no column(s) {missing}; it has {frame.columns}"
        raise ValueError(msg)
    # Sorting and cutting runs keeps memory near the input's size (a hash group-by on
    # 730k rows took ~140 MB more); rows sharing keys and day are summed below.
    rows = frame.select(
        *keys, pl.col(date_col).cast(pl.Date), pl.col(value_col).cast(pl.Float64)
    ).sort(*keys, date_col)
    if rows[date_col].null_count():
        msg = (
            f"column {date_col!r} has {rows[date_col].null_count()} null date(s): drop or fix them"
        )
        raise ValueError(msg)
    if rows.is_empty():
        return rows.select(keys), []
    rows = rows.with_columns(
        pl.struct(keys).rle_id().alias("_series"),
        pl.struct([*keys, date_col]).rle_id().alias("_day"),
    )
    day_starts = np.flatnonzero(np.diff(rows["_day"].to_numpy(), prepend=-1))
    raw = rows[value_col].fill_null(np.nan).to_numpy()
    seen = ~np.isnan(raw)
    sums = np.add.reduceat(np.where(seen, raw, 0.0), day_starts)
    counts = np.add.reduceat(seen.astype(np.int64), day_starts)
    # A day whose values are all null stays missing, not 0.
    day_values = np.where(counts > 0, sums, np.nan)
    day_numbers = rows[date_col].cast(pl.Int32).to_numpy().astype(np.int64)[day_starts]
    series_ids = rows["_series"].to_numpy()[day_starts]
    boundaries = np.flatnonzero(np.diff(series_ids)) + 1
    numbers = np.split(day_numbers, boundaries)
    values = np.split(day_values, boundaries)
    key_frame = rows.filter(pl.col("_series").is_first_distinct()).select(keys)
    observed = [bool((~np.isnan(v)).any()) for v in values]
    series = [_lay_out(n, v) for n, v, ok in zip(numbers, values, observed, strict=True) if ok]
    return key_frame.filter(pl.Series(observed, dtype=pl.Boolean)), series


def _assemble(
    key_frame: pl.DataFrame,
    forecasts: list[SeriesForecast],
    first_days: list[int],
    levels: tuple[int, ...],
) -> pl.DataFrame:
    horizon = len(forecasts[0].mean) if forecasts else 0
    keys = key_frame.gather(np.repeat(np.arange(key_frame.height), horizon))
    return pl.concat([keys, _forecasts_frame(forecasts, first_days, levels)], how="horizontal")


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
    if not keys:
        msg = "keys must name at least one column; for a single series use forecast_series"
        raise ValueError(msg)
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


# -- hierarchy --------------------------------------------------------------------------


def _groupings(keys: list[str]) -> list[tuple[str, ...]]:
    """Every subset of ``keys`` in their order, from the total () to the bottom (all)."""
    return [g for size in range(len(keys) + 1) for g in itertools.combinations(keys, size)]


def _reconcile(
    summing: sparse.csr_matrix, base: np.ndarray, variances: np.ndarray, nonnegative: bool
) -> np.ndarray:
    """MinT with a diagonal covariance (WLS on backtest error variances): coherent means.

    ``summing`` (nodes x bottoms, sparse 0/1) maps bottom series to every node; ``base``
    holds the nodes' own forecasts (nodes x horizon). Returns the reconciled forecasts
    of every node, each the exact sum of its reconciled bottom series.
    """
    floor = 1e-6 * float(variances.max()) if variances.max() > 0 else 1.0
    weights = 1.0 / np.maximum(variances, floor)
    weighted = sparse.csr_matrix(summing.T.multiply(weights))
    gram = (weighted @ summing).toarray()
    bottom = np.linalg.solve(gram, weighted @ base)
    if nonnegative:
        bottom = np.maximum(bottom, 0.0)
    return np.asarray(summing @ bottom)


def _damp_new(fc: SeriesForecast, days: int, nonnegative: bool) -> SeriesForecast:
    """A node with a short history (a team or model a few days old) forecast at
    ``days / SHORT_HISTORY_DAYS`` of its level: a few days say little about where a new
    series settles, and its parents, with long histories, carry the rest. Without this a
    three-day-old team's level, extrapolated over a month, moved next month's total by more
    than its whole history added (issue 13's stability rule)."""
    if fc.method not in SHORT_METHODS:
        return fc
    damped = recenter(fc, fc.mean * (days / SHORT_HISTORY_DAYS), nonnegative)
    damped.notes = [*fc.notes, f"new series: forecast at {days}/{SHORT_HISTORY_DAYS} of its level"]
    return damped


def forecast_hierarchy(
    frame: pl.DataFrame,
    *,
    levels_keys: list[str],
    date_col: str = "day",
    value_col: str = "value",
    horizon: int = 28,
    levels: tuple[int, ...] = (80, 95),
    method: str = "auto",
    workers: int | None = None,
    fill: Fill = "zero",
    groupings: list[list[str]] | None = None,
    runner: Callable[..., list[SeriesForecast]] = forecast_many,
    holidays: str | None = None,
) -> pl.DataFrame:
    """Coherent forecasts for the total, every grouping of ``levels_keys``, and the bottom.

    ``frame`` has one row per bottom series (all of ``levels_keys``) and day. Each node
    (total, each key alone, each combination, the bottom) is forecast on its own; the
    means are then reconciled (MinT with diagonal covariance from backtest errors), so
    children sum exactly to their parents on every day. Intervals keep each node's own
    calibrated widths, moved to the reconciled mean.

    A key absent on a day spent nothing that day (``fill="zero"``), and a bottom series
    that stopped before the last day is zero since. ``groupings`` restricts the levels
    (e.g. ``[[], ["provider"], ["provider", "team", "model"]]``); default: all subsets.

    Output: ``level`` ("total", "provider", "team,model", ...), the keys (null where
    aggregated over), then the columns of ``forecast_series``.

    ``holidays``: a public holiday calendar every node adjusts for (see ``forecast_series``).

    ``runner`` forecasts the nodes' series (``engine.forecast_many``'s signature): another
    one spreads them over a cluster (``finops.lake.forecast``), with the same result.
    """
    levels = _check_options(horizon, levels, method, fill)
    if not levels_keys:
        msg = "levels_keys must name at least one hierarchy column, e.g. ['provider', 'team']"
        raise ValueError(msg)
    if groupings is None:
        node_groups = _groupings(levels_keys)
    else:
        node_groups = [tuple(k for k in levels_keys if k in g) for g in groupings]
        unknown = sorted({k for g in groupings for k in g} - set(levels_keys))
        if unknown:
            msg = f"groupings name {unknown}, which are not in levels_keys {levels_keys}"
            raise ValueError(msg)
        node_groups = list(dict.fromkeys([*node_groups, tuple(levels_keys)]))
    key_frame, series = _frame_series(frame, levels_keys, date_col, value_col)
    if not series:
        msg = f"frame has no observed {value_col!r} value to forecast from"
        raise ValueError(msg)

    first_day = min(first for first, _ in series)
    last_day = max(first + len(y) for first, y in series)
    bottoms: list[np.ndarray] = []
    panel = np.zeros((len(series), last_day - first_day))
    starts = []
    for row, (first, y) in enumerate(series):
        # Absent after its own last day -> stopped, so zero, whatever the fill rule.
        y = np.concatenate([y, np.zeros(last_day - first - len(y))])
        bottoms.append(y)
        panel[row, first - first_day :] = fill_gaps(y, fill)
        starts.append(first - first_day)
    starts_arr = np.array(starts)
    nonnegative = bool(panel.min() >= 0)

    key_rows = key_frame.rows(named=True)
    nodes: list[tuple[str, dict[str, Any], np.ndarray]] = []
    for group in node_groups:
        name = ",".join(group) if group else "total"
        members: dict[tuple, list[int]] = {}
        for i, row in enumerate(key_rows):
            members.setdefault(tuple(row[k] for k in group), []).append(i)
        for values, idx in members.items():
            nodes.append((name, dict(zip(group, values, strict=True)), np.array(idx)))

    node_series = []
    for name, _, idx in nodes:
        if len(idx) == 1 and name == ",".join(levels_keys):
            node_series.append(bottoms[idx[0]])
        else:
            begin = int(starts_arr[idx].min())
            node_series.append(panel[idx, begin:].sum(axis=0))
    calendar = _holidays(holidays, first_day, last_day - first_day + horizon)
    base = runner(
        node_series,
        workers=workers,
        **({} if calendar is None else {"holidays_to_end": calendar}),
        horizon=horizon,
        levels=levels,
        method=method,
        fill=fill,
        nonnegative=nonnegative,
    )
    base = [_damp_new(fc, len(y), nonnegative) for fc, y in zip(base, node_series, strict=True)]
    rows = np.concatenate([np.full(len(idx), row) for row, (_, _, idx) in enumerate(nodes)])
    cols = np.concatenate([idx for _, _, idx in nodes])
    summing = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(series)))
    reconciled = _reconcile(
        summing,
        np.vstack([fc.mean for fc in base]),
        np.array([fc.error_variance for fc in base]),
        nonnegative,
    )
    forecasts = [recenter(fc, reconciled[i], nonnegative) for i, fc in enumerate(base)]
    horizon_rows = np.repeat(np.arange(len(nodes)), horizon)
    labels = pl.DataFrame(
        {
            "level": [name for name, _, _ in nodes],
            **{
                k: pl.Series([kv.get(k) for _, kv, _ in nodes], dtype=key_frame.schema[k])
                for k in levels_keys
            },
        }
    ).gather(horizon_rows)
    body = _forecasts_frame(forecasts, [last_day] * len(nodes), levels)
    return pl.concat([labels, body], how="horizontal")


# -- backtest ---------------------------------------------------------------------------


def backtest_series(
    values: Any,
    *,
    start: datetime.date | None = None,
    days: Any = None,
    horizon: int = 28,
    folds: int = 8,
    step: int = 7,
    levels: tuple[int, ...] = (80, 95),
    method: str = "auto",
    fill: Fill = "interpolate",
    holidays: str | None = None,
) -> dict[str, Any]:
    """Rolling-origin evaluation of ``forecast_series`` against what really happened.

    Fold ``f`` forecasts ``horizon`` days from ``step * f`` days before the last
    possible origin, using only the history before it (the method is re-chosen and
    intervals re-calibrated each time). Days missing from the history are not scored.

    Returns a dict: ``mase`` (mean absolute error / in-sample seasonal-naive MAE, mean
    over folds), ``mase_seasonal_naive`` (the same for a seasonal-naive forecast) and
    ``relative_mase`` (their ratio: < 1 beats seasonal naive), ``coverage{L}`` (share of
    days inside the L% interval), ``total_error_pct`` (mean absolute % error of the
    ``horizon``-day total; ``..._seasonal_naive`` likewise), ``total_coverage{L}``
    (share of folds whose total fell inside the running-total interval), ``folds``,
    ``methods`` (how often each method was chosen).
    """
    levels = _check_options(horizon, levels, method, fill)
    if folds < 1 or step < 1:
        msg = f"folds and step must be at least 1, got folds={folds}, step={step}"
        raise ValueError(msg)
    first, y_raw = _calendar(values, start, days)
    ids = _holidays(holidays, first, len(y_raw) + horizon)
    y_filled = fill_gaps(y_raw, fill)
    n = len(y_raw)
    # Each origin needs a week and a day of history for the seasonal-naive scale.
    origins = sorted(o for f in range(folds) if (o := n - horizon - step * f) >= 8)
    if not origins:
        msg = f"history of {n} days is too short to backtest {horizon} days ahead"
        raise ValueError(msg)

    mase, mase_naive, total_err, total_err_naive = [], [], [], []
    inside = {lv: [0, 0] for lv in levels}
    total_inside = {lv: [0, 0] for lv in levels}
    methods: dict[str, int] = {}
    with single_threaded():
        forecasts = [
            forecast_array(
                y_raw[:o],
                horizon=horizon,
                levels=levels,
                method=method,
                fill=fill,
                holidays=None if ids is None else ids[: o + horizon],
            )
            for o in origins
        ]
    for origin, fc in zip(origins, forecasts, strict=True):
        history = y_filled[:origin]
        scale = float(np.mean(np.abs(history[7:] - history[:-7])))
        methods[fc.method] = methods.get(fc.method, 0) + 1
        naive = np.resize(history[-7:], horizon)
        actual = y_raw[origin : origin + horizon]
        seen = ~np.isnan(actual)
        if scale > 0 and seen.any():
            mase.append(float(np.mean(np.abs(actual - fc.mean)[seen])) / scale)
            mase_naive.append(float(np.mean(np.abs(actual - naive)[seen])) / scale)
        for lv in levels:
            lo, hi = fc.bounds[lv]
            inside[lv][0] += int(((actual >= lo) & (actual <= hi))[seen].sum())
            inside[lv][1] += int(seen.sum())
        total = float(actual.sum())
        if seen.all() and total != 0:
            total_err.append(abs(float(fc.cum_mean[-1]) - total) / abs(total) * 100)
            total_err_naive.append(abs(float(naive.sum()) - total) / abs(total) * 100)
            for lv in levels:
                lo, hi = fc.cum_bounds[lv]
                total_inside[lv][0] += int(lo[-1] <= total <= hi[-1])
                total_inside[lv][1] += 1

    def _mean(xs: list[float]) -> float:
        return float(np.mean(xs)) if xs else float("nan")

    result: dict[str, Any] = {
        "method": method,
        "methods": methods,
        "folds": len(origins),
        "horizon": horizon,
        "mase": _mean(mase),
        "mase_seasonal_naive": _mean(mase_naive),
    }
    result["relative_mase"] = (
        result["mase"] / result["mase_seasonal_naive"] if mase_naive else float("nan")
    )
    for lv in levels:
        hit, count = inside[lv]
        result[f"coverage{lv}"] = hit / count if count else float("nan")
    result["total_error_pct"] = _mean(total_err)
    result["total_error_pct_seasonal_naive"] = _mean(total_err_naive)
    for lv in levels:
        hit, count = total_inside[lv]
        result[f"total_coverage{lv}"] = hit / count if count else float("nan")
    return result


# -- spend questions --------------------------------------------------------------------


def _single_series(forecast: pl.DataFrame) -> pl.DataFrame:
    needed = {"day", "cum_mean"}
    if not needed <= set(forecast.columns):
        msg = (
            f"forecast lacks columns {sorted(needed - set(forecast.columns))}: "
            "pass a frame returned by forecast_series (or one series of forecast_frame)"
        )
        raise ValueError(msg)
    if forecast.is_empty():
        msg = "forecast is empty"
        raise ValueError(msg)
    if forecast["day"].n_unique() != forecast.height:
        msg = "forecast holds several series (repeated days): filter it to one series first"
        raise ValueError(msg)
    return forecast.sort("day")


def _cum_levels(forecast: pl.DataFrame) -> list[int]:
    return sorted(int(c.removeprefix("cum_lo")) for c in forecast.columns if c.startswith("cum_lo"))


def _period_end(day: datetime.date, period: str) -> datetime.date:
    if period == "month":
        month = day.month
    elif period == "quarter":
        month = 3 * ((day.month - 1) // 3) + 3
    else:
        msg = f"period must be 'month' or 'quarter', got {period!r}"
        raise ValueError(msg)
    return datetime.date(day.year, month, calendar.monthrange(day.year, month)[1])


def period_total(
    actual_to_date: float,
    forecast: pl.DataFrame,
    *,
    period: str = "month",
    period_end: datetime.date | None = None,
) -> dict[str, Any]:
    """Total for the month or quarter: actual to date + the forecast of the days left.

    ``actual_to_date`` is what the period has spent before the forecast's first day; the
    period is the one containing that first day (or ends on ``period_end``). The
    intervals are those of the forecast's running total, so they account for days
    being correlated (a sum of daily bounds would not).

    Returns ``period_end``, ``days_forecast``, ``actual_to_date``, ``mean`` and
    ``lo{L}``/``hi{L}`` for the whole period.

    >>> import datetime
    >>> history = [10.0] * 69  # 1 January to 10 March
    >>> fc = forecast_series(history, start=datetime.date(2025, 1, 1), horizon=30)
    >>> out = period_total(100.0, fc)  # 1-10 March spent 100
    >>> out["period_end"], out["days_forecast"], round(out["mean"], 6)
    (datetime.date(2025, 3, 31), 21, 310.0)
    """
    fc = _single_series(forecast)
    first = fc["day"][0]
    end = period_end or _period_end(first, period)
    result: dict[str, Any] = {"period_end": end, "actual_to_date": float(actual_to_date)}
    if end < first:
        result["days_forecast"] = 0
        result["mean"] = float(actual_to_date)
        for lv in _cum_levels(fc):
            result[f"lo{lv}"] = result[f"hi{lv}"] = float(actual_to_date)
        return result
    row = fc.filter(pl.col("day") == end)
    if row.is_empty():
        needed = (end - first).days + 1
        msg = (
            f"forecast ends on {fc['day'][-1]} but the period ends on {end}: "
            f"forecast with horizon >= {needed}"
        )
        raise ValueError(msg)
    result["days_forecast"] = (end - first).days + 1
    result["mean"] = float(actual_to_date) + float(row["cum_mean"][0])
    for lv in _cum_levels(fc):
        result[f"lo{lv}"] = float(actual_to_date) + float(row[f"cum_lo{lv}"][0])
        result[f"hi{lv}"] = float(actual_to_date) + float(row[f"cum_hi{lv}"][0])
    return result


def budget_exhaustion(
    budget: float, spent_to_date: float, forecast: pl.DataFrame, *, level: int = 95
) -> dict[str, Any]:
    """The day cumulative spend reaches ``budget``: expected, earliest and latest.

    ``spent_to_date`` is the spend counted against the budget before the forecast's
    first day. ``earliest``/``latest`` bound the run-out day at ``level``% (the days the
    upper and lower running-total bounds reach the budget). A date is None when it
    falls after the forecast horizon (``horizon_end``). ``status``: "exhausted" (already
    spent), "runs_out" (expected within the horizon) or "beyond_horizon".

    >>> import datetime
    >>> fc = forecast_series([100.0] * 60, start=datetime.date(2025, 1, 1), horizon=28)
    >>> budget_exhaustion(1_000.0, 0.0, fc)["expected"]
    datetime.date(2025, 3, 11)
    """
    fc = _single_series(forecast)
    if f"cum_lo{level}" not in fc.columns:
        msg = f"forecast has no {level}% interval; it has {_cum_levels(fc)}"
        raise ValueError(msg)
    remaining = float(budget) - float(spent_to_date)
    result: dict[str, Any] = {
        "remaining": remaining,
        "horizon_end": fc["day"][-1],
        "expected": None,
        "earliest": None,
        "latest": None,
    }
    if remaining <= 0:
        result["status"] = "exhausted"
        return result

    # Floating-point sums of forecasts should not move the day by one.
    threshold = remaining * (1 - 1e-9)

    def _first_reach(column: str) -> datetime.date | None:
        hit = fc.filter(pl.col(column) >= threshold)
        return hit["day"][0] if hit.height else None

    result["expected"] = _first_reach("cum_mean")
    result["earliest"] = _first_reach(f"cum_hi{level}")
    result["latest"] = _first_reach(f"cum_lo{level}")
    result["status"] = "runs_out" if result["expected"] else "beyond_horizon"
    return result
