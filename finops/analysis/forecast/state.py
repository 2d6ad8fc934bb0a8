"""One spend forecast per store state, read by every view (issue 13: one number everywhere).

``store_forecast(session)`` forecasts the whole hierarchy once — the total, each provider,
model and team, provider × model, model × team, and the bottom series provider × model ×
team — for the store's state: its usage (a fingerprint of the daily rollup), the catalog
revision, the teams map, the contracts and "today" (`finops.core.today`). The result is
kept in the store (table ``forecast_cache``) and in the process, so the Overview's month
end, the Forecast page at every split, budgets and their run-out dates, alerts, the review's
next month and ``finops forecast --by ...`` all read the same numbers.

How it is made:

1. Daily spend per bottom series (``Session.spend``, so teams are the allocation's) is valued
   at the prices in force today (constant prices), so a past price cut is not read as a drop
   in usage.
2. ``forecast_hierarchy`` forecasts every node and reconciles the means (MinT), so children
   add up to their parents every day.
3. Announced price changes (future-dated catalog periods) scale each bottom series from their
   day (``price_factor``); parents are the sums of their children.
4. Month totals (this month: actual to date + forecast; next month: forecast) are rounded to
   cents once, on the bottom series, by largest remainder so they add up to the rounded total;
   every other node's total is the sum of its bottom series' cents, so every split foots.

>>> from finops.analysis.forecast.state import largest_remainder_cents
>>> largest_remainder_cents([1.005, 1.005, 1.005])  # 3.015 -> 3.02: one cent goes up
[Decimal('1.01'), Decimal('1.01'), Decimal('1.00')]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from finops.core.format import allocate_cents, plural, signed_usd
from finops.core.months import month_end
from finops.core.store import StoreError, read_sql
from finops.session.queries import Store, open_writer
from finops.session.session import Session

__all__ = [
    "HIERARCHY",
    "HORIZON_DAYS",
    "LEVELS",
    "NO_USAGE",
    "StoreForecast",
    "describe_change",
    "forecast_history",
    "largest_remainder_cents",
    "level_name",
    "save_forecast",
    "spend_history",
    "store_forecast",
]

#: The bottom series' keys, top to bottom.
HIERARCHY = ("provider", "model", "team")
#: Every level forecast, by the keys it groups on (the bottom is all of HIERARCHY).
LEVELS: tuple[tuple[str, ...], ...] = (
    (),
    ("provider",),
    ("model",),
    ("team",),
    ("provider", "model"),
    ("model", "team"),
    HIERARCHY,
)
#: Bumped when the method changes, so no store serves a forecast made the old way.
FORECAST_VERSION = "2"
HISTORY_DAYS = 365
#: Environment variable naming the public holiday calendar to adjust for ("US", "GB",
#: "AU-VIC", ...: the ``holidays`` package's codes); unset: no holiday adjustment.
HOLIDAYS_ENV = "FINOPS_HOLIDAYS"
#: Days forecast: next month from any day of this one, and about a quarter ahead.
HORIZON_DAYS = 92
INTERVALS = (80, 95)
_MIX_DAYS = 28
_KEEP_RUNS = 12
_CENT = Decimal("0.01")
_MEMO: dict[str, StoreForecast] = {}


def level_name(keys: tuple[str, ...]) -> str:
    """'total' or the keys joined by commas, as ``forecast_hierarchy`` names its levels."""
    return ",".join(keys) if keys else "total"


@dataclass(frozen=True)
class StoreForecast:
    """The forecast of one store state. Frames (money as float USD unless said):

    - ``days``: level, provider, model, team (null where summed over), day, mean, lo80, hi80,
      lo95, hi95, cum_mean, cum_lo80, ..., tokens_mean, price_factor, method, note.
    - ``months``: the bottom series' month totals: provider, model, team, month, actual_usd
      (exact Decimal, to date), total_usd (Decimal cents: actual + forecast, largest
      remainder), and ``month_bounds``: every node's lo80..hi95 (Decimal cents) per month.
    - ``history``: day, provider, model, team, cost_usd (exact Decimal as priced then).
    """

    state_key: str
    as_of: dt.date
    horizon_end: dt.date
    revision_id: int
    days: pl.DataFrame
    months: pl.DataFrame
    month_bounds: pl.DataFrame
    history: pl.DataFrame
    change: str | None = None  # what moved the forecast since the store's previous one

    @property
    def this_month(self) -> dt.date:
        return self.as_of.replace(day=1)

    @property
    def next_month(self) -> dt.date:
        return month_end(self.as_of) + dt.timedelta(days=1)

    def node(self, **keys: str) -> pl.DataFrame:
        """Daily forecast of one node: ``node()`` is the total, ``node(team="search")`` a team."""
        wanted = tuple(k for k in HIERARCHY if k in keys)
        if wanted not in LEVELS:
            msg = f"no forecast level groups on {', '.join(wanted)}; levels: {_level_list()}"
            raise ValueError(msg)
        frame = self.days.filter(pl.col("level") == level_name(wanted))
        for key, value in keys.items():
            frame = frame.filter(pl.col(key) == value)
        return frame.sort("day")

    def month_total(self, month: dt.date, **keys: str) -> Decimal:
        """A node's total for ``month`` in cents: the sum of its bottom series' cents."""
        frame = self.months.filter(pl.col("month") == month.replace(day=1))
        for key, value in keys.items():
            frame = frame.filter(pl.col(key) == value)
        if frame.is_empty():
            return Decimal("0.00")
        return Decimal(frame["total_usd"].sum()).quantize(_CENT)


def _level_list() -> str:
    return "; ".join(level_name(lv) for lv in LEVELS)


# -- rounding -------------------------------------------------------------------------------


def largest_remainder_cents(values: list[float | Decimal]) -> list[Decimal]:
    """Round each value to cents so the cents add up to the rounded (half up) total.

    Each value is floored to the cent; the cents left over go one each to the largest
    remainders (ties: the earlier value): `finops.core.format.allocate_cents`.
    """
    exact = [v if isinstance(v, Decimal) else Decimal(repr(float(v))) for v in values]
    return allocate_cents(exact, sum(exact, Decimal(0)).quantize(_CENT, rounding=ROUND_HALF_UP))


# -- the store state ----------------------------------------------------------------------------


def _state_key(session: Session, as_of: dt.date) -> str:
    """A digest of everything the forecast depends on."""
    parts = [FORECAST_VERSION, str(as_of), session.state_key(), os.environ.get(HOLIDAYS_ENV, "")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def spend_history(session: Session, as_of: dt.date) -> pl.DataFrame:
    """Bottom spend per day: cost_usd as priced then, value at today's prices, tokens.

    The constant-price value is cost × (the provider and model's usage that day priced at
    ``as_of`` ÷ as priced then): prices do not depend on the team.
    """
    first = as_of - dt.timedelta(days=HISTORY_DAYS - 1)
    end = as_of + dt.timedelta(days=1)
    spent = session.spend(["day", *HIERARCHY], from_day=first, to_day=end)
    tokens = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
    spent = spent.select(
        "day",
        *HIERARCHY,
        pl.col("cost_usd").fill_null(Decimal(0)),
        pl.sum_horizontal(tokens).cast(pl.Float64).alias("tokens"),
    )
    constant = (
        f"WITH usage_to_price AS (SELECT * REPLACE (CAST($price_day AS DATE) AS day), "
        f"day AS usage_day FROM ({read_sql('stored_daily_usage')})) "
        f"SELECT usage_day AS day, provider, coalesce(model_id, model) AS model, "
        f"sum(cost_usd) AS constant_usd FROM ({read_sql('priced_usage')}) GROUP BY ALL"
    )
    params = {"revision_id": session.revision_id, "from_day": first, "to_day": end}
    at_now = session.query(constant, {**params, "price_day": as_of})
    # as priced then, per provider and model: the teams' rows added up (no second spend query)
    at_then = spent.group_by("day", "provider", "model").agg(pl.col("cost_usd").sum())
    ratio = at_then.join(at_now, on=["day", "provider", "model"], how="left").select(
        "day",
        "provider",
        "model",
        _ratio("constant_usd", "cost_usd").alias("ratio"),
    )
    history = spent.join(ratio, on=["day", "provider", "model"], how="left").with_columns(
        (pl.col("cost_usd").cast(pl.Float64) * pl.col("ratio").fill_null(1.0)).alias("value")
    )
    return history.drop("ratio")


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    """numerator ÷ denominator as a float, 1 where the denominator is not above zero or null."""
    den = pl.col(denominator).cast(pl.Float64)
    return (
        pl.when(den > 0)
        .then(pl.col(numerator).cast(pl.Float64) / den)
        .otherwise(1.0)
        .fill_null(1.0)
    )


def _price_factors(session: Session, as_of: dt.date, days: list[dt.date]) -> pl.DataFrame:
    """Per provider, model and future day: the recent mix priced that day ÷ priced today."""
    sql = (
        f"WITH usage_to_price AS ("
        f"  SELECT u.* REPLACE (d.day AS day) FROM ({read_sql('stored_daily_usage')}) AS u"
        f"  CROSS JOIN (SELECT unnest(CAST($days AS DATE[])) AS day) AS d) "
        f"SELECT day, provider, coalesce(model_id, model) AS model, sum(cost_usd) AS cost_usd "
        f"FROM ({read_sql('priced_usage')}) GROUP BY ALL"
    )
    priced = session.query(
        sql,
        {
            "revision_id": session.revision_id,
            "from_day": as_of - dt.timedelta(days=_MIX_DAYS - 1),
            "to_day": as_of + dt.timedelta(days=1),
            "days": [as_of, *days],
        },
    )
    today = priced.filter(pl.col("day") == as_of).select(
        "provider", "model", pl.col("cost_usd").alias("today_usd")
    )
    return (
        priced.filter(pl.col("day") != as_of)
        .join(today, on=["provider", "model"], how="left")
        .select(
            "day",
            "provider",
            "model",
            _ratio("cost_usd", "today_usd").alias("price_factor"),
        )
    )


def _usd_per_token(history: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Constant-price dollars per token of each bottom series over the recent mix."""
    recent = history.filter(pl.col("day") > as_of - dt.timedelta(days=_MIX_DAYS))
    return recent.group_by(*HIERARCHY).agg(
        (pl.col("value").sum() / pl.col("tokens").sum()).alias("usd_per_token")
    )


