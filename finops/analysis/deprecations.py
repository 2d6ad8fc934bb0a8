"""Usage on models that are retired, or soon will be: the warning users need in time."""

from __future__ import annotations

import datetime as dt

import polars as pl

from finops.session.session import Session

__all__ = ["usage_on_deprecated_models"]


def usage_on_deprecated_models(
    session: Session,
    *,
    as_of: dt.date | None = None,
    within_days: int = 90,
    lookback_days: int = 30,
) -> pl.DataFrame:
    """Models used in the last `lookback_days` whose deprecation date has passed or falls
    within `within_days` of `as_of` (default: the last day with usage), with their successor
    and the recent spend at stake. `days_left` is negative once a model is retired."""
    if as_of is None:
        as_of = session.today()
    if as_of is None:
        return pl.DataFrame()
    deprecated = {
        (m.provider, m.id): m
        for m in session.catalog.models
        if m.deprecated_on is not None and m.deprecated_on <= as_of + dt.timedelta(days=within_days)
    }
    if not deprecated:
        return pl.DataFrame()
    recent = session.spend(
        ["provider", "model"],
        from_day=as_of - dt.timedelta(days=lookback_days - 1),
        to_day=as_of + dt.timedelta(days=1),
    )
    rows = []
    for r in recent.to_dicts():
        model = deprecated.get((r["provider"], r["model"]))
        if model is None:
            continue
        rows.append(
            {
                "provider": r["provider"],
                "model": r["model"],
                "deprecated_on": model.deprecated_on,
                "days_left": (model.deprecated_on - as_of).days,
                "successor": model.successor,
                f"cost_last_{lookback_days}d_usd": r["cost_usd"],
                "requests": r["requests"],
            }
        )
    return pl.DataFrame(rows).sort("days_left") if rows else pl.DataFrame()
