"""Planned migrations beside the forecast: "as is" and "as planned" by month.

One function shows it everywhere: the Forecast page and `finops forecast --plan` read
:func:`planned_outlook`, so both print the same cents. Plans come from a ``plans.yaml``
(see :mod:`finops.analysis.simulate.plans`): `--plan FILE`, env FINOPS_PLANS, or the one
beside the store.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from finops.analysis.forecast.spend import SpendForecastResult, forecast_spend
from finops.analysis.simulate.plans import load_plans, plan_savings, planned_months
from finops.core.store import beside_store
from finops.session.session import Session

__all__ = ["default_plans_path", "planned_outlook"]


def default_plans_path(db: str | os.PathLike[str] | None = None) -> Path | None:
    """env FINOPS_PLANS, else a plans.yaml beside the store (`db`, default FINOPS_DB)."""
    return beside_store("plans.yaml", db, env="FINOPS_PLANS")


def planned_outlook(
    session: Session,
    plan_file: str | os.PathLike[str],
    *,
    horizon: int | None = None,
    forecast: SpendForecastResult | None = None,
) -> pl.DataFrame:
    """By month of the total forecast: as is, each month's planned saving with its range,
    and as planned (= as is − saving, to the cent). Pass the total `forecast` when the caller
    already has it."""
    result = forecast or forecast_spend(session, by="total", horizon=horizon)
    savings = plan_savings(session, load_plans(plan_file), today=result.as_of)
    return planned_months(result.forecast, savings)
