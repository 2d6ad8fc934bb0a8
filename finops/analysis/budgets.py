"""Monthly budgets per team and overall: burn to date, month-end projection, run-out date, status.

Budgets come from `teams.yaml` (the ownership map), read here for their budget fields only:

    monthly_budget_usd: 5000            # optional: the whole organisation
    teams:
      - {name: search, owner: ana@x.com, cost_center: CC-12, monthly_budget_usd: 1500}

"Today" is the last day with usage in the store (not the wall clock) unless given: the month
to date runs from the 1st through today, inclusive. The projection of the days left is a
`finops.analysis.forecast.api` forecast of the team's daily spend, with its 80% interval; when there is
no forecast (the forecaster refuses, or is not installed) it is a linear run-rate, labelled
so, without an interval. Status: **over** (spent more than the budget), **at risk** (the
projected month-end total is above it), **ok**, or **no budget**.

What is judged is what the company pays: with a `contracts.yaml` in the session, effective
cost (after negotiated rates and discounts); without one, list cost. Each row says which
(`basis`) and keeps the month's list cost beside it (`list_usd`).

The same module exports the monthly showback (`showback`): per team cost, share, top models
and keys, and unit costs.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import yaml

from finops.analysis.forecast.api import budget_exhaustion
from finops.analysis.forecast.selection import select
from finops.analysis.forecast.state import StoreForecast, store_forecast
from finops.core.format import allocate_cents, cents
from finops.core.months import month_end, parse_month
from finops.core.yamltext import yaml_problem
from finops.pricing.allocation import default_teams_path

if TYPE_CHECKING:
    from finops.session.session import Session

__all__ = [
    "BASIS_EFFECTIVE",
    "BASIS_LIST",
    "BUDGET_STATUSES",
    "Budgets",
    "TeamBudget",
    "budget_status",
    "find_budgets",
    "judged_basis",
    "load_budgets",
    "parse_month",
    "showback",
    "spend_in_cents",
]

BUDGET_STATUSES = ("over", "at risk", "ok", "no budget")
_CENT = Decimal("0.01")
_HISTORY_DAYS = 182  # daily history the projection learns from
_RESERVED = "unallocated"


@dataclass(frozen=True)
class TeamBudget:
    name: str
    monthly_budget_usd: Decimal | None = None
    owner: str | None = None
    cost_center: str | None = None


@dataclass(frozen=True)
class Budgets:
    """Budget fields of a teams.yaml: per team, and optionally for the total."""

    source: str | None = None
    teams: dict[str, TeamBudget] = field(default_factory=dict)
    total_usd: Decimal | None = None


# -- teams.yaml -------------------------------------------------------------------------


def _amount(value: Any, file: str, where: str) -> Decimal | None:
    if value is None:
        return None
    problem = f"{value!r} is not an amount in USD; write a number such as 1500"
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        msg = f"{file}, {where}, field monthly_budget_usd: {problem}"
        raise ValueError(msg)  # noqa: TRY004 - a user's file: reported as a user error
    try:
        amount = Decimal(str(value).replace("_", "").strip())
    except InvalidOperation:
        msg = f"{file}, {where}, field monthly_budget_usd: {problem}"
        raise ValueError(msg) from None
    if not amount.is_finite() or amount < 0:
        msg = f"{file}, {where}, field monthly_budget_usd: {value!r} must be zero or more"
        raise ValueError(msg)
    return amount


def load_budgets(path: str | os.PathLike[str]) -> Budgets:
    """Read the budget fields of a teams.yaml; other keys (rules, viewers, ...) are ignored.

    Errors name the file, the team and the field.
    """
    file = Path(path)
    name = file.name
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        raise ValueError(msg) from None
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        msg = f"{name}: {yaml_problem(exc)}"
        raise ValueError(msg) from None
    if not isinstance(doc, dict):
        msg = f"{name}: expected a mapping with `teams:` (and optionally `monthly_budget_usd:`)"
        raise ValueError(msg)  # noqa: TRY004 - a user's file: reported as a user error
    total = _amount(doc.get("monthly_budget_usd"), name, "top level")
    raw_teams = doc.get("teams") or []
    if not isinstance(raw_teams, list):
        msg = f"{name}, field teams: expected a list of teams such as - {{name: search}}"
        raise ValueError(msg)  # noqa: TRY004 - a user's file: reported as a user error
    teams: dict[str, TeamBudget] = {}
    for i, raw in enumerate(raw_teams, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            msg = f"{name}, team {i}, field name: every team needs a name"
            raise ValueError(msg)
        team = raw["name"]
        where = f"team {team}"
        if team in teams:
            msg = f"{name}, {where}, field name: this team is listed twice"
            raise ValueError(msg)
        if team == _RESERVED:
            msg = f"{name}, {where}, field name: {_RESERVED!r} is reserved for unowned spend"
            raise ValueError(msg)
        teams[team] = TeamBudget(
            name=team,
            monthly_budget_usd=_amount(raw.get("monthly_budget_usd"), name, where),
            owner=None if raw.get("owner") is None else str(raw["owner"]),
            cost_center=None if raw.get("cost_center") is None else str(raw["cost_center"]),
        )
    return Budgets(source=str(file), teams=teams, total_usd=total)


def find_budgets(
    db: str | os.PathLike[str] | None, teams: str | os.PathLike[str] | None = None
) -> Budgets | None:
    """The budgets of `teams`, else of the teams.yaml the session finds for the store `db`
    (FINOPS_TEAMS, or the one beside the store); None when there is none."""
    path = teams if teams is not None else default_teams_path(db)
    return load_budgets(path) if path is not None else None


# -- months and days --------------------------------------------------------------------


def _as_of(
    session: Session, month: dt.date | None, today: dt.date | None
) -> tuple[dt.date, dt.date]:
    """(first day of the month, the day the month is judged on)."""
    last = session.today(today)
    if last is None:
        msg = "the store has no usage yet; ingest exports first (finops ingest)"
        raise ValueError(msg)
    first = month or last.replace(day=1)
    if first > last:
        msg = f"no usage in {first:%Y-%m} yet: the last day with data is {last}"
        raise ValueError(msg)
    return first, min(last, month_end(first))


# -- projection -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Projection:
    mean: float
    lo80: float | None
    hi80: float | None
    method: str
    note: str | None
    forecast: pl.DataFrame | None


def _project(
    forecast: StoreForecast | None,
    team: str | None,
    first: dt.date,
    today: dt.date,
    month_end: dt.date,
    actual: float,
    reason: str | None,
) -> _Projection:
    """The month's projected total: the store's one forecast (the team's node, or the total),
    or a linear run-rate with the reason when there is none."""
    horizon = (month_end - today).days
    if horizon <= 0:
        return _Projection(actual, actual, actual, "actual (month complete)", None, None)
    reason = reason or "no spend history"
    if forecast is not None:
        chosen = select(forecast, teams=(team,) if team else ())
        row = chosen.month(first)
        daily = chosen.days.filter(pl.col("key") == "total")
        if row is not None and daily.height:
            return _Projection(
                mean=float(row["mean"]),
                lo80=float(row["lo80"]),
                hi80=float(row["hi80"]),
                method=f"forecast ({daily['method'][0]})",
                note=daily["note"][0],
                forecast=daily.select(pl.exclude("key")),
            )
        reason = f"no spend by {team} in the forecast's year of history"
    elapsed = (today - today.replace(day=1)).days + 1
    total_days = month_end.day
    mean = actual / elapsed * total_days
    return _Projection(mean, None, None, "linear run-rate", f"no forecast: {reason}", None)


def _at_effective_rate(proj: _Projection, actual: Decimal, list_cost: Decimal) -> _Projection:
    """The store's forecast is of list cost: the days left cost their list forecast times the
    month's effective/list ratio so far (what the contracts take off), added to the effective
    spend to date. The daily forecast (for the run-out date) is scaled the same way."""
    ratio = float(actual / list_cost) if list_cost else 1.0

    def effective(month_total: float | None) -> float | None:
        if month_total is None:
            return None
        return float(actual) + (month_total - float(list_cost)) * ratio

    money = [c for c in proj.forecast.columns if c == "mean" or c.startswith(("lo", "hi", "cum_"))]
    return replace(
        proj,
        mean=effective(proj.mean),
        lo80=effective(proj.lo80),
        hi80=effective(proj.hi80),
        method=f"{proj.method} at the contracts' effective rate",
        forecast=proj.forecast.with_columns(pl.col(c) * ratio for c in money),
    )


def _run_out(
    budget: Decimal,
    month_days: list[dt.date],
    month_values: np.ndarray,
    proj: _Projection,
    today: dt.date,
    month_end: dt.date,
) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    """(expected, earliest, latest) day cumulative spend reaches the budget, this month."""
    cumulative = np.cumsum(month_values)
    crossed = np.nonzero(cumulative >= float(budget))[0]
    if crossed.size:
        day = month_days[int(crossed[0])]
        return day, day, day
    spent = float(cumulative[-1]) if cumulative.size else 0.0
    if proj.forecast is not None:
        out = budget_exhaustion(float(budget), spent, proj.forecast, level=80)
        return out["expected"], out["earliest"], out["latest"]
    elapsed = (today - today.replace(day=1)).days + 1
    rate = spent / elapsed
    if rate <= 0 or today >= month_end:
        return None, None, None
    day = today + dt.timedelta(days=int(np.ceil((float(budget) - spent) / rate)))
    return (day, None, None) if day <= month_end else (None, None, None)


def _status(budget: Decimal | None, actual: Decimal, projected: Decimal) -> str:
    if budget is None:
        return "no budget"
    if actual > budget:
        return "over"
    if projected > budget:
        return "at risk"
    return "ok"


def _cents(value: float | Decimal | None) -> Decimal | None:
    return None if value is None else cents(value)


_STATUS_SCHEMA: dict[str, pl.DataType] = {
    "scope": pl.Utf8(),
    "team": pl.Utf8(),
    "month": pl.Date(),
    "today": pl.Date(),
    "budget_usd": pl.Decimal(38, 2),
    "actual_usd": pl.Decimal(38, 12),
    "list_usd": pl.Decimal(38, 12),
    "used_pct": pl.Float64(),
    "projected_usd": pl.Decimal(38, 12),  # to the cent, but a month that is over: its spend
    "projected_lo80_usd": pl.Decimal(38, 12),
    "projected_hi80_usd": pl.Decimal(38, 12),
    "projected_pct": pl.Float64(),
    "projection": pl.Utf8(),
    "runs_out_on": pl.Date(),
    "runs_out_earliest": pl.Date(),
    "runs_out_latest": pl.Date(),
    "status": pl.Utf8(),
    "unpriced_rows": pl.Int64(),
    "basis": pl.Utf8(),
    "note": pl.Utf8(),
}

BASIS_EFFECTIVE = "effective cost"
BASIS_LIST = "list cost"


def judged_basis(session: Session) -> str:
    """What budgets judge: effective cost with contracts in the session, else list cost."""
    return BASIS_EFFECTIVE if session.contracts is not None else BASIS_LIST


def budget_status(
    session: Session,
    budgets: Budgets | None = None,
    *,
    month: dt.date | None = None,
    today: dt.date | None = None,
) -> pl.DataFrame:
    """One row per team (budgeted or spending this month) and one for the total.

    `month` is any day of the month to judge (default: today's); `today` defaults to the last
    day with data. Columns: scope (team | total), team, month, today, budget_usd, actual_usd
    (exact, month to date, on the judged `basis`: effective cost with contracts, else list
    cost), list_usd (month to date at list prices), used_pct, projected_usd with its 80%
    interval, projected_pct, projection (how it was made), runs_out_on (with earliest/latest
    at 80%: the day cumulative spend reaches the budget, if within the month), status,
    unpriced_rows, basis, note.
    """
    budgets = budgets or Budgets()
    first, as_of = _as_of(session, month.replace(day=1) if month else None, today)
    last_day = month_end(first)
    history_from = first - dt.timedelta(days=_HISTORY_DAYS)
    basis = judged_basis(session)
    judged = "effective_cost_usd" if basis == BASIS_EFFECTIVE else "cost_usd"
    daily = session.spend(
        ["day", "team"], from_day=history_from, to_day=as_of + dt.timedelta(days=1)
    ).select(
        "day",
        "team",
        "unpriced_rows",
        pl.col(judged).fill_null(Decimal(0)).alias("cost_usd"),
        pl.col("cost_usd").fill_null(Decimal(0)).alias("list_usd"),
    )
    teams = sorted(
        set(budgets.teams) | set(daily.filter(pl.col("day") >= first)["team"].drop_nulls())
    )
    forecast, reason = None, None
    if as_of < last_day:
        try:
            forecast = store_forecast(session, today=as_of)
        except LookupError as exc:
            reason = str(exc)
    rows = []
    for team in teams:
        part = daily.filter(pl.col("team") == team)
        budget = budgets.teams[team].monthly_budget_usd if team in budgets.teams else None
        proj = (forecast, team, reason)
        rows.append(_row("team", team, part, budget, first, as_of, last_day, proj, basis))
    total = daily.group_by("day").agg(pl.col("cost_usd", "list_usd", "unpriced_rows").sum())
    proj = (forecast, None, reason)
    rows.append(_row("total", None, total, budgets.total_usd, first, as_of, last_day, proj, basis))
    frame = pl.DataFrame(rows, schema=_STATUS_SCHEMA, orient="row")
    order = {s: i for i, s in enumerate(BUDGET_STATUSES)}
    return (
        frame.with_columns(
            pl.col("status").replace_strict(order, return_dtype=pl.Int8).alias("_o"),
            (pl.col("scope") == "total").alias("_t"),
        )
        .sort("_t", "_o", "team")
        .drop("_o", "_t")
    )


#: budget_status' money: what spend_in_cents rounds
_MONEY = ("actual_usd", "list_usd", "projected_usd", "projected_lo80_usd", "projected_hi80_usd")


def spend_in_cents(status: pl.DataFrame) -> pl.DataFrame:
    """`budget_status` rows with their money rounded once to the cent as every table shows
    it: the teams' cents foot to the total's (largest remainder), the total alone.

    What the Budgets page and the alerts show, and what `finops budgets` prints (its table
    rounds the same way), so a team's spend reads the same cents in each.
    """
    teams = [i for i, scope in enumerate(status["scope"]) if scope == "team"]
    columns = []
    for name in _MONEY:
        exact = status[name].to_list()
        shown = [None if v is None else cents(v) for v in exact]
        priced = [i for i in teams if exact[i] is not None]
        for index, value in zip(priced, allocate_cents([exact[i] for i in priced]), strict=True):
            shown[index] = value
        columns.append(pl.Series(name, shown, pl.Decimal(38, 2)))
    return status.with_columns(columns)


def _row(
    scope: str,
    team: str | None,
    part: pl.DataFrame,
    budget: Decimal | None,
    first: dt.date,
    as_of: dt.date,
    month_end: dt.date,
    projection: tuple[StoreForecast | None, str | None, str | None],
    basis: str,
) -> tuple:
    part = (
        part.group_by("day").agg(pl.col("cost_usd", "list_usd", "unpriced_rows").sum()).sort("day")
    )
    in_month = part.filter(pl.col("day") >= first)
    actual = Decimal(in_month["cost_usd"].sum() or 0)
    list_cost = Decimal(in_month["list_usd"].sum() or 0)
    unpriced_rows = int(in_month["unpriced_rows"].sum() or 0)
    forecast, forecast_team, reason = projection
    month_days = [first + dt.timedelta(days=k) for k in range((as_of - first).days + 1)]
    month_values = np.zeros(len(month_days))
    for day, cost in in_month.select("day", "cost_usd").iter_rows():
        month_values[(day - first).days] += float(cost)
    proj = _project(forecast, forecast_team, first, as_of, month_end, float(actual), reason)
    if basis == BASIS_EFFECTIVE and proj.forecast is not None:
        proj = _at_effective_rate(proj, actual, list_cost)
    projected, low, high = _cents(proj.mean), _cents(proj.lo80), _cents(proj.hi80)
    if as_of >= month_end:  # the month is over: its projection is its spend (rounded with it)
        projected = low = high = actual
    run_out = (None, None, None)
    if budget is not None and budget > 0:
        run_out = _run_out(budget, month_days, month_values, proj, as_of, month_end)
    notes = [proj.note] if proj.note else []
    if unpriced_rows:
        notes.append(f"{unpriced_rows:,} unpriced usage rows not in the amounts")
    return (
        scope,
        team,
        first,
        as_of,
        budget,
        actual,
        list_cost,
        float(actual / budget * 100) if budget else None,
        projected,
        low,
        high,
        float(projected / budget * 100) if budget and projected is not None else None,
        proj.method,
        *run_out,
        _status(budget, actual, projected or actual),
        unpriced_rows,
        basis,
        "; ".join(notes) or None,
    )


def _per_unit(priced: dict[str, Any] | None, volume: str, unit: int) -> Decimal | None:
    if not priced or not priced[volume]:
        return None
    return (Decimal(priced["cost_usd"]) * unit / int(priced[volume])).quantize(Decimal("0.000001"))


def _top(frame: pl.DataFrame, key: str, team_cost: Decimal, top: int) -> list[dict[str, Any]]:
    ranked = frame.filter(pl.col(key).is_not_null()).sort(
        "cost_usd", descending=True, nulls_last=True
    )
    out = []
    for row in ranked.head(top).iter_rows(named=True):
        if row["cost_usd"] is None:  # unpriced: listed, never shown as $0
            out.append({key: row[key], "cost_usd": None, "share_pct": None})
            continue
        cost = Decimal(row["cost_usd"])
        share = (cost / team_cost * 100).quantize(_CENT) if team_cost else None
        out.append({key: row[key], "cost_usd": cost.quantize(_CENT), "share_pct": share})
    return out


def showback(
    session: Session,
    month: dt.date,
    *,
    budgets: Budgets | None = None,
    top: int = 3,
) -> pl.DataFrame:
    """Per team for one month: cost, share of the total, top models and keys, unit costs.

    Columns: team, owner, cost_center, cost_usd (exact), share_pct, requests, tokens,
    cost_per_1k_requests_usd and cost_per_1m_tokens_usd (over fully priced usage), top_models and top_api_keys (lists of
    {model|api_key_id, cost_usd, share_pct}), budget_usd, budget_used_pct, unpriced_rows.
    Teams are the allocated ones; `unallocated` is listed like a team.
    """
    first = month.replace(day=1)
    end = month_end(first) + dt.timedelta(days=1)
    budgets = budgets or Budgets()
    by_team = session.spend(["team"], from_day=first, to_day=end)
    if by_team.is_empty():
        msg = f"no usage in {first:%Y-%m}"
        raise ValueError(msg)
    models = session.spend(["team", "model"], from_day=first, to_day=end)
    # unit costs over fully priced usage only: unpriced requests would make them look cheap
    priced = (
        session.spend(["team", "model", "service_tier"], from_day=first, to_day=end)
        .filter(pl.col("cost_usd").is_not_null() & (pl.col("unpriced_rows") == 0))
        .group_by("team")
        .agg(
            pl.col("cost_usd").sum(),
            pl.col("requests").sum(),
            pl.sum_horizontal(
                "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"
            )
            .sum()
            .alias("tokens"),
        )
    )
    unit = {r["team"]: r for r in priced.iter_rows(named=True)}
    keys = session.spend(["team", "api_key_id"], from_day=first, to_day=end)
    total = Decimal(by_team["cost_usd"].sum() or 0)
    rows = []
    for r in by_team.sort("cost_usd", descending=True, nulls_last=True).iter_rows(named=True):
        team = r["team"]
        cost = Decimal(r["cost_usd"] or 0)
        tokens = sum(
            int(r[c] or 0)
            for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
        )
        info = budgets.teams.get(team)
        budget = info.monthly_budget_usd if info else None
        rows.append(
            {
                "team": team,
                "owner": info.owner if info else None,
                "cost_center": info.cost_center if info else None,
                "cost_usd": cost,
                "share_pct": (cost / total * 100).quantize(_CENT) if total else None,
                "requests": int(r["requests"] or 0),
                "tokens": tokens,
                "cost_per_1k_requests_usd": _per_unit(unit.get(team), "requests", 1_000),
                "cost_per_1m_tokens_usd": _per_unit(unit.get(team), "tokens", 1_000_000),
                "top_models": _top(models.filter(pl.col("team") == team), "model", cost, top),
                "top_api_keys": _top(keys.filter(pl.col("team") == team), "api_key_id", cost, top),
                "budget_usd": budget,
                "budget_used_pct": (cost / budget * 100).quantize(_CENT) if budget else None,
                "unpriced_rows": int(r["unpriced_rows"] or 0),
            }
        )
    return pl.DataFrame(
        rows,
        schema_overrides={
            "cost_usd": pl.Decimal(38, 12),
            "share_pct": pl.Decimal(38, 2),
            "cost_per_1k_requests_usd": pl.Decimal(38, 6),
            "cost_per_1m_tokens_usd": pl.Decimal(38, 6),
            "budget_usd": pl.Decimal(38, 2),
            "budget_used_pct": pl.Decimal(38, 2),
        },
    )
