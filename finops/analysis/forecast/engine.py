"""Forecast engine for one daily series (private).

The pipeline for one series, as plain numpy so it can run in worker processes:

1. ``fill_gaps``: the history is laid on a full calendar; missing days are filled
   (from the same weekday's neighbours, or with zero) and counted for the note.
2. Short histories (< ``SHORT_HISTORY_DAYS``) get a weekly mean (or plain mean) with
   wide, parametric intervals and a note.
3. Otherwise every candidate method is run from ``BACKTEST_ORIGINS`` rolling origins
   over the recent past; parameters are estimated once, at the earliest origin, and
   reused at later ones (honest: no origin sees its own future). ``auto`` keeps the
   default (the ensemble) unless another candidate's backtest error is clearly lower,
   then refits the chosen method on the full window (warm-started).
4. Intervals are calibrated from the chosen method's backtest errors: errors are
   divided by a horizon scale (their RMS per horizon, smoothed), and the bounds at each
   level are the wider of the scores' empirical quantiles (pooled over origins and
   horizons) and a normal quantile of their RMS. Intervals for running totals are
   calibrated the same way from the backtest errors of running totals, with a Student-t
   quantile for the few origins, so correlation between days is accounted for.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Literal

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from finops.analysis.forecast.methods import (
    AUTO_CANDIDATES,
    METHODS,
    PERIOD,
    quietly,
)

__all__ = [
    "BACKTEST_ORIGINS",
    "SHORT_HISTORY_DAYS",
    "SHORT_METHODS",
    "Fill",
    "HolidayEffects",
    "SeriesForecast",
    "fill_gaps",
    "forecast_array",
    "forecast_many",
    "recenter",
    "single_threaded",
]

Fill = Literal["interpolate", "zero"]

SHORT_HISTORY_DAYS = 28
#: The methods a short history gets (see ``_short_forecast``).
SHORT_METHODS = ("weekly_mean", "mean")
BACKTEST_ORIGINS = 16
# Longest backtest: next month's total from any day of this one. Longer horizons extrapolate
# the error scale past it; backtesting them would score methods on a past quarter ago.
BACKTEST_HORIZON_MAX = 62
# History the earliest backtest origin fits on (less when the series is short).
MIN_TRAIN_DAYS = 8 * PERIOD
# Training window at the earliest backtest origin; later origins and the final fit
# extend it. Older history is not used: spend regimes change faster than that.
TRAIN_WINDOW_DAYS = 16 * PERIOD
# "auto" uses DEFAULT_METHOD unless another candidate's backtest MAE is lower by this
# share (always choosing the lowest did worse out of sample on the real benchmark series).
DEFAULT_METHOD = "ensemble"
SWITCH_MARGIN = 0.1
# Short histories: intervals widened by this factor over the naive estimate, and a
# noise floor as a fraction of the level, since a few days say little about spread.
SHORT_WIDEN = 1.5
SHORT_MIN_RELATIVE_SD = 0.2
# Correlation assumed between days' errors when summing a short history's forecast.
SHORT_DAY_CORRELATION = 0.5


@dataclass
class SeriesForecast:
    """Forecast of one series: arrays over the horizon, bounds per level."""

    mean: np.ndarray
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]
    cum_mean: np.ndarray
    cum_bounds: dict[int, tuple[np.ndarray, np.ndarray]]
    method: str
    notes: list[str] = field(default_factory=list)
    # Mean squared one-day backtest error: the node weight for MinT reconciliation.
    error_variance: float = 1.0


def fill_gaps(y: np.ndarray, fill: Fill) -> np.ndarray:
    """Fill NaN days: with zero, or from the same weekday's neighbours.

    >>> fill_gaps(np.array([1.0, np.nan, 3.0]), "zero").tolist()
    [1.0, 0.0, 3.0]
    >>> week = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]
    >>> fill_gaps(np.array(week + [np.nan] + week[1:] + [30.0]), "interpolate").tolist()[7]
    20.0
    """
    missing = np.isnan(y)
    if not missing.any():
        return y
    if fill == "zero":
        return np.where(missing, 0.0, y)
    out = y.copy()
    positions = np.arange(len(y))
    for phase in range(PERIOD):
        idx = positions[phase::PERIOD]
        vals = y[phase::PERIOD]
        known = ~np.isnan(vals)
        if known.all():
            continue
        if known.any():
            out[idx[~known]] = np.interp(idx[~known], idx[known], vals[known])
        else:
            out[idx] = np.interp(idx, positions[~missing], y[~missing])
    return out


# A holiday's ratio to a normal day is kept within these bounds: a day with almost no
# activity (or a one-off surge) should not scale a future forecast to nothing or tenfold.
_MIN_RATIO, _MAX_RATIO = 0.05, 3.0


class HolidayEffects:
    """Public holidays as an adjustment; ``factors(ids)`` scales forecast days.

    Series dip (or jump) on public holidays; a model fit on them learns the dip as noise. So
    each holiday in the history is replaced by what the same weekday's neighbours say a
    normal day would have been (``normal``, which the methods fit); its effect is the
    ratio of the actual day to that normal value (geometric mean per holiday name when
    the history has seen it, else the median over every holiday seen); forecasts on future
    holidays, and backtest paths, are multiplied by it.
    """

    def __init__(self, y: np.ndarray, ids: np.ndarray) -> None:
        marked = ids[: len(y)] > 0
        self.normal = fill_gaps(np.where(marked, np.nan, y), "interpolate") if marked.any() else y
        self.ratio: dict[int, float] = {}
        logs = []
        for hid in np.unique(ids[: len(y)][marked]):
            days = np.flatnonzero(ids[: len(y)] == hid)
            base = self.normal[days]
            ok = base > 0
            if not ok.any():
                continue
            ratio = np.clip(y[days][ok] / base[ok], _MIN_RATIO, _MAX_RATIO)
            self.ratio[int(hid)] = float(np.exp(np.mean(np.log(ratio))))
            logs.extend(np.log(ratio).tolist())
        self.default = float(np.exp(np.median(logs))) if logs else 1.0

    def factors(self, ids: np.ndarray) -> np.ndarray:
        """Multipliers for days with these ids (1 for ordinary days)."""
        out = np.ones(len(ids))
        for i, hid in enumerate(ids):
            if hid:
                out[i] = self.ratio.get(int(hid), self.default)
        return out


# What a statsmodels fit can raise on degenerate data (constant, tiny, near-singular).
_MODEL_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError, IndexError)


def _clip_paths(paths: np.ndarray, nonnegative: bool) -> np.ndarray:
    return np.maximum(paths, 0.0) if nonnegative else paths


def _backtest_plan(n: int, horizon: int) -> tuple[int, list[int], int]:
    """(window start, origins ascending, backtest horizon) for a history of ``n`` days.

    The earliest origin keeps ``MIN_TRAIN_DAYS`` of history (half the series when it is
    short); origins are a week apart when the history allows, closer otherwise.
    """
    train_min = min(MIN_TRAIN_DAYS, max(2 * PERIOD, n // 2))
    wanted = min(horizon, BACKTEST_HORIZON_MAX)
    backtest_horizon = min(wanted, max(PERIOD, n - train_min - (BACKTEST_ORIGINS - 1)))
    latest = n - backtest_horizon
    step = min(PERIOD, max(1, (latest - train_min) // (BACKTEST_ORIGINS - 1)))
    origins = [latest - step * j for j in range(BACKTEST_ORIGINS) if latest - step * j >= train_min]
    start = max(0, origins[-1] - TRAIN_WINDOW_DAYS)
    return start, sorted(origins), backtest_horizon


def _method_paths(
    name: str, y: np.ndarray, start: int, origins: list[int], horizon: int
) -> tuple[np.ndarray, object]:
    """Backtest mean paths (origins x horizon), parameters fixed at the earliest origin.

    Returns the paths and those parameters (a warm start for the final fit).
    """
    run = METHODS[name].run
    first, params = quietly(run, y[start : origins[0]], horizon, None, True)
    paths = [first]
    for origin in origins[1:]:
        path, _ = quietly(run, y[start:origin], horizon, params, False)
        paths.append(path)
    out = np.vstack(paths)
    if not np.isfinite(out).all():
        msg = f"{name} produced non-finite forecasts"
        raise ArithmeticError(msg)
    return out, params


def _final_path(name: str, y: np.ndarray, horizon: int, start_params: object) -> np.ndarray:
    out, _ = quietly(METHODS[name].run, y, horizon, start_params, True)
    if not np.isfinite(out).all():
        msg = f"{name} produced non-finite forecasts"
        raise ArithmeticError(msg)
    return out


def _rank(errors: dict[str, np.ndarray]) -> list[str]:
    """Candidates best first by backtest MAE; the default keeps first place unless beaten
    by ``SWITCH_MARGIN``, since picking the luckiest of a few noisy scores costs accuracy."""
    mae = {name: float(np.nanmean(np.abs(e))) for name, e in errors.items()}
    ranking = sorted(mae, key=mae.__getitem__)
    if DEFAULT_METHOD in mae and mae[ranking[0]] > (1 - SWITCH_MARGIN) * mae[DEFAULT_METHOD]:
        ranking.remove(DEFAULT_METHOD)
        ranking.insert(0, DEFAULT_METHOD)
    return ranking


def _horizon_scale(errors: np.ndarray, horizon: int, growth: float) -> np.ndarray:
    """RMS error per horizon, smoothed over a week, non-decreasing, extended to ``horizon``.

    Beyond the backtested horizon the scale grows like ``h ** growth``.
    """
    with np.errstate(all="ignore"):
        mean_square = np.nanmean(errors**2, axis=0)
    known = np.isfinite(mean_square)
    if not known.any():
        mean_square = np.zeros(errors.shape[1])
    elif not known.all():
        cols = np.arange(len(mean_square))
        mean_square = np.interp(cols, cols[known], mean_square[known])
    width = min(PERIOD, len(mean_square))
    kernel = np.ones(width)
    padded = np.pad(mean_square, (width // 2, width - 1 - width // 2), mode="edge")
    smoothed = np.convolve(padded, kernel / width, mode="valid")
    scale = np.maximum.accumulate(np.sqrt(smoothed))
    tested = len(scale)
    if horizon > tested:
        extra = scale[-1] * (np.arange(tested + 1, horizon + 1) / tested) ** growth
        scale = np.concatenate([scale, extra])
    return scale[:horizon]


def _score_quantiles(
    scores: np.ndarray, levels: tuple[int, ...], df: float = math.inf
) -> dict[int, tuple[float, float]]:
    """Lower and upper score quantiles per level.

    Each tail is the wider of the empirical quantile (split-conformal, finite-sample)
    and a Student-t (``df``; normal by default) quantile of the score RMS. Empirical
    quantiles alone under-cover out of sample: a recent backtest window rarely holds
    the rare large misses (holidays, incidents) whose weight the RMS still carries.
    """
    scores = np.sort(scores[np.isfinite(scores)])
    count = len(scores)
    out: dict[int, tuple[float, float]] = {}
    prev_lo, prev_hi = 0.0, 0.0
    rms = float(np.sqrt(np.mean(scores**2))) if count else 0.0
    for level in sorted(levels):
        tail = (1 - level / 100) / 2
        k_hi = math.ceil((count + 1) * (1 - tail))
        k_lo = math.floor((count + 1) * tail)
        enough = 1 <= k_lo and k_hi <= count
        spread = rms * float(stats.t.ppf(1 - tail, df=min(df, max(count - 1, 1))))
        q_lo, q_hi = -spread, spread
        if enough:
            q_lo, q_hi = min(q_lo, float(scores[k_lo - 1])), max(q_hi, float(scores[k_hi - 1]))
        # Nested and containing the mean, whatever the scores' bias.
        q_lo, q_hi = min(q_lo, prev_lo), max(q_hi, prev_hi)
        out[level] = (q_lo, q_hi)
        prev_lo, prev_hi = q_lo, q_hi
    return out


def _bounds(
    center: np.ndarray, scale: np.ndarray, quantiles: dict[int, tuple[float, float]]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    return {lvl: (center + lo * scale, center + hi * scale) for lvl, (lo, hi) in quantiles.items()}


def _finish(
    mean: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    cum_bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    nonnegative: bool,
) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Clip at zero where spend cannot go negative; running totals never decrease."""
    if nonnegative:
        mean = np.maximum(mean, 0.0)
        bounds = {
            lvl: (np.maximum(lo, 0.0), np.maximum(hi, 0.0)) for lvl, (lo, hi) in bounds.items()
        }
    cum_mean = np.cumsum(mean)
    if nonnegative:
        cum_bounds = {
            lvl: (
                np.maximum.accumulate(np.maximum(lo, 0.0)),
                np.maximum.accumulate(np.maximum(hi, 0.0)),
            )
            for lvl, (lo, hi) in cum_bounds.items()
        }
    return mean, cum_mean, bounds, cum_bounds


