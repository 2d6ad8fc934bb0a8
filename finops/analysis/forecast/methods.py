"""Point-forecast methods for daily series with a weekly cycle (private).

Each method turns a complete daily history (no missing values) into a mean path. It
works in two modes so that a rolling-origin backtest stays cheap and honest: with
``estimate=True`` it fits its parameters on a window; with ``estimate=False`` it applies
fixed parameters to another window that starts on the same day (filtering only, no
optimisation). Intervals are not made here: the engine calibrates them from backtest
errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

# statsmodels (with pandas, about 0.45 s to import) is imported where a model is fitted: a
# command that reads a cached forecast (budgets, review, `finops forecast`) never needs it

__all__ = [
    "AUTO_CANDIDATES",
    "METHODS",
    "PERIOD",
    "Method",
    "quietly",
]

PERIOD = 7
# STL's seasonal smoother spans this many weeks per weekday: a stable weekly profile
# that one odd week (a holiday, an incident) cannot reshape, yet one that still drifts.
# On the real series of benchmarks/forecast_accuracy.py, 35 beat 13 and 21 clearly.
STL_SEASONAL = 35
# One inner pass and five robustness passes: around a 20x spike the trend matched
# statsmodels' robust default (2 x 15 passes) to 0.1%, at a fifth of the cost.
STL_INNER_ITER = 1
STL_OUTER_ITER = 5
# Remainder values beyond this many robust standard deviations are clipped before the
# level model sees them, so a one-day spike cannot bend the level or trend.
OUTLIER_SIGMAS = 3.0
# The ensemble's second level estimate: the mean of the last two weeks, adjusted.
MEAN_LEVEL_DAYS = 2 * PERIOD


def _weekly_tail(seasonal: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed week of a seasonal component over the horizon."""
    return np.resize(seasonal[-PERIOD:], horizon)


_STL_CACHE: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}


