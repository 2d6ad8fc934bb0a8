"""`finops pricing update --from PATH`: a reference price map → new models and dated periods."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from finops.cli.group import pricing
from finops.cli.options import db_option, emit, parse_day, pricing_option, reading_session

if TYPE_CHECKING:
    import polars as pl


__all__ = ["pricing_update"]


def _spend_by_model(db: Path, pricing_dir: Path) -> pl.DataFrame:
    with reading_session(db, pricing_dir) as s:
        return s.spend(["provider", "model"]).select(
            "provider", "model", "cost_usd", "unpriced_rows"
        )


def _impact(db: Path, before: Path, after: Path) -> tuple[Decimal, Decimal, pl.DataFrame]:
    """(total before, total after, changed models) of the stored usage priced both ways."""
    import polars as pl

    from finops.views.catalog import spend_change_by_model

    a = _spend_by_model(db, before)
    b = _spend_by_model(db, after)
    changed = spend_change_by_model(a, b).select(
        "provider",
        "model",
        pl.col("cost_a").alias("cost_usd"),
        pl.col("unpriced_a").alias("unpriced_rows"),
        pl.col("cost_b").alias("cost_usd_after"),
        pl.col("unpriced_b").alias("unpriced_rows_after"),
        "change_usd",
    )
    total_a = Decimal(a["cost_usd"].sum() or 0)
    total_b = Decimal(b["cost_usd"].sum() or 0)
    return total_a, total_b, changed


@pricing.command("update")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="LiteLLM's model_prices_and_context_window.json or genai-prices' data.json.",
)
@click.option(
    "--valid-from",
    "valid_from",
    default=None,
    help="First day of new prices (default: today, or FINOPS_TODAY). Never before a period "
    "already in the catalog.",
)
@click.option("--yes", is_flag=True, help="Write the catalog files and record the new revision.")
@click.option("--limit", default=40, show_default=True, help="Changes listed in the diff.")
@db_option
@pricing_option
def pricing_update(
    source: Path, valid_from: str | None, yes: bool, limit: int, db: Path, pricing: Path | None
) -> None:
    """Add new models and new dated price periods from a reference map; never edit history.

    Compares the reference with the catalog's latest prices for the catalog's own providers,
    prints every change and its dollar impact on the stored usage, and writes nothing unless
    --yes is given (a dry run by default). Existing periods are never edited: a changed price
    becomes a new period from --valid-from. Differences the catalog keeps on purpose
    (pricing/README.md) show as changes too: read the diff before --yes.

    \b
    Example:
      finops pricing update --from model_prices_and_context_window.json            # dry run
      finops pricing update --from model_prices_and_context_window.json --yes
    """
    from finops.core.format import plural, usd
    from finops.core.today import pinned_today
    from finops.pricing.catalog import load_catalog
    from finops.pricing.catalog_update import (
        apply_update,
        plan_update,
        read_reference,
        stage_update,
    )
    from finops.session.session import open_session

    day = parse_day(valid_from, "--valid-from") or pinned_today() or dt.datetime.now(dt.UTC).date()
    catalog = load_catalog(pricing)
    try:
        kind, references = read_reference(source)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    plan = plan_update(catalog, references, valid_from=day, source=f"{kind} {source.name}")
    for line in plan.summary_lines(limit=limit):
        click.echo(line)
    if not plan.changes:
        click.echo("the catalog is current: nothing to write")
        return
    with tempfile.TemporaryDirectory(prefix="finops-update-") as tmp:
        stage_update(catalog, plan, Path(tmp))
        if Path(db).exists():
            before, after, changed = _impact(db, catalog.directory, Path(tmp))
            click.echo(
                f"impact on stored usage: {usd(before)} → {usd(after)} "
                f"({after - before:+,.2f}); history before {day} is priced as it was"
            )
            if not changed.is_empty():
                emit(changed.head(limit), "table", title="Change by model (USD)")
        else:
            click.echo(f"impact on stored usage: none ({db} holds no usage yet)")
        if not yes:
            click.echo("dry run: nothing written. Run again with --yes to write these changes.")
            return
        written = apply_update(catalog, plan, staged=Path(tmp))  # what was checked above
    click.echo(f"wrote {plural(len(written), 'file')}: {', '.join(written)}")
    with open_session(db, catalog.directory) as s:
        click.echo(f"recorded catalog revision {s.revision_id}")