def _short_forecast(
    y: np.ndarray, horizon: int, levels: tuple[int, ...], nonnegative: bool, notes: list[str]
) -> SeriesForecast:
    """Weekly mean (>= 7 days) or plain mean, with wide parametric intervals."""
    n = len(y)
    if n >= PERIOD:
        method = "weekly_mean"
        phases = np.arange(n) % PERIOD
        profile = np.array([y[phases == p].mean() for p in range(PERIOD)])
        fitted = profile[phases]
        dof = n - PERIOD
        mean = profile[(np.arange(n, n + horizon)) % PERIOD]
    else:
        method = "mean"
        fitted = np.full(n, y.mean())
        dof = n - 1
        mean = np.full(horizon, y.mean())
    resid = y - fitted
    sd = float(np.sqrt(np.sum(resid**2) / dof)) if dof >= 2 else 0.0
    if dof < 2 and n >= 2:
        sd = float(np.std(y, ddof=1))
    sd = max(sd, SHORT_MIN_RELATIVE_SD * float(np.mean(np.abs(y))))
    steps = np.arange(1, horizon + 1)
    daily_sd = SHORT_WIDEN * sd * np.sqrt(1 + steps / PERIOD)
    df = max(n - 1, 2)
    bounds = {}
    quantiles = {}
    for level in sorted(levels):
        t = float(stats.t.ppf(0.5 + level / 200, df=df))
        quantiles[level] = (-t, t)
        bounds[level] = (mean - t * daily_sd, mean + t * daily_sd)
    cum_sd_sq = (1 - SHORT_DAY_CORRELATION) * np.cumsum(daily_sd**2)
    cum_sd = np.sqrt(cum_sd_sq + SHORT_DAY_CORRELATION * np.cumsum(daily_sd) ** 2)
    cum_bounds = _bounds(np.cumsum(mean), cum_sd, quantiles)
    mean, cum_mean, bounds, cum_bounds = _finish(mean, bounds, cum_bounds, nonnegative)
    notes.append(
        f"short history: {n} day(s) (< {SHORT_HISTORY_DAYS}); {method} with wide intervals"
    )
    return SeriesForecast(
        mean=mean,
        bounds=bounds,
        cum_mean=cum_mean,
        cum_bounds=cum_bounds,
        method=method,
        notes=notes,
        error_variance=float(daily_sd[0] ** 2),
    )


