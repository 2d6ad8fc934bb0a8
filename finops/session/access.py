"""Who may see which teams' spend: optional access control for the app.

Off unless the ownership map (teams.yaml) has an `access` section:

    access:
      admins: [cfo@example.com, "*@finops.example.com"]   # see everything
      header: X-Forwarded-Email    # identity from a reverse proxy (optional)
      trusted_proxy: true          # the app is reachable only through that proxy
    teams:
      - {name: search, viewers: [ana@example.com, "*@search.example.com"]}

Identity comes from Streamlit's `st.user` when OIDC login is configured: a visitor who is
not logged in then sees nothing, whatever headers the request carries. Without OIDC it comes
from the header, but only when the operator declares that the app sits behind a proxy that
sets it (`trusted_proxy: true`, or `finops app --trust-proxy`): anyone who reaches the app
directly can send any header. When the header appears more than once, the last copy (the one
the proxy appended) wins. `finops app` refuses to serve header identity on a non-loopback
address without that declaration (`check_binding`).

A viewer sees only the teams that list them; an admin sees all. The
restriction is applied to the store connection itself (temporary views shadow the usage
tables), so every page, chart and export built on that connection sees only those teams.
Usage a split rule shares between teams is hidden from restricted viewers, since a share
cannot be computed from the visible part alone.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from finops.core.store import fetch_one
from finops.pricing.allocation import Allocation, AllocationError, owned_rows_sql
from finops.session.session import Session

__all__ = [
    "AccessError",
    "AccessPolicy",
    "Identification",
    "check_binding",
    "identify",
    "is_loopback",
    "load_access",
    "restrict_to_teams",
    "visible_teams",
]


class AccessError(ValueError):
    """The app would serve spend to people it cannot tell apart: refuse, saying why."""


@dataclass(frozen=True)
class AccessPolicy:
    admins: tuple[str, ...]
    header: str | None
    viewers: dict[str, tuple[str, ...]]  # team -> identity patterns (exact or glob)
    trusted_proxy: bool = False  # the header is set by a proxy every request passes through


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
    trusted = section.get("trusted_proxy", False)
    if not isinstance(trusted, bool):
        raise AllocationError(path.name, None, "access.trusted_proxy", "expected true or false")
    return AccessPolicy(
        tuple(str(a).lower() for a in admins),
        str(header) if header else None,
        viewers,
        trusted_proxy=trusted,
    )


def is_loopback(address: str) -> bool:
    """Whether an address to serve on is reachable from this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("10.0.0.5"), is_loopback("app.example.com")
    (False, False, False)
    """
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def check_binding(policy: AccessPolicy | None, address: str, *, trust_proxy: bool) -> None:
    """Refuse to serve header identity where clients can reach the app without the proxy."""
    if policy is None or policy.header is None or is_loopback(address):
        return
    if policy.trusted_proxy or trust_proxy:
        return
    msg = (
        f"refusing to serve on {address}: teams.yaml takes identity from the "
        f"{policy.header} header, which anyone reaching {address} directly can forge; put the "
        "app behind a proxy that sets that header and say so with --trust-proxy "
        "(or access.trusted_proxy: true), or serve on 127.0.0.1"
    )
    raise AccessError(msg)


@dataclass(frozen=True)
class Identification:
    identity: str | None  # who the visitor is, or None: nobody (sees nothing under access)
    why_unknown: str | None = None  # for a visitor without identity: what to do about it


def identify(
    policy: AccessPolicy | None,
    *,
    oidc_configured: bool,
    oidc_email: str | None,
    header_values: Sequence[str],
    trust_proxy: bool,
) -> Identification:
    """Who a visitor is, from OIDC login or (behind a declared proxy only) the header.

    `header_values` are every copy of the policy's header in the request, in order; the
    last is the one the proxy appended, so it wins over any copy the client sent (a proxy
    that appends to a client's copy in one line, "client, proxy", is read the same way).

    >>> p = AccessPolicy((), "X-Email", {}, trusted_proxy=True)
    >>> identify(p, oidc_configured=False, oidc_email=None,
    ...          header_values=["boss@x.com", "ana@x.com"], trust_proxy=False).identity
    'ana@x.com'
    """
    if policy is None:
        return Identification(None)
    if oidc_configured:
        if oidc_email:
            return Identification(oidc_email.strip().lower())
        return Identification(None, "Sign in to see spend.")
    if policy.header is None:
        return Identification(None, "Sign-in is not configured; ask a finops admin.")
    if not (policy.trusted_proxy or trust_proxy):
        carried = " this request carries" if any(v.strip() for v in header_values) else ""
        return Identification(
            None,
            f"The {policy.header} header{carried} is ignored: the app is not declared to sit "
            "behind a proxy that sets it (finops app --trust-proxy, or access.trusted_proxy: "
            "true).",
        )
    values = [part.strip() for v in header_values for part in (v or "").split(",")]
    values = [v for v in values if v]
    if not values:
        return Identification(
            None, f"No {policy.header} header: open the app through its sign-in proxy."
        )
    return Identification(values[-1].lower())


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
    """Make this session's connection see only these teams' usage, whatever reads it.

    The session's ownership map keeps only these teams' budgets too: the organisation's total
    budget becomes the sum of theirs (None unless each has one), so no view shows a budget
    the viewer may not see, or compares their spend with the whole company's budget.
    """
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
    session.viewer_teams = tuple(teams)
    if session.allocation is not None:
        session.allocation = _viewer_budgets(session.allocation, teams)
    # billed costs are account-wide: not for a restricted viewer
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW reported_costs AS SELECT * FROM "{catalog}".main.reported_costs WHERE false'
    )


def _viewer_budgets(alloc: Allocation, teams: list[str]) -> Allocation:
    """The map with only these teams' budgets (their entries stay: ownership is unchanged)."""
    visible = set(teams)
    kept = {
        name: team if name in visible else dataclasses.replace(team, monthly_budget_usd=None)
        for name, team in alloc.teams.items()
    }
    # a viewer's team the map does not list has no budget: then neither has their total
    budgets = [kept[t].monthly_budget_usd if t in kept else None for t in teams]
    total = sum(budgets) if budgets and None not in budgets else None
    return dataclasses.replace(alloc, teams=kept, monthly_budget_usd=total)


def _literal(values: list[str]) -> str:
    """A SQL list literal of team names (views cannot take parameters); quotes escaped."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
