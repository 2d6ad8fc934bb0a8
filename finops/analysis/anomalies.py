"""Daily spend anomalies and unit-cost drift per team, model and API key, with their drivers.

Four checks, each judged against the scope's own history (never a flat threshold):

* **spike** — a day's cost above a weekly-seasonal expectation. The expectation is
  `level × weekday factor`: the weekday factors are medians of the same weekday over the last
  `weeks` weeks, the level is the median of the last `level_days` deseasonalized days, so a
  few past spikes, the weekend dip and slow growth do not move it. The bound is
  `expected × (1 + spike_sigmas × σ)`, σ being the MAD of the recent relative residuals.
* **drift** — unit cost moving the costly way over the last `drift_window_days` against the
  `drift_baseline_days` before: cost per request up, input tokens per request up (prompt
  bloat), output/input ratio up, cache-hit rate down. Judged per model inside each scope, so
  a migration between models is mix, not drift.
* **new_model** — a model used for the first time (anywhere, or by a team).
* **deprecation** — usage of a model whose catalog `deprecated_on` has passed or is near.

Each finding carries expected vs actual, a dollar impact and the driver of the change split
into volume, price and mix in the review's one convention (:mod:`finops.analysis.pvm`):
volume is priced tokens Q, p_i a component's cost per token, m_i its share of the tokens:

    volume = Q × p̄_base − expected      price = Σ q_i × (p_i − p_i,base)
    mix    = Q × Σ (m_i − m_i,base) × p_i,base      volume + price + mix = actual − expected

so the three parts always add up to a spike's impact, to the cent. A drift's impact is what
the unit cost added over its window (:func:`_unit_cost_effect`).

Example:
    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> days = [dt.date(2025, 1, 6) + dt.timedelta(d) for d in range(66)]  # to a Wednesday
    >>> cost = [Decimal(12) if d.weekday() < 5 else Decimal(4) for d in days]
    >>> cost[-1] = 3 * cost[-1]
    >>> daily = component_frame(days, cost, requests=[100 * int(c) for c in cost])
    >>> f = find_anomalies(daily, today=days[-1], days=1).row(0, named=True)
    >>> f["check"], f["key"], round(f["expected"], 2), f["actual"], f["impact_usd"]
    ('spike', 'demo', 12.0, 36.0, Decimal('24.00'))
    >>> f["volume_usd"], f["price_usd"], f["mix_usd"]
    (Decimal('24.00'), Decimal('0.00'), Decimal('0.00'))
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from finops.analysis.pvm import price_volume_mix, priced_tokens
from finops.analysis.seasonal import exceeds, predict

if TYPE_CHECKING:
    from finops.pricing.catalog import Catalog
    from finops.session.session import Session

__all__ = [
    "CHECKS",
    "COMPONENT_KEYS",
    "FINDING_SCHEMA",
    "METRIC_LABELS",
    "SCOPES",
    "AnomalyConfig",
    "component_frame",
    "daily_components",
    "decompose_change",
    "detect_anomalies",
    "find_anomalies",
]

#: Scope kind -> the spend key it groups by.
SCOPES: dict[str, str] = {"team": "team", "model": "model", "api_key": "api_key_id"}
CHECKS: tuple[str, ...] = ("spike", "drift", "new_model", "deprecation")
#: The grain price-volume-mix works on: a component is one of these combinations.
COMPONENT_KEYS: tuple[str, ...] = ("team", "provider", "model", "api_key_id", "service_tier")
_MEASURES = ("cost_usd", "requests", "input_tokens", "output_tokens", "cache_read_tokens")
_MEASURES = (*_MEASURES, "cache_write_tokens")

_MONEY = pl.Decimal(38, 2)
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Date(),
    "check": pl.Utf8(),
    "scope": pl.Utf8(),
    "key": pl.Utf8(),
    "model": pl.Utf8(),
    "metric": pl.Utf8(),
    "expected": pl.Float64(),
    "actual": pl.Float64(),
    "bound": pl.Float64(),
    "impact_usd": _MONEY,
    "volume_usd": _MONEY,
    "price_usd": _MONEY,
    "mix_usd": _MONEY,
    "detail": pl.Utf8(),
}
_CENT = Decimal("0.01")
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class AnomalyConfig:
    """Tuning of the checks; the defaults are the ones measured in benchmarks/."""

    scopes: tuple[str, ...] = ("team", "model", "api_key")
    checks: tuple[str, ...] = CHECKS
    # spikes
    weeks: int = 8  # weeks of history for the weekday factors and the residual scale
    level_days: int = 14  # days whose deseasonalized median is the level
    min_history_days: int = 28  # a scope younger than this is not judged for spikes
    spike_sigmas: float = 3.5
    spike_min_ratio: float = 1.5  # and at least this multiple of the expectation
    sigma_floor: float = 0.05  # relative noise assumed at least (5%)
    min_active_share: float = 0.5  # a scope idle on more days than this is sporadic: no spikes
    min_impact_usd: Decimal = Decimal("0.25")
    # drift
    drift_window_days: int = 7
    drift_baseline_days: int = 28
    drift_min_change: float = 0.2  # relative change of a ratio metric
    drift_min_cache_drop: float = 0.1  # cache-hit rate drop, in share points (0.1 = 10 pts)
    drift_sigmas: float = 4.0
    # deprecation
    deprecation_warn_days: int = 90

    def __post_init__(self) -> None:
        unknown = [s for s in self.scopes if s not in SCOPES]
        if unknown:
            msg = f"unknown scope(s) {unknown}; choose from {', '.join(SCOPES)}"
            raise ValueError(msg)
        unknown = [c for c in self.checks if c not in CHECKS]
        if unknown:
            msg = f"unknown check(s) {unknown}; choose from {', '.join(CHECKS)}"
            raise ValueError(msg)


# -- input ------------------------------------------------------------------------------


def daily_components(
    session: Session, *, from_day: dt.date | None = None, to_day: dt.date | None = None
) -> pl.DataFrame:
    """Spend per day and component (team, provider, model, key, tier) in [from_day, to_day).

    Teams are the session's allocated teams (with an allocation map) or the source's.
    """
    return session.spend(["day", *COMPONENT_KEYS], from_day=from_day, to_day=to_day)


def component_frame(
    days: Sequence[dt.date],
    cost_usd: Sequence[Decimal],
    *,
    requests: Sequence[int] | None = None,
    team: str = "demo",
    model: str = "model-a",
) -> pl.DataFrame:
    """A one-component daily frame in the shape `find_anomalies` reads (for examples, tests)."""
    n = len(days)
    return pl.DataFrame(
        {
            "day": list(days),
            "team": [team] * n,
            "provider": ["example"] * n,
            "model": [model] * n,
            "api_key_id": [f"key-{team}"] * n,
            "service_tier": ["standard"] * n,
            "cost_usd": pl.Series(list(cost_usd), dtype=pl.Decimal(38, 12)),
            "requests": list(requests) if requests is not None else [0] * n,
            "input_tokens": [0] * n,
            "output_tokens": [0] * n,
            "cache_read_tokens": [0] * n,
            "cache_write_tokens": [0] * n,
        },
        schema_overrides={k: pl.Int64 for k in _MEASURES if k != "cost_usd"},
    )


def _prepare(daily: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in ("day", *COMPONENT_KEYS, *_MEASURES) if c not in daily.columns]
    if missing:
        msg = f"daily frame lacks column(s) {missing}: build it with daily_components()"
        raise ValueError(msg)
    if "unpriced_tokens" not in daily.columns:
        daily = daily.with_columns(pl.lit(0).alias("unpriced_tokens"))
    return (
        daily.with_columns(
            pl.col("unpriced_tokens").fill_null(0).cast(pl.Int64),
            pl.col("cost_usd").fill_null(Decimal(0)).cast(pl.Decimal(38, 12)),
            pl.col("cost_usd").cast(pl.Float64).fill_null(0.0).alias("cost"),
            *[pl.col(c).fill_null(0).cast(pl.Int64) for c in _MEASURES if c != "cost_usd"],
        )
        .with_columns(
            (
                pl.col("input_tokens") + pl.col("cache_read_tokens") + pl.col("cache_write_tokens")
            ).alias("prompt_tokens"),
        )
        .with_columns(
            (pl.col("prompt_tokens") + pl.col("output_tokens")).alias("tokens"),
            priced_tokens().alias("priced_tokens"),
        )
    )


# -- driver split -----------------------------------------------------------------------


def decompose_change(
    actual: pl.DataFrame, baseline: pl.DataFrame, expected_usd: Decimal
) -> dict[str, Any]:
    """Split `actual cost − expected_usd` into volume, price and mix effects (exact, cents).

    `actual` and `baseline` hold components (any key columns) with `cost_usd` and
    `priced_tokens`. The split is the review's price-volume-mix (:mod:`finops.analysis.pvm`,
    the one convention: volume in priced tokens, at the baseline's prices per token), with
    the expectation in place of the baseline's cost: price and mix are the components' own
    effects, and volume is the rest, so the three add up to the impact to the cent.
    """
    keys, cells = _paired(actual, baseline, ["cost_usd", "priced_tokens"], how="full")
    effects = price_volume_mix(
        cells.select(
            *keys,
            pl.col("cost_usd_base").alias("base_usd"),
            pl.col("cost_usd").alias("current_usd"),
            pl.col("priced_tokens_base").fill_null(0).alias("base_tokens"),
            pl.col("priced_tokens").fill_null(0).alias("current_tokens"),
        ),
        keys=keys,
    )
    actual_usd = sum((Decimal(c) for c in effects["current_usd"] if c is not None), Decimal(0))
    impact = _cents(actual_usd - expected_usd)
    price_usd = _cents(sum(effects["price_usd"], Decimal(0)))
    mix_usd = _cents(sum(effects["mix_usd"], Decimal(0)))
    return {
        "impact_usd": impact,
        "volume_usd": impact - price_usd - mix_usd,
        "price_usd": price_usd,
        "mix_usd": mix_usd,
    }


def _unit_cost_effect(actual: pl.DataFrame, baseline: pl.DataFrame) -> Decimal:
    """What a drift cost: the window's cost above its requests at the baseline's cost per
    request, component by component (per priced token where a component has no requests);
    a component new in the window has no baseline unit cost and no effect. In cents.

    This is the drift's own measure: prompt bloat raises the cost of a request, though in
    the volume convention of the split it is more tokens (volume) at the same prices.
    """
    _, joined = _paired(actual, baseline, ["cost_usd", "requests", "priced_tokens"], how="left")
    effect = Decimal(0)
    for r in joined.iter_rows(named=True):
        unit = "requests" if (r["requests"] or 0) > 0 and (r["requests_base"] or 0) > 0 else None
        unit = unit or ("priced_tokens" if (r["priced_tokens_base"] or 0) > 0 else None)
        if unit is None:
            continue
        base_cost = Decimal(r["cost_usd_base"] or 0)
        effect += Decimal(r["cost_usd"] or 0) - int(r[unit] or 0) * base_cost / int(
            r[f"{unit}_base"]
        )
    return _cents(effect)


def _paired(
    actual: pl.DataFrame, baseline: pl.DataFrame, cols: list[str], *, how: str
) -> tuple[list[str], pl.DataFrame]:
    """The component keys, and `cols` of actual and baseline summed by them side by side:
    the actual's under their own names, the baseline's with `_base` (`how` joins them)."""
    keys = [c for c in actual.columns if c in COMPONENT_KEYS]

    def summed(frame: pl.DataFrame) -> pl.DataFrame:
        out = frame.group_by(keys).agg(pl.col(cols).sum()) if keys else frame.select(cols).sum()
        return out.with_columns(pl.col("cost_usd").fill_null(Decimal(0)))

    now, base = summed(actual), summed(baseline)
    if not keys:
        return keys, pl.concat([now, base.rename({c: f"{c}_base" for c in cols})], how="horizontal")
    return keys, now.join(base, on=keys, how=how, coalesce=True, suffix="_base", nulls_equal=True)


def _cents(value: Decimal | float) -> Decimal:
    if isinstance(value, float):
        value = Decimal(repr(float(value))) if math.isfinite(value) else Decimal(0)
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


# -- spikes -----------------------------------------------------------------------------
def _with_constant_price_volume(data: pl.DataFrame) -> pl.DataFrame:
    """Add `volume_ref`: each row's volume priced at its component's average unit cost.

    Summed over a scope it is the cost the day would have had at constant unit costs, so it
    moves with volume and mix only: the noise of unit costs (a few long-context requests,
    price changes) is out of it, and a volume spike on a scope with noisy unit costs shows.
    """
    comp = list(COMPONENT_KEYS)
    per = data.group_by(comp).agg(
        pl.col("cost").sum().alias("_c"),
        pl.col("requests").sum().alias("_r"),
        pl.col("tokens").sum().alias("_t"),
        ((pl.col("cost") > 0) & (pl.col("requests") <= 0)).any().alias("_no_requests"),
    )
    per = per.with_columns(
        pl.when(~pl.col("_no_requests") & (pl.col("_r") > 0))
        .then(pl.lit("requests"))
        .otherwise(pl.lit("tokens"))
        .alias("_unit"),
    ).with_columns(
        pl.when(pl.col("_unit") == "requests")
        .then(pl.col("_c") / pl.col("_r"))
        .when(pl.col("_t") > 0)
        .then(pl.col("_c") / pl.col("_t"))
        .otherwise(0.0)
        .alias("_p")
    )
    out = data.join(per.select(*comp, "_unit", "_p"), on=comp, how="left", nulls_equal=True)
    return out.with_columns(
        (
            pl.when(pl.col("_unit") == "requests")
            .then(pl.col("requests"))
            .otherwise(pl.col("tokens"))
            .cast(pl.Float64)
            * pl.col("_p")
        ).alias("volume_ref")
    ).drop("_unit", "_p")


def _spikes(
    data: pl.DataFrame, scope: str, check_days: list[dt.date], cfg: AnomalyConfig
) -> list[dict[str, Any]]:
    """Days whose cost, or whose volume at constant unit costs, is above its bound.

    Every series of the scope is judged at once: one matrix of days per measure.
    """
    col = SCOPES[scope]
    today = check_days[-1]
    per_day = (
        data.filter(pl.col(col).is_not_null())
        .group_by(col, "day")
        .agg(pl.col("cost", "volume_ref").sum())
    )
    firsts = per_day.group_by(col).agg(pl.col("day").min().alias("first"))
    # a scope younger than min_history_days on every checked day is not judged
    firsts = firsts.filter(pl.col("first") <= today - dt.timedelta(days=cfg.min_history_days)).sort(
        col
    )
    if firsts.is_empty():
        return []
    keys, first_days = firsts[col].to_list(), firsts["first"].to_list()
    # columns: every day from two noise windows before the first checked day to today
    origin = check_days[0] - dt.timedelta(days=14 * cfg.weeks + cfg.level_days)
    n_days = (today - origin).days + 1
    row_of = {k: r for r, k in enumerate(keys)}
    part = per_day.filter(pl.col(col).is_in(keys), pl.col("day") >= origin)
    rows = np.array([row_of[k] for k in part[col].to_list()], dtype=np.int64)
    cols = np.array([(d - origin).days for d in part["day"].to_list()], dtype=np.int64)
    cost = np.zeros((len(keys), n_days))
    volume = np.zeros((len(keys), n_days))
    cost[rows, cols] = part["cost"].to_numpy()
    volume[rows, cols] = part["volume_ref"].to_numpy()
    start = np.array([(f - origin).days for f in first_days], dtype=np.int64)
    age = np.arange(n_days)[None, :] - start[:, None]
    judged = range(n_days - len(check_days) - 7 * cfg.weeks, n_days)
    cost_pred = predict(cost, age, judged, cfg)
    volume_pred = predict(volume, age, judged, cfg)
    found: list[tuple] = []  # (row, column, bound, σ, by cost, volume σ)
    for day in check_days:
        t = (day - origin).days
        eligible = age[:, t] >= cfg.min_history_days
        by_cost, bound, sigma = exceeds(cost, cost_pred, t, cfg)
        by_volume, _, volume_sigma = exceeds(volume, volume_pred, t, cfg)
        expected = cost_pred.expected[:, t]
        with np.errstate(invalid="ignore"):
            hit = (
                eligible
                & np.isfinite(expected)
                & (by_cost | by_volume)
                & ~(cost[:, t] < expected * cfg.spike_min_ratio)
            )
        cost_pred.flagged[hit, t] = volume_pred.flagged[hit, t] = True
        found += [
            (r, t, bound[r], sigma[r], bool(by_cost[r]), volume_sigma[r])
            for r in np.flatnonzero(hit)
        ]
    findings = []
    for r, t, bound, sigma, by_cost, volume_sigma in sorted(found):
        key, first, day = keys[r], first_days[r], origin + dt.timedelta(days=t)
        expected = float(cost_pred.expected[r, t])
        if cost[r, t] - expected < float(cfg.min_impact_usd) - 0.01:
            continue  # too small whatever the split says (impact is actual − expected, cents)
        i = (day - first).days
        scoped = data.filter(pl.col(col) == key)
        actual = scoped.filter(pl.col("day") == day)
        same_weekday = [first + dt.timedelta(days=j) for j in range(i - 7, -1, -7)]
        baseline = scoped.filter(pl.col("day").is_in(same_weekday[: cfg.weeks]))
        split = decompose_change(actual, baseline, _cents(expected))
        if split["impact_usd"] < cfg.min_impact_usd:
            continue
        ratio = cost[r, t] / expected if expected > 0 else math.inf
        if not math.isfinite(ratio):
            detail = f"spend on a {day:%A}, when this scope usually spends nothing"
        elif by_cost:
            detail = f"{ratio:.1f}× the {day:%A} expectation (noise σ {sigma:.0%})"
        else:
            vol_ratio = volume[r, t] / volume_pred.expected[r, t]
            detail = (
                f"{ratio:.1f}× the {day:%A} expectation; at constant unit costs "
                f"{vol_ratio:.1f}× its expectation (noise σ {volume_sigma:.0%}), while unit "
                "costs vary more"
            )
        findings.append(
            {
                "day": day,
                "check": "spike",
                "scope": scope,
                "key": key,
                "model": None,
                "metric": "cost_usd",
                "expected": expected,
                "actual": float(cost[r, t]),
                "bound": float(bound),
                **split,
                "detail": detail,
            }
        )
    return findings


# -- drift ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metric:
    name: str
    numerator: str
    denominator: str
    worse_if_up: bool
    label: str


_DRIFT_METRICS = (
    _Metric("cost_per_request_usd", "cost", "requests", True, "cost per request"),
    _Metric("prompt_tokens_per_request", "prompt_tokens", "requests", True, "prompt bloat"),
    _Metric("output_input_ratio", "output_tokens", "prompt_tokens", True, "output/input ratio"),
    _Metric("cache_hit_rate", "cache_read_tokens", "prompt_tokens", False, "cache-hit rate"),
)
#: What a finding's `metric` is called where people read it (tables, charts); CSV and JSON
#: keep the names.
METRIC_LABELS: dict[str, str] = {
    "cost_usd": "cost per day",
    "cost_per_request_usd": "cost per request",
    "prompt_tokens_per_request": "prompt tokens per request",
    "output_input_ratio": "output/input tokens",
    "cache_hit_rate": "cache-hit rate",
    "days_until_deprecation": "days to retirement",
}


def _drift_stats(daily: pl.DataFrame, pair: list[str], metric: _Metric) -> pl.DataFrame:
    """Per scope pair: the sums and daily-ratio medians one drift metric is judged on.

    The daily ratio counts only days with a positive denominator; its MAD is taken over the
    baseline days.
    """
    num, den = metric.numerator, metric.denominator
    ratio = (
        pl.when(pl.col(den) > 0).then(pl.col(num).cast(pl.Float64) / pl.col(den).cast(pl.Float64))
    ).alias("_ratio")
    days = daily.with_columns(ratio)
    base_median = (
        days.filter(~pl.col("_recent")).group_by(pair).agg(pl.col("_ratio").median().alias("_bmed"))
    )
    days = days.join(base_median, on=pair, how="left", nulls_equal=True)
    recent, base = pl.col("_recent"), ~pl.col("_recent")
    return days.group_by(pair).agg(
        pl.col(den).filter(recent).sum().alias("recent_den"),
        pl.col(num).filter(base).sum().cast(pl.Float64).alias("base_num"),
        pl.col(den).filter(base).sum().cast(pl.Float64).alias("base_den"),
        pl.col("_ratio").filter(recent).median().alias("actual"),
        pl.col("_ratio").filter(recent).is_not_null().sum().alias("recent_days"),
        (pl.col("_ratio") - pl.col("_bmed")).abs().filter(base).median().alias("mad"),
    )


def _drift(
    data: pl.DataFrame, scope: str, today: dt.date, cfg: AnomalyConfig
) -> list[dict[str, Any]]:
    """Drift per (scope key, model) pair, every pair judged at once from grouped statistics."""
    col = SCOPES[scope]
    recent_from = today - dt.timedelta(days=cfg.drift_window_days - 1)
    base_from = recent_from - dt.timedelta(days=cfg.drift_baseline_days)
    window = data.filter(pl.col("day") >= base_from, pl.col("day") <= today)
    if window.is_empty():
        return []
    measures = ["cost", "requests", "prompt_tokens", "output_tokens", "cache_read_tokens"]
    pair = list(dict.fromkeys([col, "model"]))
    daily = (
        window.filter(pl.col(col).is_not_null())
        .group_by(*pair, "day")
        .agg(pl.col(measures).sum())
        .with_columns((pl.col("day") >= recent_from).alias("_recent"))
    )
    judged = (
        daily.group_by(pair)
        .agg(pl.col("_recent").sum().alias("_r"), (~pl.col("_recent")).sum().alias("_b"))
        .filter(pl.col("_r") >= min(3, cfg.drift_window_days), pl.col("_b") >= 7)
        .select(pair)
    )
    daily = daily.join(judged, on=pair, how="semi", nulls_equal=True)
    found = []
    for metric in _DRIFT_METRICS:
        for row in _drift_stats(daily, pair, metric).iter_rows(named=True):
            judged_value = _drift_metric(metric, row, cfg)
            if judged_value is not None:
                found.append((row[col], row["model"] or "", metric.name, row, judged_value))
    findings = []
    metrics = {m.name: m for m in _DRIFT_METRICS}
    # each judged pair's rows, split once (not one filter of the whole window per finding)
    pairs = {}
    if found:  # only the candidates' rows are split
        keys = {tuple(f[3][c] for c in pair) for f in found}
        candidates = pl.DataFrame(
            list(keys), schema={c: window.schema[c] for c in pair}, orient="row"
        )
        pairs = window.join(
            candidates, on=pair, how="semi", nulls_equal=True, maintain_order="left"
        ).partition_by(pair, as_dict=True, maintain_order=True)
    for key, _, name, row, (actual_value, expected_value, bound, z) in sorted(
        found, key=lambda f: f[:3]
    ):
        metric, model = metrics[name], row["model"]
        scoped = pairs[(key,) if len(pair) == 1 else (key, model)]
        act = scoped.filter(pl.col("day") >= recent_from)
        # the unit-cost effect is at most the window's whole cost: a pair that cost less
        # than the smallest impact reported cannot be reported
        if _cents(act["cost_usd"].sum() or Decimal(0)) < cfg.min_impact_usd:
            continue
        bas = scoped.filter(pl.col("day") < recent_from)
        scale = Decimal(cfg.drift_window_days) / Decimal(cfg.drift_baseline_days)
        expected_usd = _cents(Decimal(bas["cost_usd"].sum() or 0) * scale)
        effect = _unit_cost_effect(act, bas)
        if effect < cfg.min_impact_usd:
            continue
        split = decompose_change(act, bas, expected_usd)
        direction = "up" if actual_value > expected_value else "down"
        findings.append(
            {
                "day": today,
                "check": "drift",
                "scope": scope,
                "key": key,
                "model": model,
                "metric": metric.name,
                "expected": expected_value,
                "actual": actual_value,
                "bound": bound,
                **split,
                "impact_usd": effect,
                "detail": (
                    f"{metric.label} {direction} {_change(actual_value, expected_value)} "
                    f"({recent_from:%b %d}–{today:%b %d} vs the {cfg.drift_baseline_days} days "
                    f"before, {z:.0f}σ); impact is the unit-cost effect over those days"
                ),
            }
        )
    return findings


def _change(actual: float, expected: float) -> str:
    if expected == 0:
        return f"to {actual:.4g}"
    return f"{(actual / expected - 1):+.0%}"


def _drift_metric(
    metric: _Metric, stats: dict[str, Any], cfg: AnomalyConfig
) -> tuple[float, float, float, float] | None:
    """(recent value, baseline value, bound, z) when the metric drifted the costly way.

    The recent value is the median of the window's days, so one odd day (a spike, which
    the spike check reports) does not read as drift; the baseline is its ratio of sums.
    """
    if (stats["recent_den"] or 0) <= 0 or (stats["base_den"] or 0) <= 0:
        return None
    expected = stats["base_num"] / stats["base_den"]
    if metric.name == "cache_hit_rate" and expected < cfg.drift_min_cache_drop:
        return None  # hardly any caching to lose
    if stats["actual"] is None:
        return None
    actual = float(stats["actual"])
    mad = float(stats["mad"]) if stats["mad"] is not None else 0.0
    sigma_day = max(_MAD_TO_SIGMA * mad, 0.02 * abs(expected), 1e-12)
    # the median of n days varies about 1.25 times as much as their mean
    sigma = 1.2533 * sigma_day / math.sqrt(max(stats["recent_days"], 1))
    sign = 1.0 if metric.worse_if_up else -1.0
    z = sign * (actual - expected) / sigma
    if metric.name == "cache_hit_rate":
        material = expected - actual >= cfg.drift_min_cache_drop
        bound = expected - max(cfg.drift_min_cache_drop, cfg.drift_sigmas * sigma)
    else:
        material = actual >= expected * (1.0 + cfg.drift_min_change)
        bound = max(expected * (1.0 + cfg.drift_min_change), expected + cfg.drift_sigmas * sigma)
    if z < cfg.drift_sigmas or not material:
        return None
    return actual, expected, bound, z


# -- new models and deprecations --------------------------------------------------------


def _new_models(
    data: pl.DataFrame, check_days: list[dt.date], cfg: AnomalyConfig
) -> list[dict[str, Any]]:
    used = data.filter((pl.col("cost") > 0) | (pl.col("requests") > 0) | (pl.col("tokens") > 0))
    findings = []
    seen_global: set[str] = set()
    first_global = used.group_by("model").agg(pl.col("day").min().alias("first"))
    first_team = used.group_by("team", "model").agg(pl.col("day").min().alias("first"))
    targets = [("model", first_global)] + ([("team", first_team)] if "team" in cfg.scopes else [])
    for scope, firsts in targets:
        for row in (
            firsts.filter(pl.col("first").is_in(check_days)).sort("first").iter_rows(named=True)
        ):
            model, day = row["model"], row["first"]
            if scope == "team" and (model, day) in seen_global:
                continue  # already reported as new everywhere
            key = model if scope == "model" else row["team"]
            mask = pl.col("model") == model
            if scope == "team":
                mask &= pl.col("team") == key
            rows = used.filter(mask)
            today_rows = rows.filter(pl.col("day") == day)
            teams = sorted({t for t in today_rows["team"] if t is not None})
            since = rows.filter(pl.col("day") >= day)
            cost_since = Decimal(since["cost_usd"].sum() or 0)
            if scope == "model":
                seen_global.add((model, day))
            findings.append(
                {
                    "day": day,
                    "check": "new_model",
                    "scope": scope,
                    "key": key,
                    "model": model,
                    "metric": "cost_usd",
                    "expected": 0.0,
                    "actual": float(today_rows["cost"].sum()),
                    "bound": None,
                    "impact_usd": _cents(cost_since),
                    "volume_usd": None,
                    "price_usd": None,
                    "mix_usd": _cents(cost_since) if scope == "team" else None,
                    "detail": (
                        f"first use {'anywhere' if scope == 'model' else 'by this team'}"
                        f"{' (teams: ' + ', '.join(teams) + ')' if scope == 'model' else ''}; "
                        f"impact is its spend since, {int(since['requests'].sum()):,} requests"
                    ),
                }
            )
    return findings


def _deprecations(
    data: pl.DataFrame, today: dt.date, catalog: Catalog, cfg: AnomalyConfig
) -> list[dict[str, Any]]:
    recent = data.filter(
        pl.col("day") > today - dt.timedelta(days=30),
        (pl.col("cost") > 0) | (pl.col("requests") > 0) | (pl.col("tokens") > 0),
    )
    findings = []
    per_model = recent.group_by("provider", "model").agg(
        pl.col("cost_usd").sum(), pl.col("team").unique().sort(), pl.col("day").max().alias("last")
    )
    horizon = today + dt.timedelta(days=cfg.deprecation_warn_days)
    for row in per_model.sort("provider", "model").iter_rows(named=True):
        found = catalog.find(row["provider"], row["model"])
        if found is None or found.deprecated_on is None or found.deprecated_on > horizon:
            continue
        days_left = (found.deprecated_on - today).days
        when = (
            f"deprecated since {found.deprecated_on}"
            if days_left <= 0
            else f"deprecated on {found.deprecated_on}, in {days_left} days"
        )
        successor = f"; successor: {found.successor}" if found.successor else ""
        teams = ", ".join(t for t in row["team"] if t is not None)
        findings.append(
            {
                "day": today,
                "check": "deprecation",
                "scope": "model",
                "key": row["model"],
                "model": row["model"],
                "metric": "days_until_deprecation",
                "expected": float(cfg.deprecation_warn_days),
                "actual": float(days_left),
                "bound": float(cfg.deprecation_warn_days),
                "impact_usd": _cents(Decimal(row["cost_usd"] or 0)),
                "volume_usd": None,
                "price_usd": None,
                "mix_usd": None,
                "detail": (
                    f"{when}{successor}; used by {teams}, last on {row['last']}; "
                    "impact is the last 30 days' spend on it"
                ),
            }
        )
    return findings


# -- entry points -----------------------------------------------------------------------


def _dedupe(findings: list[dict[str, Any]], priority: tuple[str, ...]) -> list[dict[str, Any]]:
    """One finding per event: the same numbers seen through several scopes are one problem."""
    rank = {s: i for i, s in enumerate(priority)}
    kept: dict[tuple, dict[str, Any]] = {}
    for f in sorted(findings, key=lambda f: rank.get(f["scope"], 99)):
        if f["check"] in ("spike", "drift"):
            ident = (f["check"], f["day"], f["metric"], f["model"], round(f["actual"], 9))
            ident += (round(f["expected"], 6),)
        else:
            ident = (f["check"], f["scope"], f["key"], f["model"], f["day"])
        if ident in kept:
            other = kept[ident]
            other["detail"] += f"; same as {f['scope']} {f['key']}"
            continue
        kept[ident] = f
    return list(kept.values())


def find_anomalies(
    daily: pl.DataFrame,
    *,
    today: dt.date | None = None,
    days: int = 1,
    catalog: Catalog | None = None,
    config: AnomalyConfig | None = None,
) -> pl.DataFrame:
    """Findings for the `days` days ending on `today` (default: the last day in `daily`).

    `daily` holds spend per day and component (see :func:`daily_components`), with enough
    history before the checked days (at least `weeks` weeks) to judge them. Deprecation needs
    the `catalog`. Returns one row per finding (:data:`FINDING_SCHEMA`), largest impact first.
    """
    cfg = config or AnomalyConfig()
    if days < 1:
        msg = "days must be at least 1"
        raise ValueError(msg)
    data = _prepare(daily)
    if data.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    today = today or data["day"].max()
    data = data.filter(pl.col("day") <= today)
    check_days = [today - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    findings: list[dict[str, Any]] = []
    if "spike" in cfg.checks:
        data = _with_constant_price_volume(data)
    for scope in cfg.scopes:
        if "spike" in cfg.checks:
            findings += _spikes(data, scope, check_days, cfg)
        if "drift" in cfg.checks:
            findings += _drift(data, scope, today, cfg)
    if "new_model" in cfg.checks:
        findings += _new_models(data, check_days, cfg)
    if "deprecation" in cfg.checks and catalog is not None:
        findings += _deprecations(data, today, catalog, cfg)
    findings = _dedupe(findings, cfg.scopes)
    if not findings:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    frame = pl.DataFrame(findings, schema=FINDING_SCHEMA)
    order = {c: i for i, c in enumerate(CHECKS)}
    return (
        frame.with_columns(pl.col("check").replace_strict(order, return_dtype=pl.Int8).alias("_o"))
        .sort(["day", "_o", "impact_usd"], descending=[True, False, True])
        .drop("_o")
    )


def detect_anomalies(
    session: Session,
    *,
    days: int = 7,
    today: dt.date | None = None,
    config: AnomalyConfig | None = None,
) -> pl.DataFrame:
    """Findings of the last `days` days ending on `today` (default: the last day with data)."""
    cfg = config or AnomalyConfig()
    today = session.today(today)
    if today is None:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    # all history, so "first use" of a model means first ever, not first in a window
    daily = daily_components(session, to_day=today + dt.timedelta(days=1))
    return find_anomalies(daily, today=today, days=days, catalog=session.catalog, config=cfg)