def forecast_array(
    y_raw: np.ndarray,
    *,
    horizon: int,
    levels: tuple[int, ...],
    method: str = "auto",
    nonnegative: bool | None = None,
    fill: Fill = "interpolate",
    holidays: np.ndarray | None = None,
) -> SeriesForecast:
    """Forecast one daily series given as a calendar array (NaN = missing day).

    The first element must be observed; the forecast starts the day after the last.
    ``holidays``: one holiday id per day of the history and the horizon (0: an ordinary
    day; see ``calendar_effects.holiday_ids``), adjusted for with ``HolidayEffects``.
    """
    observed = ~np.isnan(y_raw)
    if not observed.any():
        msg = "the series has no observed value to forecast from"
        raise ValueError(msg)
    notes: list[str] = []
    n_missing = int((~observed).sum())
    y = fill_gaps(y_raw, fill)
    if n_missing:
        how = "zero" if fill == "zero" else "the same weekday's neighbours"
        notes.append(f"{n_missing} missing day(s) filled with {how}")
    if nonnegative is None:
        nonnegative = bool(np.nanmin(y_raw) >= 0)
    n = len(y)
    if n < SHORT_HISTORY_DAYS:
        return _short_forecast(y, horizon, levels, nonnegative, notes)

    fit_on = y
    effects = None
    if holidays is not None and holidays[:n].any():
        effects = HolidayEffects(y, holidays)
        fit_on = effects.normal
    start, origins, backtest_horizon = _backtest_plan(n, horizon)
    if method == "auto":
        candidates: tuple[str, ...] = AUTO_CANDIDATES
    elif method in METHODS:
        candidates = (method,)
    else:
        msg = f"unknown forecast method {method!r}: use 'auto' or one of {sorted(METHODS)}"
        raise ValueError(msg)
    train_days = origins[0] - start
    runnable = [c for c in candidates if METHODS[c].min_days <= train_days]
    if not runnable:
        notes.append(f"{method} needs {METHODS[method].min_days} days of history; used snaive")
        runnable = ["snaive"]

    paths: dict[str, np.ndarray] = {}
    start_params: dict[str, object] = {}
    for name in runnable:
        try:
            raw_paths, start_params[name] = _method_paths(
                name, fit_on, start, origins, backtest_horizon
            )
        except _MODEL_ERRORS:
            continue
        paths[name] = _clip_paths(raw_paths, nonnegative)
    if not paths:
        notes.append(f"{method} failed on this series; used snaive")
        raw_paths, start_params["snaive"] = _method_paths(
            "snaive", fit_on, start, origins, backtest_horizon
        )
        paths["snaive"] = _clip_paths(raw_paths, nonnegative)

    offsets = np.arange(backtest_horizon)
    rows = np.array(origins)[:, None] + offsets[None, :]
    if effects is not None:
        paths = {
            name: p * effects.factors(holidays[rows].ravel()).reshape(rows.shape)
            for name, p in paths.items()
        }
    actual = y_raw[rows]
    actual_filled = y[rows]
    errors = {name: actual - p for name, p in paths.items()}

    mean = None
    for chosen in _rank(errors):
        try:
            mean = _final_path(chosen, fit_on[start:], horizon, start_params[chosen])
            break
        except _MODEL_ERRORS:
            continue
    if mean is None:
        chosen = "snaive"
        notes.append(f"{method} failed on this series; used snaive")
        mean = _final_path(chosen, fit_on[start:], horizon, None)
        raw_paths, _ = _method_paths(chosen, fit_on, start, origins, backtest_horizon)
        paths[chosen] = _clip_paths(raw_paths, nonnegative)
        errors[chosen] = actual - paths[chosen]
    if effects is not None:
        future = holidays[n : n + horizon]
        mean = mean * effects.factors(np.pad(future, (0, horizon - len(future))))
    mean = _clip_paths(mean, nonnegative)

    # Errors grow with the level of spend: measure them relative to each origin's
    # forecast level and apply them at the level forecast now (a series that doubled
    # since the backtest gets intervals twice as wide).
    floor = 1e-3 * float(np.mean(np.abs(y))) + 1e-12
    origin_level = np.maximum(np.mean(np.abs(paths[chosen]), axis=1, keepdims=True), floor)
    level_now = max(float(np.mean(np.abs(mean[:backtest_horizon]))), floor)
    daily_errors = errors[chosen] / origin_level
    cum_errors = np.cumsum(actual_filled - paths[chosen], axis=1) / origin_level
    daily_scale = np.maximum(_horizon_scale(daily_errors, horizon, growth=0.5), 1e-12)
    cum_scale = np.maximum(_horizon_scale(cum_errors, horizon, growth=1.0), 1e-12)
    daily_q = _score_quantiles((daily_errors / daily_scale[:backtest_horizon]).ravel(), levels)
    # Running totals from one origin are one draw, not ``backtest_horizon`` draws.
    cum_q = _score_quantiles(
        (cum_errors / cum_scale[:backtest_horizon]).ravel(), levels, df=len(origins) - 1
    )
    bounds = _bounds(mean, level_now * daily_scale, daily_q)
    cum_bounds = _bounds(np.cumsum(mean), level_now * cum_scale, cum_q)
    mean, cum_mean, bounds, cum_bounds = _finish(mean, bounds, cum_bounds, nonnegative)
    if backtest_horizon < min(horizon, BACKTEST_HORIZON_MAX):
        notes.append(
            f"history allows a {backtest_horizon}-day backtest; "
            f"intervals beyond day {backtest_horizon} are extrapolated"
        )
    return SeriesForecast(
        mean=mean,
        bounds=bounds,
        cum_mean=cum_mean,
        cum_bounds=cum_bounds,
        method=chosen,
        notes=notes,
        error_variance=float(np.nanmean(errors[chosen] ** 2)),
    )


