"""`finops reconcile`: computed cost against billed cost and tool estimates."""

from __future__ import annotations

from pathlib import Path

import click

from finops.cli.group import main
from finops.cli.options import (
    contracts_option,
    db_option,
    emit,
    format_option,
    pricing_option,
    reading_session,
)
from finops.core.months import month_bounds, parse_month


@main.command("reconcile")
@click.option("--month", default=None, help="Only this month (YYYY-MM).")
@click.option(
    "--threshold", default=1.0, show_default=True, help="Flag differences above this percent."
)
@click.option(
    "--all", "all_rows", is_flag=True, help="Show every compared row, not just differences."
)
@format_option("table", "csv", "json")
@db_option
@pricing_option
@contracts_option
def reconcile_command(month, threshold, all_rows, fmt, db: Path, pricing, contracts) -> None:
    """Compare computed cost with provider-billed cost (cost exports) and tool estimates.

    Lists day × provider × model rows that differ by more than the threshold, with the likely
    reason (unpriced class, tier, discount, missing usage). Exit code 1 when any differ.

    \b
    Example:
      finops ingest openai-costs.json && finops reconcile --month 2025-06
    """
    from finops.analysis.reconcile import reconcile

    start = end = None
    if month:
        try:
            start, end = month_bounds(parse_month(month))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    with reading_session(db, pricing, contracts=contracts) as s:
        frame = reconcile(s, from_day=start, to_day=end, threshold_pct=threshold, all_rows=all_rows)
    if frame.is_empty():
        click.echo(f"computed cost matches reported cost within {threshold}% everywhere compared")
        return
    emit(frame, fmt, title="Reconciliation: computed vs reported cost")
    if not all_rows:
        raise SystemExit(1)
