"""Price-aware spend forecasts by provider, team or model: `finops forecast --by ...`.

The numbers are the store's one forecast (`finops.analysis.forecast.state.store_forecast`):
usage valued at today's prices is forecast for the whole hierarchy, reconciled, then priced
day by day with the catalog (future-dated periods included), so an announced price change
moves the dollar forecast on its date while the token forecast stays as it is. This module
picks the level asked for and, for `finops backtest`, scores each series on its own past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from finops.analysis.forecast.state import (
    INTERVALS,
    NO_USAGE,
    StoreForecast,
    forecast_history,
    level_name,
    store_forecast,
)
from finops.session.session import Session

__all__ = ["BY_KEYS", "SpendForecastResult", "backtest_spend", "forecast_spend", "month_sums"]

BY_KEYS = ("total", "provider", "team", "model")


@dataclass(frozen=True)
class SpendForecastResult:
    as_of: dt.date
    by: str
    forecast: pl.DataFrame  # day, <by>, mean, lo.., hi.., method, tokens_mean, price_factor
    history: pl.DataFrame  # day, <by>, cost_usd (as priced then)
    total: pl.DataFrame  # day, mean, tokens_mean: the parent the rows above add up to
    store: StoreForecast  # the store's one forecast the rows are read from (save it, its change)

    def by_month(self) -> pl.DataFrame:
        """The daily forecast rows summed per calendar month and key: :func:`month_sums`."""
        return month_sums(self.forecast, [c for c in (self.by,) if c in self.forecast.columns])


def month_sums(daily: pl.DataFrame, keys: Sequence[str] = ()) -> pl.DataFrame:
    """Daily forecast rows summed per calendar month (and keys): month, the keys, the days
    forecast in it, mean and each lo/hi bound summed over those days (rounded by whoever
    shows them, once: `forecast --period month` and the plans' "as is" print the same cents)."""
    bounds = [c for c in daily.columns if c == "mean" or c[:2] in ("lo", "hi") and c[2:].isdigit()]
    return (
        daily.with_columns(pl.col("day").dt.truncate("1mo").alias("month"))
        .group_by("month", *keys)
        .agg(pl.len().alias("days"), *[pl.col(c).sum() for c in bounds])
        .sort("month", *keys)
    )


def forecast_spend(
    session: Session,
    *,
    by: str = "total",
    horizon: int | None = None,
    levels: tuple[int, ...] = INTERVALS,
    as_of: dt.date | None = None,
) -> SpendForecastResult:
    """Daily dollar and token forecasts for the total or by provider, team or model.

    ``horizon`` (default: the store forecast's whole span, 92 days) may be shorter,
    never longer; ``levels`` are among the stored 80% and 95%.
    """
    if by not in BY_KEYS:
        msg = f"cannot forecast by {by!r}; choose from {', '.join(BY_KEYS)}"
        raise ValueError(msg)
    unknown = sorted(set(levels) - set(INTERVALS))
    if unknown:
        msg = f"the forecast has 80% and 95% intervals, not {', '.join(map(str, unknown))}%"
        raise ValueError(msg)
    try:
        fc = store_forecast(session, today=as_of)
    except LookupError as exc:
        raise ValueError(str(exc)) from None
    span = (fc.horizon_end - fc.as_of).days
    horizon = horizon or span
    if horizon > span:
        msg = (
            f"the forecast runs {span} days, to {fc.horizon_end}: "
            f"ask for --horizon {span} or less, or forecast a series with finops forecast-series"
        )
        raise ValueError(msg)
    last = fc.as_of + dt.timedelta(days=horizon)
    keys = () if by == "total" else (by,)
    nodes = fc.days.filter((pl.col("level") == level_name(keys)) & (pl.col("day") <= last))
    key = pl.lit("total") if by == "total" else pl.col(by)
    forecast = nodes.select(
        "day",
        key.alias(by),
        "mean",
        *[f"{p}{lv}" for lv in sorted(levels) for p in ("lo", "hi")],
        "method",
        "tokens_mean",
        "price_factor",
    ).sort(by, "day")
    history = fc.history.group_by("day", *keys).agg(pl.col("cost_usd").sum())
    total = fc.node().filter(pl.col("day") <= last).select("day", "mean", "tokens_mean")
    return SpendForecastResult(
        as_of=fc.as_of,
        by=by,
        forecast=forecast,
        history=history.with_columns(key.alias(by)).select("day", by, "cost_usd").sort(by, "day"),
        total=total,
        store=fc,
    )


def backtest_spend(
    session: Session, *, by: str = "total", horizon: int = 28, levels: tuple[int, ...] = (80, 95)
) -> pl.DataFrame:
    """Rolling-origin accuracy of each series' daily dollar forecast (constant prices)."""
    from finops.analysis.forecast.api import backtest_series  # the engine, only when needed

    if by not in BY_KEYS:
        msg = f"cannot backtest by {by!r}; choose from {', '.join(BY_KEYS)}"
        raise ValueError(msg)
    # the store forecast's history, without computing the forecast itself
    as_of = session.today()
    if as_of is None:
        raise LookupError(NO_USAGE)
    keys = [] if by == "total" else [by]
    history = forecast_history(session, as_of).group_by("day", *keys).agg(pl.col("value").sum())
    if by == "total":
        history = history.with_columns(pl.lit("total").alias("total"))
    rows = []
    for (name,), part in history.sort("day").group_by(by, maintain_order=True):
        part = part.sort("day")
        if part.height < horizon * 2 + 14:
            continue
        stats = backtest_series(
            part["value"].to_list(), days=part["day"].to_list(), horizon=horizon, levels=levels
        )
        rows.append({by: name, **{k: v for k, v in stats.items() if isinstance(v, (int, float))}})
    return pl.DataFrame(rows)
