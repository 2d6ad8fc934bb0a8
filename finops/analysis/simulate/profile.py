"""The forward window of a scope and what its usage looks like there (for opportunities)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from finops.analysis.simulate.forward import FORWARD_RATE_DAYS, forward_window, until
from finops.analysis.simulate.query import base_params, over_scope_sql, query_rows
from finops.analysis.simulate.scenario import Scope
from finops.session.session import Session

__all__ = ["scope_profile"]


def scope_profile(
    session: Session,
    scope: Scope | None = None,
    *,
    today: dt.date,
    window_days: int = FORWARD_RATE_DAYS,
) -> tuple[tuple[dt.date, dt.date] | None, list[dict[str, Any]]]:
    """(the forward window, the scope's usage there by team, provider, model and tier): the
    same window :func:`finops.analysis.simulate.simulate` prices by default on `today`."""
    scope = scope or Scope()
    params = base_params(session, scope, [])
    allocated = session.allocation is not None
    if allocated:
        session.register_owner_map()
    days_sql = over_scope_sql("scenario_scope_days", grain="day", allocated=allocated)
    span = query_rows(session, days_sql, until(params, today))[0]
    window = forward_window(span["first_day"], span["last_day"], window_days)
    if window is None:
        return None, []
    params |= {"from_day": window[0], "to_day": window[1] + dt.timedelta(days=1)}
    profile_sql = over_scope_sql("scenario_profile", grain="day", allocated=allocated)
    return window, query_rows(session, profile_sql, params)
