"""Who may see which teams' spend: optional access control for the app.

Off unless the ownership map (teams.yaml) has an `access` section:

    access:
      admins: [cfo@example.com, "*@finops.example.com"]   # see everything
      header: X-Forwarded-Email    # identity from a trusted reverse proxy (optional)
    teams:
      - {name: search, viewers: [ana@example.com, "*@search.example.com"]}

Identity comes from Streamlit's `st.user` when OIDC login is configured, else from the
trusted header. A viewer sees only the teams that list them; an admin sees all. The
restriction is applied to the store connection itself (temporary views shadow the usage
tables), so every page, chart and export built on that connection sees only those teams.
Usage a split rule shares between teams is hidden from restricted viewers, since a share
cannot be computed from the visible part alone.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml

from finops.core.store import fetch_one
from finops.pricing.allocation import AllocationError, owned_rows_sql
from finops.session.session import Session

__all__ = ["AccessPolicy", "load_access", "restrict_to_teams", "visible_teams"]


@dataclass(frozen=True)
class AccessPolicy:
    admins: tuple[str, ...]
    header: str | None
    viewers: dict[str, tuple[str, ...]]  # team -> identity patterns (exact or glob)


def load_access(teams_path: str | Path | None) -> AccessPolicy | None:
    """The access section of teams.yaml, or None when access control is off."""
    if teams_path is None:
        return None
    path = Path(teams_path)
    doc = yaml.safe_load(path.read_text("utf-8")) or {}
    section = doc.get("access") if isinstance(doc, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise AllocationError(path.name, None, "access", "expected admins and, optionally, header")
    admins = section.get("admins") or []
    if not isinstance(admins, list):
        raise AllocationError(path.name, None, "access.admins", "expected a list of identities")
    viewers = {}
    for raw in doc.get("teams") or []:
        if isinstance(raw, dict) and raw.get("name"):
            viewers[str(raw["name"])] = tuple(str(v).lower() for v in raw.get("viewers") or ())
    header = section.get("header")
    return AccessPolicy(
        tuple(str(a).lower() for a in admins), str(header) if header else None, viewers
    )


def _matches(identity: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(identity, p) for p in patterns)


def visible_teams(policy: AccessPolicy | None, identity: str | None) -> list[str] | None:
    """None: sees everything (access off, or an admin). Otherwise the teams it may see."""
    if policy is None:
        return None
    who = (identity or "").strip().lower()
    if who and _matches(who, policy.admins):
        return None
    if not who:
        return []
    return sorted(team for team, patterns in policy.viewers.items() if _matches(who, patterns))


def restrict_to_teams(session: Session, teams: list[str]) -> None:
    """Make this session's connection see only these teams' usage, whatever reads it."""
    con = session.con
    catalog = fetch_one(con, "SELECT current_database()")[0]
    allowed = f"CAST({_literal(list(teams))} AS VARCHAR[])"
    for table in ("daily_usage", "usage"):
        stored = f'SELECT * FROM "{catalog}".main.{table}'
        if session.allocation is not None:
            owned = owned_rows_sql(con, session.allocation, stored)
            body = (
                f"SELECT * EXCLUDE (owner) FROM ({owned}) WHERE owner IN (SELECT unnest({allowed}))"
            )
        else:
            body = f"{stored} WHERE coalesce(team, 'unallocated') IN (SELECT unnest({allowed}))"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {body}")
    # billed costs are account-wide: not for a restricted viewer
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW reported_costs AS SELECT * FROM "{catalog}".main.reported_costs WHERE false'
    )


def _literal(values: list[str]) -> str:
    """A SQL list literal of team names (views cannot take parameters); quotes escaped."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
