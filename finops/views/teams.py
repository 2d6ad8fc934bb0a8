"""Spend by team and one team's drill-down: models, API keys, users, unit economics, trends.

Unit economics are defined in `finops.analysis.unit_economics`. Teams are the session's allocation
(`teams.yaml` rules, shared usage split out); without a map, the team each source states.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from finops.analysis.filters import SpendFilter, filtered_spend, regroup
from finops.analysis.unit_economics import with_unit_economics
from finops.core.store import relation
from finops.pricing import costing
from finops.pricing.allocation import UNALLOCATED
from finops.session.session import Session

__all__ = ["TeamDetail", "TeamsOverview", "team_detail", "teams_overview", "user_spend"]


def _with_share(frame: pl.DataFrame) -> pl.DataFrame:
    total = frame["cost_usd"].sum() if frame.height else None
    if not total:
        return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("share"))
    return frame.with_columns((pl.col("cost_usd").cast(pl.Float64) / float(total)).alias("share"))


def _with_month(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("day").dt.truncate("1mo").alias("month"))


@dataclass(frozen=True)
class TeamsOverview:
    total_usd: Decimal
    teams: pl.DataFrame  # team, cost_usd, share, requests, tokens, unit economics, unpriced
    monthly: pl.DataFrame  # month, team, cost_usd


def teams_overview(session: Session, flt: SpendFilter) -> TeamsOverview:
    """Every team's spend in the filter, its share and unit economics, and monthly spend."""
    daily = filtered_spend(session, flt, by=["day", "team"])
    teams = _with_share(with_unit_economics(regroup(daily, ["team"])))
    teams = teams.sort("cost_usd", descending=True, nulls_last=True)
    monthly = regroup(_with_month(daily), ["month", "team"]).select("month", "team", "cost_usd")
    total = teams["cost_usd"].sum() if teams.height else None
    return TeamsOverview(total_usd=Decimal(total or 0), teams=teams, monthly=monthly)


@dataclass(frozen=True)
class TeamDetail:
    team: str
    filter: SpendFilter
    cost_usd: Decimal
    requests: int
    tokens: int
    usd_per_1k_requests: float | None
    usd_per_mtok: float | None
    cache_hit_rate: float | None
    unpriced_rows: int
    unpriced_tokens: int
    models: pl.DataFrame  # provider, model, cost_usd, share, requests, tokens, unit economics
    keys: pl.DataFrame  # api_key_id, project_id, cost_usd, share, requests, tokens, unit econ.
    users: pl.DataFrame  # user_id, cost_usd, share, requests, tokens, unit economics
    daily_by_model: pl.DataFrame  # day, model, cost_usd
    monthly: pl.DataFrame  # month, cost_usd, requests, tokens, unit economics


def user_spend(session: Session, team: str, flt: SpendFilter) -> pl.DataFrame:
    """One team's spend by user id (NULL: usage without one), from the priced daily rollup.

    The team is the one the session's allocation map assigns (the source's team without a
    map). Usage shared out by a split rule belongs to no single team and is not listed.
    """
    priced = session.priced_source()
    if session.allocation is not None:
        owners = session.owner_map()
        session.register("team_owner_map", owners)
        keys = [c for c in owners.columns if c not in ("owner", "owner_rule")]
        on = " AND ".join(f"p.{k} IS NOT DISTINCT FROM o.{k}" for k in keys)
        owned = (
            f"SELECT p.*, coalesce(o.owner, '{UNALLOCATED}') AS owner "
            f"FROM ({priced}) AS p LEFT JOIN team_owner_map AS o ON {on}"
        )
    else:
        owned = f"SELECT *, coalesce(team, '{UNALLOCATED}') AS owner FROM ({priced})"
    sql = relation("user_spend", owned=owned)
    params = {
        "revision_id": session.revision_id,
        "from_day": flt.from_day,
        "to_day": flt.to_day,
        "team": team,
        "providers": list(flt.providers),
        "models": list(flt.models),
    }
    frame = costing.whole_counts(session.query(sql, params))
    return _with_share(with_unit_economics(frame))


def team_detail(session: Session, team: str, flt: SpendFilter) -> TeamDetail:
    """One team within the filter's days, providers and models (its team choice is ignored)."""
    scoped = dataclasses.replace(flt, teams=(team,))
    rows = filtered_spend(
        session, scoped, by=["day", "provider", "model", "project_id", "api_key_id"]
    )
    total = with_unit_economics(regroup(rows, []))
    head = total.row(0, named=True) if total.height else {}
    models = _with_share(with_unit_economics(regroup(rows, ["provider", "model"])))
    keys = _with_share(with_unit_economics(regroup(rows, ["api_key_id", "project_id"])))
    monthly = with_unit_economics(regroup(_with_month(rows), ["month"]))
    daily_by_model = regroup(rows, ["day", "model"]).select("day", "model", "cost_usd")
    return TeamDetail(
        team=team,
        filter=scoped,
        cost_usd=Decimal(head.get("cost_usd") or 0),
        requests=int(head.get("requests") or 0),
        tokens=int(head.get("tokens") or 0),
        usd_per_1k_requests=head.get("usd_per_1k_requests"),
        usd_per_mtok=head.get("usd_per_mtok"),
        cache_hit_rate=head.get("cache_hit_rate"),
        unpriced_rows=int(head.get("unpriced_rows") or 0),
        unpriced_tokens=int(head.get("unpriced_tokens") or 0),
        models=models.sort("cost_usd", descending=True, nulls_last=True),
        keys=keys.sort("cost_usd", descending=True, nulls_last=True),
        users=user_spend(session, team, scoped),
        daily_by_model=daily_by_model,
        monthly=monthly,
    )
