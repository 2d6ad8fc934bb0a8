"""Anomaly findings as the app and the review show them: `finops.analysis.anomalies` on the store,
narrowed to the filter's teams and models.

Detection runs store-wide (a team's spike is judged against its own history whatever the
filter); a team filter keeps team findings of those teams and model findings of the models
those teams used, a model filter keeps findings about those models.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from finops.analysis.anomalies import detect_anomalies
from finops.analysis.filters import SpendFilter, filtered_spend
from finops.session.session import Session

__all__ = ["find_for_filter", "impact_total"]


def impact_total(found: pl.DataFrame) -> Decimal:
    """The dollars at stake in the spikes and drift of `found`, each event counted once.

    A scope that drifts in two metrics on a day (cost per request and prompt tokens per
    request, say) has one dearer unit cost: both findings carry that same impact, so the
    total takes it once (the larger, should their windows differ), not once per metric.

    >>> from finops.analysis.anomalies import FINDING_SCHEMA
    >>> row = dict.fromkeys(FINDING_SCHEMA) | {"day": dt.date(2025, 12, 31), "scope": "team",
    ...     "key": "ops", "model": "gpt-4.1"}
    >>> found = pl.DataFrame([
    ...     row | {"check": "drift", "metric": "cost_per_request_usd", "impact_usd": Decimal("43.98")},
    ...     row | {"check": "drift", "metric": "prompt_tokens_per_request", "impact_usd": Decimal("43.98")},
    ...     row | {"check": "spike", "metric": "cost_usd", "impact_usd": Decimal("10.00")},
    ...     row | {"check": "deprecation", "impact_usd": Decimal("312.48")},
    ... ], schema=FINDING_SCHEMA)
    >>> impact_total(found)
    Decimal('53.98')
    """
    spikes = found.filter(pl.col("check") == "spike")["impact_usd"].sum()
    drift = (
        found.filter(pl.col("check") == "drift")
        .group_by("day", "scope", "key", "model")
        .agg(pl.col("impact_usd").max())["impact_usd"]
        .sum()
    )
    return Decimal(spikes or 0) + Decimal(drift or 0)


def find_for_filter(
    session: Session,
    flt: SpendFilter,
    *,
    first_day: dt.date,
    last_day: dt.date,
    config=None,
) -> pl.DataFrame:
    """Findings on the days [first_day, last_day] (FINDING_SCHEMA rows), within the filter."""

    found = detect_anomalies(
        session, days=(last_day - first_day).days + 1, today=last_day, config=config
    )
    found = found.filter(pl.col("day") >= first_day)
    if flt.providers:
        used = filtered_spend(
            session,
            SpendFilter(from_day=first_day, providers=flt.providers),
            by=["model"],
        )
        found = found.filter(
            pl.col("model").is_null() | pl.col("model").is_in(used["model"].to_list())
        )
    if flt.models:
        found = found.filter(
            pl.col("model").is_in(list(flt.models))
            | ((pl.col("scope") == "model") & pl.col("key").is_in(list(flt.models)))
        )
    if flt.teams:
        used = filtered_spend(
            session,
            SpendFilter(
                from_day=first_day, to_day=last_day + dt.timedelta(days=1), teams=flt.teams
            ),
            by=["model"],
        )
        models = used["model"].to_list()
        found = found.filter(
            ((pl.col("scope") == "team") & pl.col("key").is_in(list(flt.teams)))
            | ((pl.col("scope") == "model") & pl.col("key").is_in(models))
        )
    return found