def single_threaded() -> threadpool_limits:
    """Context: BLAS on one thread. The models' matrices are tiny; OpenBLAS threads only
    add synchronisation, which made fits ~5x slower on a busy 2-core machine."""
    return threadpool_limits(limits=1, user_api="blas")


def _init_worker() -> None:
    threadpool_limits(limits=1, user_api="blas")


def _forecast_chunk(
    chunk: list[tuple[np.ndarray, np.ndarray | None]], options: dict
) -> list[SeriesForecast]:
    return [forecast_array(y, holidays=h, **options) for y, h in chunk]


def forecast_many(
    series: list[np.ndarray],
    *,
    workers: int | None,
    holidays_to_end: np.ndarray | None = None,
    **options: object,
) -> list[SeriesForecast]:
    """Forecast many calendar arrays, in worker processes when that pays off.

    ``workers=None``: one process per available CPU, but fewer for small jobs (serial
    below 64 series): a worker takes seconds to start (it imports statsmodels), about
    the time it needs for 30 series. ``holidays_to_end``: holiday ids of the days up to
    the end of the horizon, for series that all end on the same day (a hierarchy).
    """
    horizon = int(options["horizon"])
    if holidays_to_end is None:
        jobs = [(y, None) for y in series]
    else:
        jobs = [(y, holidays_to_end[len(holidays_to_end) - len(y) - horizon :]) for y in series]
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if workers is None:
        workers = min(available or 1, max(1, len(series) // 32))
    if workers <= 1 or len(series) < 2:
        with single_threaded():
            return _forecast_chunk(jobs, options)
    return _forecast_parallel(jobs, workers, options)


# Series per chunk sent to a worker (at most): small chunks even out the end of a run,
# several series per chunk keep pickling and inter-process round trips cheap.
_CHUNK_SERIES = 8


def _forecast_parallel(
    jobs: list[tuple[np.ndarray, np.ndarray | None]], workers: int, options: dict
) -> list[SeriesForecast]:
    """Forecast ``jobs`` with ``workers`` processes: this one and ``workers - 1`` spawned.

    A spawned worker spends ~1.5 s of CPU importing statsmodels before its first series;
    this process has done so already. So the workers take chunks from the front while this
    process forecasts series one by one from the back, topping the workers up between
    series (each has a chunk queued behind the one it runs, so it does not wait for this
    process). Which process forecasts a series does not change its numbers.
    """
    size = max(1, min(_CHUNK_SERIES, len(jobs) // (workers * 16)))
    front, back = 0, len(jobs)  # jobs[front:back] are not started yet
    mine: dict[int, SeriesForecast] = {}
    theirs: list[tuple[int, Future]] = []
    in_flight = 2 * (workers - 1)
    # "spawn": forking a process that runs polars' thread pool can deadlock.
    with ProcessPoolExecutor(
        max_workers=workers - 1, mp_context=get_context("spawn"), initializer=_init_worker
    ) as pool:

        def top_up() -> None:
            nonlocal front
            busy = sum(not f.done() for _, f in theirs[-in_flight:])
            while busy < in_flight and back - front > 1:
                end = min(front + size, back - 1)
                theirs.append((front, pool.submit(_forecast_chunk, jobs[front:end], options)))
                front, busy = end, busy + 1

        top_up()
        with single_threaded():
            while back > front:
                back -= 1
                y, h = jobs[back]
                mine[back] = forecast_array(y, holidays=h, **options)
                top_up()
        out: list[SeriesForecast] = []
        for start, future in theirs:
            assert start == len(out)
            out += future.result()
    return out + [mine[i] for i in range(len(out), len(jobs))]


def recenter(fc: SeriesForecast, mean: np.ndarray, nonnegative: bool) -> SeriesForecast:
    """Move a forecast to a new mean (e.g. reconciled), keeping its interval widths."""
    delta = mean - fc.mean
    cum_delta = np.cumsum(delta)
    bounds = {lv: (lo + delta, hi + delta) for lv, (lo, hi) in fc.bounds.items()}
    cum_bounds = {lv: (lo + cum_delta, hi + cum_delta) for lv, (lo, hi) in fc.cum_bounds.items()}
    mean, cum_mean, bounds, cum_bounds = _finish(mean, bounds, cum_bounds, nonnegative)
    return SeriesForecast(
        mean=mean,
        bounds=bounds,
        cum_mean=cum_mean,
        cum_bounds=cum_bounds,
        method=fc.method,
        notes=fc.notes,
        error_variance=fc.error_variance,
    )
