"""`finops review`: the monthly spend review as one self-contained HTML file or Markdown."""

from __future__ import annotations

from pathlib import Path

import click

from finops.cli.group import main
from finops.cli.options import (
    contracts_option,
    db_option,
    pricing_option,
    reading_session,
    teams_option,
)


@main.command()
@click.option("--month", default=None, help="The month, YYYY-MM (default: the last complete one).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write it: FILE.html (self-contained, charts included) or FILE.md.",
)
@click.option("--team", "team_names", multiple=True, help="Only this team (repeatable).")
@click.option("--provider", "providers", multiple=True, help="Only this provider (repeatable).")
@click.option("--model", "models", multiple=True, help="Only this model (repeatable).")
@db_option
@pricing_option
@teams_option
@contracts_option
def review(
    month: str | None,
    out: Path,
    team_names: tuple[str, ...],
    providers: tuple[str, ...],
    models: tuple[str, ...],
    db: Path,
    pricing: Path | None,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """Write the monthly spend review: total and change, volume/mix/price drivers, movers,
    new and retired models, anomalies, unpriced and unallocated usage, catalog changes,
    unit economics, and next month's forecast against the budget.

    \b
    Examples:
      finops review --month 2025-11 --out review-2025-11.html
      finops review --out review.md --team search
    """
    from finops.analysis.filters import SpendFilter
    from finops.views import review as rv

    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".md", ".markdown"):
        msg = f"--out {out}: write to a .html or .md file"
        raise click.BadParameter(msg)
    if not db.exists():
        msg = f"no store at {db}: load data first (finops demo, or finops ingest FILE)"
        raise click.ClickException(msg)
    flt = SpendFilter(teams=team_names, providers=providers, models=models)
    with reading_session(db, pricing, teams, contracts) as s:
        chosen = rv.parse_month(month) if month else rv.default_month(s)
        if chosen is None:
            raise click.ClickException("the store has no usage yet: nothing to review")
        result = rv.build_review(s, chosen, filters=flt)
    text = rv.render_html(result) if suffix in (".html", ".htm") else rv.render_markdown(result)
    out.write_text(text, encoding="utf-8")
    click.echo(f"{result.title}: {len(rv.SECTIONS)} sections written to {out}")
