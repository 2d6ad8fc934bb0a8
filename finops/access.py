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

from finops.allocation import AllocationError, owner_map
from finops.session import Session
from finops.store import fetch_one

__all__ = ["AccessPolicy", "load_access", "visible_teams", "restrict_to_teams"]

_OWNER_KEYS = ("provider", "model", "project_id", "api_key_id", "user_id", "team", "tags")


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
    if session.allocation is not None:
        con.register("access_owner_map", owner_map(con, session.allocation).to_arrow())
        joins = " AND ".join(
            f"{{alias}}.{k} IS NOT DISTINCT FROM o.{k}"
            if k != "tags"
            else "CAST({alias}.tags AS VARCHAR) IS NOT DISTINCT FROM o.tags"
            for k in _OWNER_KEYS
        )
        owner = "o.owner"
        source = 'FROM "{cat}".main.{table} AS {alias} LEFT JOIN access_owner_map AS o ON ' + joins
    else:
        owner = "coalesce({alias}.team, 'unallocated')"
        source = 'FROM "{cat}".main.{table} AS {alias}'
    params = {"teams": list(teams)}
    for table, alias in (("daily_usage", "d"), ("usage", "u")):
        from_sql = source.format(cat=catalog, table=table, alias=alias).replace("{alias}", alias)
        owner_sql = owner.format(alias=alias)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {alias}.* {from_sql} "
            f"WHERE {owner_sql} IN (SELECT unnest(CAST({_literal(params['teams'])} AS VARCHAR[])))"
        )
    # billed costs are account-wide: not for a restricted viewer
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW reported_costs AS SELECT * FROM "{catalog}".main.reported_costs WHERE false'
    )


def _literal(values: list[str]) -> str:
    """A SQL list literal of team names (views cannot take parameters); quotes escaped."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
