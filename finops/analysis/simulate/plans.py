"""Planned migrations as a forecast input: ``plans.yaml`` → "as is" and "as planned" by month.

A plan is a scenario (scope, moves, assumptions: see :func:`load_scenarios`) with the day it
starts and a ramp::

    plans:
      - name: search to the mini model
        scope: {teams: [search]}
        moves: [{from: gpt-4o, to: gpt-4o-mini}]
        start: 2026-02-01           # the first day the move applies
        ramp_days: 14               # 0: all at once; else a straight line to 100% over 14 days

Its saving per month is the scenario's forward saving (:func:`simulate`, the scope's last 28
days priced at the prices in force on the start day, per month), with its low / high range.
A month saves that monthly saving times the month's average share moved: its days on or
after the start, each weighted by the ramp (day k of the ramp moves k / ramp_days), over the
month's days. So every month wholly after the ramp saves exactly the simulated monthly saving,
and "as planned" = "as is" − that saving, to the cent.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from finops.analysis.forecast.spend import month_sums
from finops.analysis.simulate.ratios import TokenRatios
from finops.analysis.simulate.result import SimulationResult
from finops.analysis.simulate.run import simulate
from finops.analysis.simulate.scenario import (
    Scenario,
    ScenarioError,
    load_yaml,
    scenario_from_dict,
)
from finops.core.format import cents
from finops.core.months import month_bounds
from finops.session.session import Session

__all__ = ["Plan", "PlanSaving", "load_plans", "plan_savings", "planned_months"]


@dataclass(frozen=True)
class Plan:
    """A scenario that starts on `start`, ramping in over `ramp_days` (0: at once)."""

    scenario: Scenario
    start: dt.date
    ramp_days: int = 0

    def share_on(self, day: dt.date) -> Decimal:
        """The share of the planned move in force on `day`: 0 before the start, then k /
        ramp_days on day k of the ramp, then 1.

        >>> move = scenario_from_dict({"moves": [{"from": "a", "to": "b"}]})
        >>> plan = Plan(move, dt.date(2026, 2, 1), ramp_days=4)
        >>> [str(plan.share_on(dt.date(2026, 2, d))) for d in (1, 2, 4, 9)]
        ['0.25', '0.5', '1', '1']
        """
        if day < self.start:
            return Decimal(0)
        if self.ramp_days <= 0:
            return Decimal(1)
        return min(Decimal(1), Decimal((day - self.start).days + 1) / self.ramp_days)


@dataclass(frozen=True)
class PlanSaving:
    """A plan with its simulated saving per month (expected, low, high)."""

    plan: Plan
    result: SimulationResult

    def monthly(self, side: str = "") -> Decimal:
        m = self.result.monthly
        if m is None:
            return Decimal(0)
        return m[f"savings_usd{side}"]


def load_plans(path: str | os.PathLike[str]) -> list[Plan]:
    """Plans from a YAML file (``plans:`` with a list); errors name the file and field."""
    path = Path(path)
    doc = load_yaml(path)
    items = doc.get("plans") if isinstance(doc, Mapping) else None
    if not isinstance(items, list) or not items:
        raise ScenarioError(str(path), "plans: expected a list of plans")
    plans = []
    for index, item in enumerate(items):
        where = f"{path}, plans[{index}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(where, "expected a mapping with moves, start and ramp_days")
        if "start" not in item:
            raise ScenarioError(f"{where}.start", "give the day the move starts (YYYY-MM-DD)")
        start = item["start"]
        if isinstance(start, str):
            try:
                start = dt.date.fromisoformat(start.strip())
            except ValueError:
                start = None
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise ScenarioError(f"{where}.start", f"{item['start']!r} is not a date (YYYY-MM-DD)")
        ramp = item.get("ramp_days", 0)
        if isinstance(ramp, bool) or not isinstance(ramp, int) or not 0 <= ramp <= 366:
            raise ScenarioError(f"{where}.ramp_days", "give whole days, 0 to 366")
        body = {k: v for k, v in item.items() if k not in ("start", "ramp_days")}
        try:
            scenario = scenario_from_dict(body, base_dir=path.parent, name=f"plan {index + 1}")
        except ScenarioError as exc:
            raise ScenarioError(
                f"{where}, {exc.where}" if exc.where else where, exc.problem
            ) from None
        plans.append(Plan(scenario, start, ramp))
    return plans


def plan_savings(
    session: Session,
    plans: Sequence[Plan],
    *,
    today: dt.date | None = None,
    token_ratios: TokenRatios | None = None,
) -> list[PlanSaving]:
    """Each plan's forward saving per month, priced at the prices in force on its start day
    (or today, for a plan already under way)."""
    today = session.day(today)
    out = []
    for plan in plans:
        day = max(plan.start, today)
        result = simulate(
            session, plan.scenario, today=today, pricing_day=day, token_ratios=token_ratios
        )
        out.append(PlanSaving(plan, result))
    return out


def planned_months(daily: pl.DataFrame, savings: Sequence[PlanSaving]) -> pl.DataFrame:
    """By month of the forecast: "as is" (the month's daily means added up, then rounded to
    the cent: the cents `finops forecast --period month` prints), each month's planned saving
    with its range, and "as planned" = as is − saving.

    `daily` has columns day and mean (USD per day). A month's saving is, per plan, the monthly
    saving × (the sum of the plan's share over the month's forecast days) ÷ (the month's days),
    rounded to the cent once, then added over plans.
    """
    by_month: dict[dt.date, list[dt.date]] = {}
    for day in daily["day"]:
        by_month.setdefault(month_bounds(day)[0], []).append(day)
    sums = month_sums(daily.select("day", "mean"))
    as_is = {
        m: cents(Decimal(repr(float(v)))) for m, v in zip(sums["month"], sums["mean"], strict=True)
    }
    rows: list[dict[str, Any]] = []
    for month, days in sorted(by_month.items()):
        first, after = month_bounds(month)
        month_days = (after - first).days
        saving = {"": Decimal(0), "_low": Decimal(0), "_high": Decimal(0)}
        for s in savings:
            share = sum((s.plan.share_on(d) for d in days), Decimal(0)) / month_days
            for side in saving:
                saving[side] += cents(s.monthly(side) * share)
        rows.append(
            {
                "month": month,
                "forecast_days": len(days),
                "as_is_usd": as_is[month],
                "saving_usd": saving[""],
                "saving_low_usd": saving["_low"],
                "saving_high_usd": saving["_high"],
                "as_planned_usd": as_is[month] - saving[""],
            }
        )
    money = pl.Decimal(38, 2)
    schema = {
        "month": pl.Date,
        "forecast_days": pl.Int64,
        "as_is_usd": money,
        "saving_usd": money,
        "saving_low_usd": money,
        "saving_high_usd": money,
        "as_planned_usd": money,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
