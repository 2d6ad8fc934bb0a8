"""Point-forecast methods for daily series with a weekly cycle (private).

Each method turns a complete daily history (no missing values) into a mean path. It
works in two steps so that a rolling-origin backtest stays cheap and honest:
``estimate`` fits the parameters on one window, ``predict`` applies fixed parameters
to another window that starts on the same day (only filtering, no optimisation).
Intervals are not made here: the engine calibrates them from backtest errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.statespace.sarimax import SARIMAX

__all__ = [
    "AUTO_CANDIDATES",
    "METHODS",
    "PERIOD",
    "Method",
    "ensemble_members",
    "min_history",
]

PERIOD = 7
# STL's seasonal smoother spans this many weeks per weekday: long enough that one odd
# week does not reshape the weekly profile, short enough to follow a changing profile.
STL_SEASONAL = 13
# Remainder values beyond this many robust standard deviations are clipped before the
# level model sees them, so a one-day spike cannot bend the level or trend.
OUTLIER_SIGMAS = 3.0


def _weekly_tail(seasonal: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed week of a seasonal component over the horizon."""
    last_week = seasonal[-PERIOD:]
    return np.resize(last_week, horizon)


def _robust_adjust(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust STL: (seasonally adjusted series with outliers clipped, seasonal part)."""
    fit = STL(y, period=PERIOD, seasonal=STL_SEASONAL, robust=True).fit()
    resid = np.asarray(fit.resid)
    center = np.median(resid)
    scale = 1.4826 * np.median(np.abs(resid - center))
    if scale > 0:
        resid = np.clip(resid, center - OUTLIER_SIGMAS * scale, center + OUTLIER_SIGMAS * scale)
    return np.asarray(fit.trend) + resid, np.asarray(fit.seasonal)


def _ets(y: np.ndarray, *, trend: bool) -> ETSModel:
    if trend:
        return ETSModel(y, error="add", trend="add", damped_trend=True)
    return ETSModel(y, error="add")


def _ets_path(y: np.ndarray, params: Any, horizon: int, *, trend: bool) -> tuple[np.ndarray, Any]:
    model = _ets(y, trend=trend)
    result = model.fit(disp=False) if params is None else model.smooth(params)
    return np.asarray(result.forecast(horizon)), np.asarray(result.params)


@dataclass(frozen=True)
class Method:
    """A forecasting method: ``run(y, horizon, params)`` -> (mean path, params).

    With ``params=None`` the parameters are estimated on ``y``; otherwise they are
    applied as given. ``min_days`` is the shortest history the method accepts.
    """

    name: str
    run: Callable[[np.ndarray, int, Any], tuple[np.ndarray, Any]]
    min_days: int


def _snaive(y: np.ndarray, horizon: int, params: Any) -> tuple[np.ndarray, Any]:
    return _weekly_tail(y, horizon), None


def _stl_ets(trend: bool) -> Callable[[np.ndarray, int, Any], tuple[np.ndarray, Any]]:
    def run(y: np.ndarray, horizon: int, params: Any) -> tuple[np.ndarray, Any]:
        adjusted, seasonal = _robust_adjust(y)
        level_path, fitted = _ets_path(adjusted, params, horizon, trend=trend)
        return level_path + _weekly_tail(seasonal, horizon), fitted

    return run


def _ets_seasonal(y: np.ndarray, horizon: int, params: Any) -> tuple[np.ndarray, Any]:
    model = ETSModel(
        y, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=PERIOD
    )
    result = model.fit(disp=False) if params is None else model.smooth(params)
    return np.asarray(result.forecast(horizon)), np.asarray(result.params)


_SARIMAX_ORDER = (1, 0, 1)
_SARIMAX_SEASONAL_ORDER = (0, 1, 1, PERIOD)


def _sarimax(y: np.ndarray, horizon: int, params: Any) -> tuple[np.ndarray, Any]:
    model = SARIMAX(y, order=_SARIMAX_ORDER, seasonal_order=_SARIMAX_SEASONAL_ORDER)
    result = model.fit(disp=False) if params is None else model.filter(params)
    return np.asarray(result.forecast(horizon)), np.asarray(result.params)


_AR_LAGS = [1, 2, 3, 4, 5, 6, 7, 14]


def _autoreg(y: np.ndarray, horizon: int, params: Any) -> tuple[np.ndarray, Any]:
    model = AutoReg(y, lags=_AR_LAGS, trend="c")
    fitted = np.asarray(model.fit().params) if params is None else params
    path = model.predict(fitted, start=len(y), end=len(y) + horizon - 1)
    return np.asarray(path), fitted


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("snaive", _snaive, PERIOD),
        Method("stl_ets", _stl_ets(trend=True), 2 * PERIOD),
        Method("stl_ses", _stl_ets(trend=False), 2 * PERIOD),
        Method("ets", _ets_seasonal, 3 * PERIOD),
        Method("sarimax", _sarimax, 4 * PERIOD),
        Method("autoreg", _autoreg, 4 * PERIOD),
    )
}
# An ensemble averages the mean paths of its members; its name is "ensemble".
_ENSEMBLE = ("stl_ets", "snaive")
AUTO_CANDIDATES = ("snaive", "stl_ets", "ensemble")


def ensemble_members() -> tuple[str, ...]:
    """Names of the methods the ``ensemble`` averages."""
    return _ENSEMBLE


def min_history(name: str) -> int:
    """Shortest history (days) that method ``name`` accepts."""
    if name == "ensemble":
        return max(METHODS[m].min_days for m in _ENSEMBLE)
    return METHODS[name].min_days


def quietly(func: Callable[..., Any], *args: Any) -> Any:
    """Call ``func`` with statsmodels' convergence chatter silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return func(*args)
