"""`finops export parquet` and `finops spark spend`: the store as Parquet, priced on Spark."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from finops.cli.group import export, main
from finops.cli.options import (
    contracts_option,
    day_range,
    db_option,
    echo_totals,
    emit,
    format_option,
    master_option,
    pricing_option,
    spend_query_options,
    teams_option,
)
from finops.export.parquet import export_parquet

__all__ = ["export_parquet_command", "spark_spend_command"]


def _export(db: Path, pricing: Path | None, out: Path, overwrite: bool):

    from finops.session import session

    with session.open_session(db, pricing, read_only=True) as s:
        try:
            return export_parquet(s, out, overwrite=overwrite)
        except FileExistsError as exc:
            raise click.ClickException(str(exc)) from None


@export.command("parquet")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (usage/month=YYYY-MM/, catalog/, manifest.json).",
)
@click.option("--overwrite", is_flag=True, help="Replace the folder if it holds an export.")
@db_option
@pricing_option
def export_parquet_command(out: Path, overwrite: bool, db: Path, pricing: Path | None) -> None:
    """Usage (Hive-partitioned by month) and the catalog as Parquet, for Spark and friends.

    Reads the store read-only, so it runs beside an ingest.

    \b
    Example:
      finops export parquet --out exchange/ && finops spark spend --data exchange/ --by month
    """
    report = _export(db, pricing, out, overwrite)
    span = f" ({report.months[0]} .. {report.months[-1]})" if report.months else ""
    click.echo(
        f"exported {report.usage_rows:,} usage rows in {len(report.months)} "
        f"month{'s' if len(report.months) != 1 else ''}{span} and catalog revision "
        f"{report.revision_id} to {report.out}"
    )


@main.group("spark")
def spark_group() -> None:
    """Run the costing pipeline on Apache Spark over a Parquet export (needs finops[spark])."""


@spark_group.command("spend")
@click.option(
    "--data",
    default=None,
    envvar="FINOPS_SPARK_DATA",
    help="Export folder or URL (env FINOPS_SPARK_DATA); default: export --db to a temp folder.",
)
@spend_query_options
@click.option(
    "--revision",
    default=None,
    help="Price with this catalog revision (id, hash prefix or label); default: the export's.",
)
@master_option
@format_option("table", "csv", "json")
@db_option
@pricing_option
@teams_option
@contracts_option
def spark_spend_command(
    data: str | None,
    by: str,
    from_: str | None,
    to: str | None,
    revision: str | None,
    master: str | None,
    fmt: str,
    db: Path,
    pricing: Path | None,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """Spend grouped by keys, computed by Spark: the same SQL and the same dollars as DuckDB.

    \b
    Examples:
      finops spark spend --data exchange/ --by month,team
      SPARK_MASTER=spark://host:7077 finops spark spend --data s3a://bucket/finops --by month

    A cluster through spark-submit or YARN: see docs/spark.md.
    """
    from finops.export.spark_engine import spark_spend
    from finops.pricing.allocation import load_allocation
    from finops.pricing.contracts import load_contracts

    keys = [k.strip() for k in by.split(",") if k.strip()]
    start, end = day_range(from_, to)
    allocation = load_allocation(teams) if teams else None
    terms = load_contracts(contracts) if contracts else None
    with tempfile.TemporaryDirectory(prefix="finops-spark-") as tmp:
        if data is None:
            data = str(_export(db, pricing, Path(tmp) / "export", False).out)
        try:
            result = spark_spend(
                data,
                by=keys,
                from_day=start,
                to_day=end,
                revision=revision,
                allocation=allocation,
                contracts=terms,
                master=master,
            )
        except RuntimeError as exc:  # pyspark missing; Spark's own errors are bugs to see
            raise click.ClickException(str(exc)) from None
    totals = result.totals
    emit(
        result.frame,
        fmt,
        title=f"Spend by {', '.join(keys)} (catalog revision {result.revision_id}, Spark)",
    )
    if fmt == "table":
        echo_totals(totals)


@main.group("rollup")
def rollup_group() -> None:
    """Maintain the daily rollup that spend, dashboards and forecasts read."""


@rollup_group.command("rebuild")
@db_option
@pricing_option
def rollup_rebuild_command(db: Path, pricing: Path | None) -> None:
    """Rebuild the daily rollup for the catalog's long-context thresholds, month by month.

    Any session does this by itself when the thresholds moved; this shows progress (a
    full scan: minutes at 100M rows). Readers keep the old rollup until it is done.

    \b
    Example:
      finops rollup rebuild --pricing pricing/
    """
    from finops.session.scratch import rollup_rebuilder

    with (
        rollup_rebuilder(db, pricing) as (catalog, rebuild),
        click.progressbar(length=1, label="rebuilding the daily rollup") as bar,
    ):

        def progress(month, done, total, seconds) -> None:
            bar.length = total
            bar.label = f"rebuilt {month:%Y-%m} ({seconds:.0f}s)"
            bar.update(1)

        report = rebuild(progress=progress)
    click.echo(
        f"rollup rebuilt: {report.usage_rows:,} usage rows in {report.months} "
        f"month{'s' if report.months != 1 else ''} → "
        f"{report.rollup_rows:,} rollup rows in {report.seconds:.1f}s "
        f"(long-context thresholds {catalog.thresholds or 'none'})"
    )