def _robust_adjust(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust STL: (seasonally adjusted series with outliers clipped, seasonal part).

    Memoised on the data: a backtest asks for the same window once per candidate.
    """
    key = y.tobytes()
    cached = _STL_CACHE.get(key)  # get(): safe if another thread clears the cache
    if cached is not None:
        return cached
    from statsmodels.tsa.seasonal import STL

    fit = STL(y, period=PERIOD, seasonal=STL_SEASONAL, robust=True).fit(
        inner_iter=STL_INNER_ITER, outer_iter=STL_OUTER_ITER
    )
    resid = np.asarray(fit.resid)
    center = np.median(resid)
    scale = 1.4826 * np.median(np.abs(resid - center))
    if scale > 0:
        resid = np.clip(resid, center - OUTLIER_SIGMAS * scale, center + OUTLIER_SIGMAS * scale)
    out = (np.asarray(fit.trend) + resid, np.asarray(fit.seasonal))
    if len(_STL_CACHE) >= 64:
        _STL_CACHE.clear()
    _STL_CACHE[key] = out
    return out


def _ets(y: np.ndarray, *, trend: bool) -> ETSModel:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if trend:
        return ETSModel(y, error="add", trend="add", damped_trend=True)
    return ETSModel(y, error="add")


_ETS_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _ets_path(
    y: np.ndarray, params: Any, horizon: int, estimate: bool, *, trend: bool
) -> tuple[np.ndarray, Any]:
    """ETS level forecast (simple, or additive damped trend); memoised, as ``stl_ets``
    and ``ensemble`` share the same fit.

    With fixed parameters only the smoother runs and the forecast is computed from the
    last level and trend, which skips the Hessian statsmodels builds for every results
    object (most of the cost of a backtest step).
    """
    key = (y.tobytes(), horizon, trend, estimate, _key(params))
    cached = _ETS_CACHE.get(key)
    if cached is not None:
        return cached
    model = _ets(y, trend=trend)
    if estimate:
        result = model.fit(start_params=params, disp=False)
        out = (np.asarray(result.forecast(horizon)), np.asarray(result.params))
    else:
        _, states = model.smooth(params, return_raw=True)
        level = states[-1, 0]
        if trend:
            phi = params[model.param_names.index("damping_trend")]
            damped_steps = np.cumsum(phi ** np.arange(1, horizon + 1))
            path = level + damped_steps * states[-1, 1]
        else:
            path = np.full(horizon, level)
        out = (path, params)
    if len(_ETS_CACHE) >= 64:
        _ETS_CACHE.clear()
    _ETS_CACHE[key] = out
    return out


def _key(params: Any) -> bytes | None:
    return None if params is None else np.asarray(params).tobytes()


Run = Callable[[np.ndarray, int, Any, bool], tuple[np.ndarray, Any]]


@dataclass(frozen=True)
class Method:
    """A forecasting method: ``run(y, horizon, params, estimate)`` -> (mean path, params).

    ``estimate=True`` fits the parameters on ``y`` (``params``, if given, is the
    starting point); ``estimate=False`` applies ``params`` as they are.
    ``min_days`` is the shortest history the method accepts.
    """

    name: str
    run: Run
    min_days: int


def _snaive(y: np.ndarray, horizon: int, params: Any, estimate: bool) -> tuple[np.ndarray, Any]:
    return _weekly_tail(y, horizon), None


def _robust_snaive(
    y: np.ndarray, horizon: int, params: Any, estimate: bool
) -> tuple[np.ndarray, Any]:
    """Seasonal naive on the series with robust-STL outliers clipped: last week again,
    but a spike in it is not repeated every week."""
    adjusted, seasonal = _robust_adjust(y)
    return _weekly_tail(adjusted + seasonal, horizon), None


def _stl_ets(trend: bool) -> Run:
    def run(y: np.ndarray, horizon: int, params: Any, estimate: bool) -> tuple[np.ndarray, Any]:
        adjusted, seasonal = _robust_adjust(y)
        level_path, fitted = _ets_path(adjusted, params, horizon, estimate, trend=trend)
        return level_path + _weekly_tail(seasonal, horizon), fitted

    return run


def _stl_ensemble(
    y: np.ndarray, horizon: int, params: Any, estimate: bool
) -> tuple[np.ndarray, Any]:
    """Robust STL; the level is the average of damped-trend ETS and a two-week mean."""
    adjusted, seasonal = _robust_adjust(y)
    ets_path, fitted = _ets_path(adjusted, params, horizon, estimate, trend=True)
    mean_level = float(np.mean(adjusted[-MEAN_LEVEL_DAYS:]))
    return (ets_path + mean_level) / 2 + _weekly_tail(seasonal, horizon), fitted


def _ets_seasonal(
    y: np.ndarray, horizon: int, params: Any, estimate: bool
) -> tuple[np.ndarray, Any]:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        y, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=PERIOD
    )
    result = model.fit(start_params=params, disp=False) if estimate else model.smooth(params)
    return np.asarray(result.forecast(horizon)), np.asarray(result.params)


_SARIMAX_ORDER = (1, 0, 1)
_SARIMAX_SEASONAL_ORDER = (0, 1, 1, PERIOD)


def _sarimax(y: np.ndarray, horizon: int, params: Any, estimate: bool) -> tuple[np.ndarray, Any]:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    model = SARIMAX(y, order=_SARIMAX_ORDER, seasonal_order=_SARIMAX_SEASONAL_ORDER)
    result = model.fit(start_params=params, disp=False) if estimate else model.filter(params)
    return np.asarray(result.forecast(horizon)), np.asarray(result.params)


_AR_LAGS = [1, 2, 3, 4, 5, 6, 7, 14]


def _autoreg(y: np.ndarray, horizon: int, params: Any, estimate: bool) -> tuple[np.ndarray, Any]:
    from statsmodels.tsa.ar_model import AutoReg

    model = AutoReg(y, lags=_AR_LAGS, trend="c")
    fitted = np.asarray(model.fit().params) if estimate else params
    path = model.predict(fitted, start=len(y), end=len(y) + horizon - 1)
    return np.asarray(path), fitted


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("snaive", _snaive, PERIOD),
        Method("robust_snaive", _robust_snaive, 2 * PERIOD),
        Method("stl_ets", _stl_ets(trend=True), 2 * PERIOD),
        Method("stl_ses", _stl_ets(trend=False), 2 * PERIOD),
        Method("ensemble", _stl_ensemble, 2 * PERIOD),
        Method("ets", _ets_seasonal, 3 * PERIOD),
        Method("sarimax", _sarimax, 4 * PERIOD),
        Method("autoreg", _autoreg, 4 * PERIOD),
    )
}
AUTO_CANDIDATES = ("robust_snaive", "stl_ets", "ensemble")


def quietly(func: Callable[..., Any], *args: Any) -> Any:
    """Call ``func`` with statsmodels' convergence chatter silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return func(*args)
