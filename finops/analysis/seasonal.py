"""The spike check's expectation and noise for many daily series at once (rows of a matrix).

Each series is judged one step ahead: day t's expectation is `level × weekday factor` from the
whole weeks before t (each week divided by its own mean, so a level shift between weeks does
not bend the factors; the level is the median of the last `level_days` deseasonalised days),
and its noise is a robust σ of the log errors of past expectations on days like t. Every
series of a scope is computed with array operations per day, so 400 API keys cost what one
does. `finops.analysis.anomalies` turns the days above their bound into findings.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "Predictions",
    "SeasonalSettings",
    "exceeds",
    "nan_median",
    "noise",
    "predict",
    "predict_day",
    "row_quantile",
]


class SeasonalSettings(Protocol):
    """What the model reads of its caller's settings (`finops.analysis.anomalies.AnomalyConfig`
    has them all)."""

    weeks: int  # weeks of history for the weekday factors and the residual scale
    level_days: int  # days whose deseasonalised median is the level
    min_active_share: float  # a series idle on more days than this is not judged
    sigma_floor: float  # relative noise assumed at least
    spike_sigmas: float  # the bound is this many σ above the expectation


@dataclass(frozen=True)
class Predictions:
    """One-step-ahead expectations of many daily series (rows) over the same days (columns):
    day t of a series judged from its days before t only."""

    expected: np.ndarray  # NaN where the history is too short or too sporadic
    offset: np.ndarray  # added before taking logs, so idle days do not blow up
    weekend_like: np.ndarray  # the day's weekday factor is low (noisier when volume is low)
    flagged: np.ndarray  # days found to be spikes: kept out of later noise estimates


def predict_day(blocks: np.ndarray, recent: np.ndarray, cfg: SeasonalSettings) -> tuple:
    """(expected, offset, weekend-like) for one day of many series with `w` whole weeks each.

    `blocks` is (series, w, 7): the weeks ending the day before, column 0 on the judged day's
    weekday; `recent` is (series, level_days) with the same weekday alignment from its end.
    Each week is divided by its own mean, so a level shift between weeks does not bend the
    weekday factors; the level is the median of the recent days divided by their factors.
    """
    active = (blocks > 0).mean(axis=(1, 2)) >= cfg.min_active_share
    block_mean = blocks.mean(axis=2)
    used = block_mean > 0
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are the inactive ones
        ratios = np.where(
            used[:, :, None], blocks / np.where(used, block_mean, 1)[:, :, None], np.nan
        )
        factor = nan_median(ratios, axis=1)
        factor = factor / factor.mean(axis=1, keepdims=True)
        cols = (np.arange(-recent.shape[1], 0)) % 7
        f = factor[:, cols]
        level = nan_median(np.where(f > 0, recent / np.where(f > 0, f, 1), np.nan), axis=1)
    expected = np.where(active, level * factor[:, 0], np.nan)
    offset = np.where(active, 0.05 * level, 0.0)
    weekend = active & (factor[:, 0] < 0.75)
    return expected, offset, weekend


def predict(values: np.ndarray, age: np.ndarray, days: range, cfg: SeasonalSettings) -> Predictions:
    """Predictions of every series (row of `values`) on the columns in `days`.

    `age[s, t]` is day t's index in series s's own history (negative before it starts): a
    series is judged with `min(weeks, age // 7)` whole weeks, at least two.
    """
    expected = np.full(values.shape, np.nan)
    offset = np.zeros(values.shape)
    weekend_like = np.zeros(values.shape, dtype=bool)
    for t in days:
        weeks = np.minimum(cfg.weeks, np.maximum(age[:, t], 0) // 7)
        for w in np.unique(weeks[weeks >= 2]):
            rows = np.flatnonzero(weeks == w)
            blocks = values[rows, t - 7 * w : t].reshape(len(rows), w, 7)
            recent = values[rows, t - min(cfg.level_days, 7 * w) : t]
            e, o, k = predict_day(blocks, recent, cfg)
            expected[rows, t], offset[rows, t], weekend_like[rows, t] = e, o, k
    return Predictions(expected, offset, weekend_like, np.zeros(values.shape, dtype=bool))


def nan_median(values: np.ndarray, axis: int) -> np.ndarray:
    """`np.nanmedian(values, axis)` by one sort: numpy's own takes a masked-array path per
    call on small arrays, which was most of the spike check's time.

    >>> nan_median(np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, 4.0, 5.0, np.nan]]), axis=1)
    array([2. , 4.5])
    """
    ordered = np.sort(np.moveaxis(values, axis, -1), axis=-1)  # NaN sorts last
    n = np.sum(~np.isnan(ordered), axis=-1, keepdims=True)
    lo = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0), axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, np.maximum(n // 2, 0), axis=-1)[..., 0]
    # numpy's mean of the two middle values; all-NaN lanes stay NaN (the sort put NaN first)
    return np.where(n[..., 0] > 0, (lo + hi) / 2, np.nan)


def row_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """numpy's default (linear) quantile of each row's non-NaN values, for all rows at once
    (`np.nanquantile` along an axis loops over rows in Python)."""
    ordered = np.sort(values, axis=1)  # NaN sorts last
    n = np.sum(~np.isnan(values), axis=1)
    h = (n - 1) * q
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    rows = np.arange(values.shape[0])
    a, b, t = ordered[rows, lo], ordered[rows, hi], h - lo
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)  # numpy's _lerp


def noise(values: np.ndarray, pred: Predictions, t: int, cfg: SeasonalSettings) -> np.ndarray:
    """Robust σ per series of the log errors of past one-step-ahead expectations, on days
    like day t (NaN where fewer than 8 such days exist)."""
    past = slice(max(0, t - 7 * cfg.weeks), t)
    ok = np.isfinite(pred.expected[:, past]) & ~pred.flagged[:, past]
    alike = ok & (pred.weekend_like[:, past] == pred.weekend_like[:, t : t + 1])
    ok = np.where((alike.sum(axis=1) >= 8)[:, None], alike, ok)
    eps = np.maximum(pred.offset[:, past], 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        errors = np.log((values[:, past] + eps) / (pred.expected[:, past] + eps))
    errors = np.where(ok, errors, np.nan)
    sigma = np.full(values.shape[0], np.nan)
    enough = np.flatnonzero(ok.sum(axis=1) >= 8)
    if enough.size:
        # upward noise only: a past drop (a migration to a cheaper model) is no reason to
        # tolerate a jump; the wider of the quartile and 90th-percentile scales, as errors
        # have heavier tails than a normal
        q75, q90 = (row_quantile(errors[enough], q) for q in (0.75, 0.9))
        sigma[enough] = np.maximum(np.maximum(q75 / 0.6745, q90 / 1.2816), cfg.sigma_floor)
    return sigma


def exceeds(
    values: np.ndarray, pred: Predictions, t: int, cfg: SeasonalSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(above the bound, bound, σ) per series on day t."""
    expected, eps = pred.expected[:, t], np.maximum(pred.offset[:, t], 1e-9)
    sigma = noise(values, pred, t, cfg)
    bound = (expected + eps) * np.exp(cfg.spike_sigmas * sigma) - eps
    above = np.isfinite(expected) & np.isfinite(sigma) & (values[:, t] > bound)
    return above, bound, sigma
