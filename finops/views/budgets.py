"""Budgets and alerts as the app shows them: `finops.analysis.budgets.budget_status` for a month and
`finops.analysis.alerts.evaluate_alerts` on that month's last day with data.

Budgets come from the teams map named by FINOPS_TEAMS (`monthly_budget_usd` per team and
for the total); without one, spend and projections show and every status is "no budget".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import polars as pl

from finops.analysis.alerts import alerts_frame, evaluate_alerts
from finops.analysis.budgets import Budgets, budget_status, find_budgets, spend_in_cents
from finops.session.session import Session

__all__ = ["BudgetView", "budget_view", "for_viewer"]


@dataclass(frozen=True)
class BudgetView:
    source: str | None  # the teams.yaml the budgets come from
    status: pl.DataFrame  # budget_status rows in cents (spend_in_cents): per team, the total
    alerts: pl.DataFrame  # alerts_frame rows, worst first
    alerts_day: dt.date | None
    viewer_teams: tuple[str, ...] | None = None  # a restricted viewer's teams (None: all)


def for_viewer(budgets: Budgets, teams: Sequence[str] | None) -> Budgets:
    """Only the budgets of the viewer's teams; the organisation's total budget is not theirs."""
    if teams is None:
        return budgets
    mine = {name: b for name, b in budgets.teams.items() if name in set(teams)}
    return replace(budgets, teams=mine, total_usd=None)


def budget_view(session: Session, month: dt.date) -> BudgetView:
    """The month's budget status per team and overall, and what fires on its last day.

    For a session restricted to some teams (`session.viewer_teams`): only those teams'
    budgets are listed, and the total is theirs, without the organisation's total budget.
    """
    viewer_teams = session.viewer_teams
    budgets = find_budgets(session.db)
    if budgets is not None:
        budgets = for_viewer(budgets, viewer_teams)
    status = spend_in_cents(budget_status(session, budgets, month=month))
    day = status["today"][0] if status.height else None
    alerts = alerts_frame(evaluate_alerts(session, budgets=budgets, today=day) if day else [])
    return BudgetView(
        source=None if budgets is None else budgets.source,
        status=status,
        alerts=alerts,
        alerts_day=day,
        viewer_teams=None if viewer_teams is None else tuple(viewer_teams),
    )
