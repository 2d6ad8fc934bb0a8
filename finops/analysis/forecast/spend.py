"""Price-aware spend forecasts: forecast usage volume, then price it day by day.

1. History is valued at the prices in force on the last day with data (constant prices), so a
   past price cut is not mistaken for a drop in usage.
2. Those constant-price series (bottom: provider × model, and team when asked) are forecast
   with `finops.analysis.forecast.api.forecast_hierarchy`, so children sum to their parents.
3. Each bottom series' recent token mix (last 28 days, by token class, tier and long-context
   band) is priced on every future day with the catalog, future-dated periods included. The
   ratio to today's price scales that series' forecast and its intervals, so an announced
   price change — or a model retiring onto a successor's price — moves the dollar forecast on
   its date while the token forecast stays as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from finops.analysis.forecast.api import backtest_series, forecast_hierarchy
from finops.core.store import query_pl, read_sql
from finops.pricing.costing import TOKENS_SQL as _TOKENS
from finops.pricing.costing import priced_sql
from finops.session.session import Session

__all__ = ["BY_KEYS", "SpendForecastResult", "backtest_spend", "forecast_spend"]

BY_KEYS = ("total", "provider", "team", "model")
_MIX_DAYS = 28


@dataclass(frozen=True)
class SpendForecastResult:
    as_of: dt.date
    by: str
    forecast: pl.DataFrame  # day, <by>, mean, lo.., hi.., method, tokens_mean, price_factor
    history: pl.DataFrame  # day, <by>, cost_usd (as priced then), tokens
    total: pl.DataFrame  # day, mean, tokens_mean: the parent the rows above add up to


def _team_sql(session: Session) -> str:
    # with an ownership map, rows take the team its rules give (split usage shows as shared)
    return "coalesce(team, 'unallocated')"


def _history(
    session: Session, bottom: list[str], as_of: dt.date, first: dt.date | None
) -> pl.DataFrame:
    """Per day and bottom key: cost as priced then, cost at `as_of` prices, tokens."""
    team = _team_sql(session)
    keys = {"provider": "provider", "model": "coalesce(model_id, model)", "team": team}
    select = ", ".join(f"{keys[k]} AS {k}" for k in bottom)
    at_then = query_pl(
        session.con,
        f"SELECT day, {select}, sum(cost_usd) AS cost_usd, sum({_TOKENS}) AS tokens "
        f"FROM ({priced_sql()}) GROUP BY ALL",
        {
            "revision_id": session.revision_id,
            "from_day": first,
            "to_day": as_of + dt.timedelta(days=1),
        },
    )
    # the same usage with every row's day set to as_of: priced at today's prices
    constant = (
        f"WITH usage_to_price AS (SELECT * REPLACE (CAST($price_day AS DATE) AS day), day AS usage_day "
        f"FROM ({read_sql('stored_daily_usage')})) "
        f"SELECT usage_day AS day, {select}, sum(cost_usd) AS constant_usd "
        f"FROM ({read_sql('priced_usage')}) GROUP BY ALL"
    )
    at_now = query_pl(
        session.con,
        constant,
        {
            "revision_id": session.revision_id,
            "from_day": first,
            "to_day": as_of + dt.timedelta(days=1),
            "price_day": as_of,
        },
    )
    return at_then.join(at_now, on=["day", *bottom], how="left")


def _price_factors(
    session: Session, bottom: list[str], as_of: dt.date, days: list[dt.date]
) -> pl.DataFrame:
    """Per bottom key and future day: cost of the recent mix at that day's prices / today's."""
    team = _team_sql(session)
    keys = {"provider": "provider", "model": "coalesce(model_id, model)", "team": team}
    select = ", ".join(f"{keys[k]} AS {k}" for k in bottom)
    mix_from = as_of - dt.timedelta(days=_MIX_DAYS - 1)
    sql = (
        f"WITH usage_to_price AS ("
        f"  SELECT u.* REPLACE (d.day AS day) FROM ({read_sql('stored_daily_usage')}) AS u"
        f"  CROSS JOIN (SELECT unnest(CAST($days AS DATE[])) AS day) AS d) "
        f"SELECT day, {select}, sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced "
        f"FROM ({read_sql('priced_usage')}) GROUP BY ALL"
    )
    priced = query_pl(
        session.con,
        sql,
        {
            "revision_id": session.revision_id,
            "from_day": mix_from,
            "to_day": as_of + dt.timedelta(days=1),
            "days": [as_of, *days],
        },
    )
    today = priced.filter(pl.col("day") == as_of).select(
        *bottom, pl.col("cost_usd").alias("today_usd")
    )
    future = priced.filter(pl.col("day") != as_of).join(today, on=bottom, how="left")
    return future.with_columns(
        pl.when(pl.col("today_usd").cast(pl.Float64) > 0)
        .then(pl.col("cost_usd").cast(pl.Float64) / pl.col("today_usd").cast(pl.Float64))
        .otherwise(1.0)
        .fill_null(1.0)
        .alias("price_factor")
    ).select("day", *bottom, "price_factor")


def forecast_spend(
    session: Session,
    *,
    by: str = "total",
    horizon: int = 28,
    levels: tuple[int, ...] = (80, 95),
    as_of: dt.date | None = None,
    history_days: int = 365,
) -> SpendForecastResult:
    """Daily dollar and token forecasts for the total or by provider, team or model."""
    if by not in BY_KEYS:
        msg = f"cannot forecast by {by!r}; choose from {', '.join(BY_KEYS)}"
        raise ValueError(msg)
    if as_of is None:
        as_of = query_pl(session.con, "SELECT max(day) AS d FROM daily_usage")["d"][0]
    if as_of is None:
        msg = "no usage to forecast from: load data first (finops demo, or finops ingest FILE)"
        raise ValueError(msg)
    first = as_of - dt.timedelta(days=history_days - 1)
    bottom = ["provider", "model"] + (["team"] if by == "team" else [])
    history = _history(session, bottom, as_of, first)
    frame = history.select(
        "day", *bottom, pl.col("constant_usd").cast(pl.Float64).fill_null(0.0).alias("value")
    )
    tokens = history.select("day", *bottom, pl.col("tokens").cast(pl.Float64).alias("value"))
    group = [] if by == "total" else [by]
    dollars = forecast_hierarchy(
        frame, levels_keys=bottom, horizon=horizon, levels=levels, groupings=[[], group]
    )
    token_fc = forecast_hierarchy(
        tokens, levels_keys=bottom, horizon=horizon, levels=levels, groupings=[[], group]
    )
    days = sorted(set(dollars["day"].to_list()))
    factors = _price_factors(session, bottom, as_of, days)
    bottom_level = ",".join(bottom)
    bottom_fc = (
        dollars.filter(pl.col("level") == bottom_level)
        .join(factors, on=["day", *bottom], how="left")
        .with_columns(pl.col("price_factor").fill_null(1.0))
    )
    # a node's factor is its children's factors weighted by their forecast (exactly coherent)
    node_keys = group
    weighted = bottom_fc.with_columns((pl.col("mean") * pl.col("price_factor")).alias("_priced"))
    node_factor = (
        weighted.group_by("day", *node_keys)
        .agg((pl.col("_priced").sum() / pl.col("mean").sum()).alias("price_factor"))
        .with_columns(pl.col("price_factor").fill_nan(1.0).fill_null(1.0))
    )
    total_priced = weighted.group_by("day").agg(pl.col("_priced").sum().alias("mean"))
    total_tokens = token_fc.filter(pl.col("level") == "total").select(
        "day", pl.col("mean").alias("tokens_mean")
    )
    total = total_priced.join(total_tokens, on="day", how="left").sort("day")
    level_name = by if by != "total" else "total"
    nodes = dollars.filter(pl.col("level") == level_name).select(
        "day",
        *node_keys,
        *[c for c in dollars.columns if c.startswith(("mean", "lo", "hi"))],
        "method",
    )
    nodes = nodes.join(node_factor, on=["day", *node_keys], how="left").with_columns(
        pl.col("price_factor").fill_null(1.0)
    )
    value_cols = [c for c in nodes.columns if c in ("mean",) or c[:2] in ("lo", "hi")]
    value_cols = [c for c in value_cols if not c.startswith(("cum",))]
    nodes = nodes.with_columns([(pl.col(c) * pl.col("price_factor")).alias(c) for c in value_cols])
    token_nodes = token_fc.filter(pl.col("level") == level_name).select(
        "day", *node_keys, pl.col("mean").alias("tokens_mean")
    )
    out = nodes.join(token_nodes, on=["day", *node_keys], how="left")
    if by == "total":
        out = out.with_columns(pl.lit("total").alias("total"))
    keep = [
        "day",
        by,
        "mean",
        *[f"{p}{lv}" for lv in levels for p in ("lo", "hi")],
        "method",
        "tokens_mean",
        "price_factor",
    ]
    hist_keys = [] if by == "total" else [by]
    hist = history.group_by("day", *hist_keys).agg(pl.col("cost_usd").sum(), pl.col("tokens").sum())
    if by == "total":
        hist = hist.with_columns(pl.lit("total").alias("total"))
    return SpendForecastResult(
        as_of=as_of,
        by=by,
        forecast=out.select(keep).sort(by, "day"),
        history=hist.select("day", by, "cost_usd", "tokens").sort(by, "day"),
        total=total,
    )


def backtest_spend(
    session: Session, *, by: str = "total", horizon: int = 28, levels: tuple[int, ...] = (80, 95)
) -> pl.DataFrame:
    """Rolling-origin accuracy of each series' daily dollar forecast (constant prices)."""
    result = forecast_spend(session, by=by, horizon=1, levels=levels)
    rows = []
    key = result.by
    as_of = result.as_of
    bottom = ["provider", "model"] + (["team"] if by == "team" else [])
    history = _history(session, bottom, as_of, as_of - dt.timedelta(days=364))
    group = [] if by == "total" else [by]
    series = history.group_by("day", *group).agg(pl.col("constant_usd").cast(pl.Float64).sum())
    if by == "total":
        series = series.with_columns(pl.lit("total").alias("total"))
    for (name,), part in series.sort("day").group_by(key, maintain_order=True):
        part = part.sort("day")
        if part.height < horizon * 2 + 14:
            continue
        stats = backtest_series(
            part["constant_usd"].to_list(),
            days=part["day"].to_list(),
            horizon=horizon,
            levels=levels,
        )
        rows.append({key: name, **{k: v for k, v in stats.items() if isinstance(v, (int, float))}})
    return pl.DataFrame(rows)
