"""`finops allocation ...`: check the ownership map and explain which rule claims usage."""

from __future__ import annotations

from pathlib import Path

import click

from finops.cli.group import main
from finops.cli.options import (
    day_range,
    db_option,
    emit,
    format_option,
    pricing_option,
    reading_session,
    teams_option,
)


@main.group()
def allocation() -> None:
    """Check the ownership map (teams.yaml) and explain allocations."""


@allocation.command("validate")
@teams_option
def allocation_validate(teams: Path | None) -> None:
    """Check a teams.yaml; print one line naming file, rule and field of any problem.

    \b
    Example:
      finops allocation validate --teams teams.yaml
    """
    from finops.pricing.allocation import load_allocation

    if teams is None:
        raise click.UsageError("give --teams FILE (or set FINOPS_TEAMS)")
    alloc = load_allocation(teams)
    click.echo(f"ok: {len(alloc.teams)} teams, {len(alloc.rules)} rules")


@allocation.command("explain")
@click.argument("keys", nargs=-1, required=True)
@format_option("table", "json")
@teams_option
def allocation_explain(keys: tuple[str, ...], fmt: str, teams: Path | None) -> None:
    """Which rule claims usage with these attribution keys (KEY=VALUE, tag:NAME=VALUE).

    \b
    Example:
      finops allocation explain api_key_id=key-gateway model=gpt-4o --teams teams.yaml
    """
    import polars as pl

    from finops.pricing.allocation import MATCH_KEYS, explain, load_allocation

    if teams is None:
        raise click.UsageError("give --teams FILE (or set FINOPS_TEAMS)")
    alloc = load_allocation(teams)
    parsed: dict[str, object] = {}
    tags: dict[str, str] = {}
    for item in keys:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: write KEY=VALUE")
        if name.startswith("tag:"):
            tags[name[4:]] = value
        elif name in MATCH_KEYS:
            parsed[name] = value
        else:
            raise click.BadParameter(
                f"unknown key {name!r}; use {', '.join(MATCH_KEYS)} or tag:NAME"
            )
    if tags:
        parsed["tags"] = tags
    result = explain(alloc, parsed)
    if fmt == "json":
        import json

        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"team: {result['team']}  ({result['rule']})")
    emit(pl.DataFrame(result["checked"]), "table", title="Rules checked, in order")


@allocation.command("show")
@click.option("--from", "from_", default=None, help="First day (inclusive).")
@click.option("--to", default=None, help="Last day (inclusive).")
@format_option("table", "csv", "json")
@db_option
@pricing_option
@teams_option
def allocation_show(
    from_, to, fmt: str, db: Path, pricing: Path | None, teams: Path | None
) -> None:
    """Spend by team under the map, unallocated shown as its own team.

    \b
    Example:
      finops allocation show --teams teams.yaml --from 2025-06-01 --to 2025-06-30
    """

    start, end = day_range(from_, to)
    with reading_session(db, pricing, teams) as s:
        frame = s.spend(["team"], from_day=start, to_day=end)
    emit(frame, fmt, title="Spend by team (allocated)")