# -- making it ----------------------------------------------------------------------------------


def _interval_cols() -> list[str]:
    return [f"{p}{lv}" for lv in INTERVALS for p in ("lo", "hi")]


def _priced_days(
    base: pl.DataFrame, factors: pl.DataFrame, per_token: pl.DataFrame
) -> pl.DataFrame:
    """Apply price factors to the bottom series; every parent becomes its children's sum."""
    bottom_name = level_name(HIERARCHY)
    bottom = (
        base.filter(pl.col("level") == bottom_name)
        .join(factors, on=["day", "provider", "model"], how="left")
        .join(per_token, on=list(HIERARCHY), how="left")
        .with_columns(pl.col("price_factor").fill_null(1.0))
        .with_columns(
            (pl.col("mean") * pl.col("price_factor")).alias("_priced"),
            pl.when(pl.col("usd_per_token") > 0)
            .then(pl.col("mean") / pl.col("usd_per_token"))
            .alias("_tokens"),
        )
    )
    frames = []
    for keys in LEVELS:
        name = level_name(keys)
        sums = bottom.group_by("day", *keys).agg(
            pl.col("_priced").sum().alias("_priced"),
            pl.col("mean").sum().alias("_constant"),
            pl.col("_tokens").sum().alias("tokens_mean"),
        )
        nodes = base.filter(pl.col("level") == name)
        join_on = ["day", *keys]
        nodes = nodes.join(sums, on=join_on, how="left")
        factor = (
            pl.when(pl.col("_constant") > 0)
            .then(pl.col("_priced") / pl.col("_constant"))
            .otherwise(1.0)
        )
        nodes = nodes.with_columns(factor.alias("price_factor")).with_columns(
            pl.col("_priced").alias("mean"),
            *[(pl.col(c) * pl.col("price_factor")).alias(c) for c in _interval_cols()],
        )
        frames.append(nodes.drop("_priced", "_constant"))
    out = pl.concat(frames, how="diagonal_relaxed")
    # running totals from the first forecast day, bounds moved with the priced mean
    group = ["level", *HIERARCHY]
    out = out.sort([*group, "day"], nulls_last=True).with_columns(
        pl.col("mean").cum_sum().over(group).alias("_cum")
    )
    scale = pl.when(pl.col("cum_mean") > 0).then(pl.col("_cum") / pl.col("cum_mean")).otherwise(1.0)
    return (
        out.with_columns(
            *[(pl.col(f"cum_{c}") * scale).alias(f"cum_{c}") for c in _interval_cols()],
        )
        .with_columns(pl.col("_cum").alias("cum_mean"))
        .drop("_cum")
    )


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _month_tables(
    days: pl.DataFrame, history: pl.DataFrame, as_of: dt.date, horizon_end: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(bottom series' month totals in cents, every node's month bounds in cents)."""
    this_month = as_of.replace(day=1)
    months = [this_month]
    nxt = month_end(as_of) + dt.timedelta(days=1)
    while month_end(nxt) <= horizon_end:
        months.append(nxt)
        nxt = month_end(nxt) + dt.timedelta(days=1)
    actual = (
        history.filter(pl.col("day") >= this_month)
        .group_by(*HIERARCHY)
        .agg(pl.col("cost_usd").sum().alias("actual_usd"))
    )
    cum = days.select(
        "level", *HIERARCHY, "day", "cum_mean", *[f"cum_{c}" for c in _interval_cols()]
    )
    total_rows, bound_rows = [], []
    bottom_name = level_name(HIERARCHY)
    for month in months:
        last = month_end(month)
        before = month - dt.timedelta(days=1)
        at_end = cum.filter(pl.col("day") == last)
        if last <= as_of:
            # the month is over (today is its last day): its total is what it spent
            first_day = as_of + dt.timedelta(days=1)
            at_end = cum.filter(pl.col("day") == first_day).with_columns(
                pl.lit(0.0).alias(c) for c in cum.columns if c.startswith("cum_")
            )
        at_start = cum.filter(pl.col("day") == before).select(
            "level", *HIERARCHY, pl.col("cum_mean").alias("_before")
        )
        window = at_end.join(at_start, on=["level", *HIERARCHY], how="left", nulls_equal=True)
        window = window.with_columns(pl.col("_before").fill_null(0.0))
        if month == this_month:
            # the period starts with the forecast (after today's actuals): calibrated bounds
            window = window.with_columns(pl.lit(0.0).alias("_before"))
        bottoms = window.filter(pl.col("level") == bottom_name).join(
            actual, on=list(HIERARCHY), how="left", nulls_equal=True
        )
        exact = [
            (r["actual_usd"] if month == this_month and r["actual_usd"] is not None else Decimal(0))
            + _decimal(r["cum_mean"] - r["_before"])
            for r in bottoms.iter_rows(named=True)
        ]
        # this month's bottom series without forecast rows (none: every series is forecast)
        cents = largest_remainder_cents(exact)
        for r, total in zip(bottoms.iter_rows(named=True), cents, strict=True):
            act = r["actual_usd"] if month == this_month else None
            total_rows.append(
                {
                    **{k: r[k] for k in HIERARCHY},
                    "month": month,
                    "actual_usd": act if act is not None else Decimal(0),
                    "total_usd": total,
                }
            )
        node_actual = {}
        if month == this_month:
            for keys in LEVELS:
                sums = actual.group_by(*keys).agg(pl.col("actual_usd").sum()) if keys else None
                if keys:
                    for row in sums.iter_rows(named=True):
                        node_actual[(level_name(keys), *(row.get(k) for k in HIERARCHY))] = row[
                            "actual_usd"
                        ]
                else:
                    node_actual[("total", None, None, None)] = actual["actual_usd"].sum()
        for r in window.iter_rows(named=True):
            spent = node_actual.get((r["level"], *(r[k] for k in HIERARCHY))) or Decimal(0)
            row: dict[str, Any] = {"level": r["level"], **{k: r[k] for k in HIERARCHY}}
            row["month"] = month
            for c in _interval_cols():
                value = Decimal(spent) + _decimal(r[f"cum_{c}"] - r["_before"])
                row[c] = max(value, Decimal(spent)).quantize(_CENT, rounding=ROUND_HALF_UP)
            bound_rows.append(row)
    money = pl.Decimal(38, 12)
    totals = pl.DataFrame(
        total_rows,
        schema={
            **{k: pl.Utf8 for k in HIERARCHY},
            "month": pl.Date,
            "actual_usd": money,
            "total_usd": pl.Decimal(38, 2),
        },
    )
    bounds = pl.DataFrame(
        bound_rows,
        schema={
            "level": pl.Utf8,
            **{k: pl.Utf8 for k in HIERARCHY},
            "month": pl.Date,
            **{c: pl.Decimal(38, 2) for c in _interval_cols()},
        },
    )
    return totals, bounds


#: why there is no forecast on a store without usage
NO_USAGE = "no usage to forecast from: load data first (finops demo, or finops ingest FILE)"


def forecast_history(session: Session, as_of: dt.date) -> pl.DataFrame:
    """`spend_history` to `as_of`; LookupError when it holds no priced spend to learn from."""
    history = spend_history(session, as_of)
    if history.is_empty() or not history["value"].abs().sum():
        msg = f"no priced spend in the year to {as_of} to forecast from"
        raise LookupError(msg)
    return history


def _compute(session: Session, as_of: dt.date, state_key: str) -> StoreForecast:
    # the forecasting engine (scipy, statsmodels) is imported only when a forecast is made:
    # a reader of the cached forecast starts without it
    from finops.analysis.forecast.api import forecast_hierarchy

    history = forecast_history(session, as_of)
    horizon = HORIZON_DAYS
    base = forecast_hierarchy(
        history.select("day", *HIERARCHY, "value"),
        levels_keys=list(HIERARCHY),
        horizon=horizon,
        levels=INTERVALS,
        groupings=[list(lv) for lv in LEVELS],
        workers=1,
        holidays=os.environ.get(HOLIDAYS_ENV) or None,
    )
    future = sorted(set(base["day"].to_list()))
    days = _priced_days(
        base, _price_factors(session, as_of, future), _usd_per_token(history, as_of)
    )
    horizon_end = as_of + dt.timedelta(days=horizon)
    months, bounds = _month_tables(days, history, as_of, horizon_end)
    return StoreForecast(
        state_key=state_key,
        as_of=as_of,
        horizon_end=horizon_end,
        revision_id=session.revision_id,
        days=days.select(
            "level",
            *HIERARCHY,
            "day",
            "mean",
            *_interval_cols(),
            "cum_mean",
            *[f"cum_{c}" for c in _interval_cols()],
            "tokens_mean",
            "price_factor",
            "method",
            "note",
        ),
        months=months,
        month_bounds=bounds,
        history=history.select("day", *HIERARCHY, "cost_usd"),
    )


# -- the cache ------------------------------------------------------------------------------------

_PARTS = ("days", "months", "month_bounds", "history")


def _has_cache_table(session: Session) -> bool:
    found = session.one(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'forecast_cache'",
    )
    return bool(found and found[0])


def _read_cached(session: Session, state_key: str) -> StoreForecast | None:
    if not _has_cache_table(session):
        return None
    rows = session.rows(
        "SELECT part, body, as_of, horizon_end, revision_id, change FROM forecast_cache "
        "WHERE state_key = $key",
        {"key": state_key},
    )
    parts = {r[0]: pl.read_parquet(io.BytesIO(r[1])) for r in rows}
    if set(parts) != set(_PARTS):
        return None
    _, _, as_of, horizon_end, revision_id, change = rows[0]
    return StoreForecast(
        state_key=state_key,
        as_of=as_of,
        horizon_end=horizon_end,
        revision_id=revision_id,
        change=change,
        **parts,
    )


def _previous(session: Session, state_key: str) -> StoreForecast | None:
    """The store's most recent other forecast, to say what moved."""
    if not _has_cache_table(session):
        return None
    row = session.one(
        "SELECT state_key FROM forecast_cache WHERE state_key <> $key "
        "ORDER BY made_at DESC LIMIT 1",
        {"key": state_key},
    )
    return _read_cached(session, row[0]) if row else None


def _write(session: Session, fc: StoreForecast) -> None:
    if not session.read_only and _has_cache_table(session):
        _insert(session, fc)


def save_forecast(
    db: str | os.PathLike[str], fc: StoreForecast, *, wait_seconds: float = 2.0
) -> bool:
    """Keep a forecast made by a read-only session in the store, for the next reader.

    Call it after the session is closed (DuckDB gives a process one mode per file). It takes
    the write lock for milliseconds, waiting at most ``wait_seconds``; False when the store
    is busy (the forecast is simply made again next time).
    """
    try:
        store = open_writer(db, wait_seconds=wait_seconds)
    except StoreError:
        return False
    try:
        found = store.one(
            "SELECT count(*) FROM forecast_cache WHERE state_key = $key", {"key": fc.state_key}
        )
        if not found[0]:
            _insert(store, fc)
    finally:
        store.close()
    return True


def _insert(store: Store, fc: StoreForecast) -> None:
    with store.transaction():
        store.execute("DELETE FROM forecast_cache WHERE state_key = $key", {"key": fc.state_key})
        for part in _PARTS:
            buffer = io.BytesIO()
            getattr(fc, part).write_parquet(buffer)
            store.execute(
                "INSERT INTO forecast_cache VALUES ($key, now()::TIMESTAMP, $as_of, $end, "
                "$rev, $change, $part, $body)",
                {
                    "key": fc.state_key,
                    "as_of": fc.as_of,
                    "end": fc.horizon_end,
                    "rev": fc.revision_id,
                    "change": fc.change,
                    "part": part,
                    "body": buffer.getvalue(),
                },
            )
        store.execute(
            "DELETE FROM forecast_cache WHERE state_key NOT IN (SELECT state_key FROM "
            "(SELECT state_key, max(made_at) AS t FROM forecast_cache GROUP BY state_key "
            f"ORDER BY t DESC LIMIT {_KEEP_RUNS}))"
        )


# -- what changed ---------------------------------------------------------------------------------


def describe_change(old: StoreForecast, new: StoreForecast) -> str | None:
    """'forecast moved +$43.10 since the forecast for data through 2025-12-30: new usage on
    31 Dec (+$85.20)' — None when next month's total did not move."""
    month = new.next_month
    moved = new.month_total(month) - old.month_total(month)
    if moved == 0:
        return None
    causes = []
    if old.revision_id != new.revision_id:
        causes.append(f"catalog revision {old.revision_id} → {new.revision_id}")
    before = old.history.group_by("day").agg(pl.col("cost_usd").sum().alias("old"))
    after = new.history.group_by("day").agg(pl.col("cost_usd").sum().alias("new"))
    diff = (
        after.join(before, on="day", how="full", coalesce=True)
        .with_columns(pl.col("old").fill_null(Decimal(0)), pl.col("new").fill_null(Decimal(0)))
        .filter(pl.col("old") != pl.col("new"))
        .sort("day")
    )
    if diff.height:
        shown = [
            f"{r['day']:%d %b %Y} ({signed_usd(Decimal(r['new'] - r['old']).quantize(_CENT))})"
            for r in diff.head(3).iter_rows(named=True)
        ]
        more = f" and {plural(diff.height - 3, 'more day')}" if diff.height > 3 else ""
        causes.append(f"new usage on {', '.join(shown)}{more}")
    if old.as_of != new.as_of:
        causes.append(f"today moved from {old.as_of} to {new.as_of}")
    why = "; ".join(causes) or "the teams map or contracts changed"
    return (
        f"forecast for {month:%B %Y} moved {signed_usd(moved)} since the forecast for data "
        f"through {old.as_of}: {why}"
    )


# -- the entry point ----------------------------------------------------------------------------


def store_forecast(session: Session, *, today: dt.date | None = None) -> StoreForecast:
    """The forecast of the store's current state (made once, then read from the cache).

    ``today`` defaults to `finops.core.today.resolve_today` (the last day with data, or
    FINOPS_TODAY); the forecast runs ``HORIZON_DAYS`` days from the day after it.
    Raises LookupError when the store has no priced spend to forecast from.
    """
    as_of = session.today(today)
    if as_of is None:
        raise LookupError(NO_USAGE)
    key = _state_key(session, as_of)
    # a viewer restricted to some teams neither reads nor writes the store's shared cache:
    # "what moved since the previous forecast" would compare with the whole company's
    shared = session.viewer_teams is None
    found = _MEMO.get(key) or (_read_cached(session, key) if shared else None)
    if found is None:
        found = _compute(session, as_of, key)
        previous = _previous(session, key) if shared else None
        if previous is not None:
            found = replace(found, change=describe_change(previous, found))
        if shared:
            _write(session, found)
    if len(_MEMO) >= 8:
        _MEMO.clear()
    _MEMO[key] = found
    return found
