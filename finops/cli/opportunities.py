"""`finops opportunities`: what this company could save now, ranked by dollars per month.

Parses options, calls :func:`finops.analysis.opportunities.find_opportunities`, prints the
table (:func:`finops.views.savings.opportunities_table`) and, for each opportunity, its
assumptions and the ``finops simulate`` command that reproduces its numbers.
"""

from __future__ import annotations

from pathlib import Path

import click

from finops.cli.group import main
from finops.cli.options import (
    contracts_option,
    db_option,
    exact_json,
    format_option,
    pricing_option,
    reading_session,
    teams_option,
)

__all__ = ["opportunities"]


@main.command()
@click.option(
    "--evals",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Eval results CSV (model, task, score): model swaps must meet the quality bar "
    "(default: evals.csv beside the store, if there, as the app and the review use).",
)
@click.option(
    "--min-score",
    type=float,
    default=None,
    help="Quality bar for model swaps (default: a team's min_eval_score in teams.yaml, "
    "else today's model's own score).",
)
@click.option(
    "--batch-team",
    "batch_teams",
    multiple=True,
    help="A team whose traffic can wait for batch results; repeatable (default: teams "
    "marked batch_eligible: true in teams.yaml).",
)
@click.option(
    "--batch-project",
    "batch_projects",
    multiple=True,
    help="A project whose traffic can wait for batch results; repeatable.",
)
@format_option("table", "json")
@db_option
@pricing_option
@teams_option
@contracts_option
def opportunities(
    evals: Path | None,
    min_score: float | None,
    batch_teams: tuple[str, ...],
    batch_projects: tuple[str, ...],
    fmt: str,
    db: Path,
    pricing: Path | None,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """Savings you could act on now, ranked by dollars per month.

    Cheaper models that pass the capability checks (and the eval quality bar, given scores),
    batch for latency-tolerant traffic, prompt caching, priority/flex tiers, and the cost of
    migrating off retiring models. Each comes with its range, its assumptions and the
    `finops simulate` command that reproduces it (forward view: the last 28 days at today's
    prices, per month).

    \b
    Examples:
      finops opportunities
      finops opportunities --teams teams.yaml --evals evals.csv --min-score 0.8
      finops opportunities --batch-team data-platform --batch-project etl --format json
    """
    from finops.views.savings import opportunities_table, search_opportunities

    with reading_session(db, pricing, teams, contracts) as s:
        found = search_opportunities(
            s,
            evals=evals,
            min_score=min_score,
            batch_teams=batch_teams,
            batch_projects=batch_projects,
        )
    if fmt == "json":
        click.echo(exact_json([o.to_dict() for o in found]))
        return
    if not found:
        click.echo("No savings opportunity found in the last 28 days of usage.")
        return
    click.echo(f"Savings opportunities, per month ({len(found)}), largest first:")
    for row, o in zip(opportunities_table(found).iter_rows(named=True), found, strict=True):
        share = f"; {row['of moved']} of the moved workload" if o.savings_pct_of_moved else ""
        by = f"; by {row['by']}" if row["by"] else ""
        click.echo(f"{row['rank']:>2}. {row['per month']}/month ({row['range']}{share}{by})")
        click.echo(f"    {row['kind']}: {o.title}")
        for line in o.assumptions:
            click.echo(f"    - {line}")
        click.echo(f"    $ {o.command}")
