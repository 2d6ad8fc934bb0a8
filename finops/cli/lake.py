"""`finops lake run` and `finops lake attach`: the costing pipeline on Spark, where the data is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from finops.cli.group import main
from finops.cli.options import (
    contracts_option,
    db_option,
    emit,
    format_option,
    master_option,
    parse_day,
    pricing_option,
    teams_option,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["lake_attach_command", "lake_forecast_command", "lake_run_command"]


@main.group("lake")
def lake_group() -> None:
    """Usage in a data lake, costed on Apache Spark; the small result comes back to the app."""


def _spark(master: str | None) -> SparkSession:
    from finops.lake.spark import spark_session

    try:
        return spark_session(master)
    except RuntimeError as exc:  # pyspark missing; Spark's own errors are bugs to see
        raise click.ClickException(str(exc)) from None


def _days(days: list[dt.date]) -> str:
    if not days:
        return "none"
    if len(days) <= 4:
        return ", ".join(f"{d:%Y-%m-%d}" for d in days)
    return f"{len(days)} days, {days[0]:%Y-%m-%d} .. {days[-1]:%Y-%m-%d}"


@lake_group.command("run")
@click.option(
    "--usage", required=True, help="Usage folder or URL (day=/month= partitions), or table."
)
@click.option("--out", required=True, help="Folder or URL for the rollup, unpriced usage, spend.")
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["parquet", "delta", "iceberg"]),
    default="parquet",
    show_default=True,
    help="How --usage is stored (delta / iceberg: the Spark session must have them).",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A YAML column mapping, when the columns are not the canonical ones.",
)
@click.option("--since", default=None, help="Look only at partitions from this day on.")
@click.option("--all", "everything", is_flag=True, help="Recompute every partition.")
@master_option
@pricing_option
@teams_option
@contracts_option
def lake_run_command(
    usage: str,
    out: str,
    input_format: str,
    mapping: Path | None,
    since: str | None,
    everything: bool,
    master: str | None,
    pricing: Path | None,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """Key, de-duplicate, price and allocate lake usage on Spark; write the results beside it.

    Reruns recompute only partitions whose files changed, and reprice only the days a
    catalog, teams or contracts change touches. See docs/spark.md.

    \b
    Examples:
      finops lake run --usage s3a://logs/finops/usage --out s3a://logs/finops/out \\
          --teams teams.yaml --contracts contracts.yaml
      finops lake run --usage lake/usage --out lake/out --since 2025-06-01
      finops lake attach --rollup lake/out --db finops.duckdb
    """
    from finops.core.format import plural, usd
    from finops.ingest.mapping import load_mapping
    from finops.lake.run import run_lake
    from finops.lake.source import LakeInput
    from finops.pricing.allocation import load_allocation
    from finops.pricing.contracts import load_contracts

    source = LakeInput(usage, input_format, load_mapping(mapping) if mapping is not None else None)
    spark = _spark(master)
    report = run_lake(
        spark,
        source,
        out,
        pricing=str(pricing) if pricing else None,
        allocation=load_allocation(teams) if teams else None,
        contracts=load_contracts(contracts) if contracts else None,
        since=parse_day(since, "--since"),
        everything=everything,
    )
    for reason in report.reasons:
        click.echo(f"recomputing: {reason}")
    click.echo(
        f"read {len(report.partitions_read)} changed partition(s): "
        f"{report.usage_rows:,} usage rows → {report.rollup_rows:,} rollup rows, "
        f"{usd(report.cost_usd)} list"
        + (f", {plural(report.unpriced_rows, 'row')} unpriced" if report.unpriced_rows else "")
    )
    click.echo(f"days written: {_days(report.days_written)}")
    if report.days_repriced or report.reasons:
        click.echo(f"days repriced: {_days(report.days_repriced)}")
    if report.days_removed:
        click.echo(f"days removed (no usage left): {_days(report.days_removed)}")
    click.echo(
        f"catalog {report.catalog_hash[:12]} (long-context thresholds "
        f"{report.thresholds or 'none'}); {report.seconds:.1f}s; output in {report.out}"
    )


@lake_group.command("attach")
@click.option(
    "--rollup",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The --out folder of finops lake run (local or mounted).",
)
@db_option
@pricing_option
def lake_attach_command(rollup: Path, db: Path, pricing: Path | None) -> None:
    """Load a lake run's daily rollup into the store: every page and command then reads it.

    \b
    Example:
      aws s3 sync s3://logs/finops/out lake-out/ && finops lake attach --rollup lake-out/
    """
    from finops.lake.attach import attach_rollup
    from finops.session import session

    with session.open_session(db, pricing) as s:
        report = attach_rollup(s, rollup)
        same = s.catalog.content_hash == report.catalog_hash
    span = f"{report.first_day} .. {report.last_day}" if report.first_day else "no days"
    click.echo(
        f"attached {report.rollup_rows:,} rollup rows ({report.usage_rows:,} usage rows, "
        f"{report.days} days: {span}) from {report.location}"
    )
    if not same:
        click.echo(
            f"note: the lake priced with catalog {report.catalog_hash[:12]}; this store prices "
            f"with {s.catalog.content_hash[:12]} (--pricing): totals differ where they differ"
        )


@lake_group.command("forecast")
@click.option("--out", required=True, help="The --out folder or URL of finops lake run.")
@click.option(
    "--by",
    default="team",
    show_default=True,
    help="Keys of the bottom series: team, provider, model, service_tier, project_id, api_key_id.",
)
@click.option("--horizon", default=28, show_default=True, help="Days to forecast.")
@master_option
@format_option("table", "csv", "json")
def lake_forecast_command(out: str, by: str, horizon: int, master: str | None, fmt: str) -> None:
    """Forecast daily spend for every series of a lake run on Spark, reconciled to the total.

    Each series runs the same forecasting engine as `finops forecast`, on an executor
    (applyInPandas); the driver reconciles them so teams add up to the total.

    \b
    Example:
      finops lake forecast --out s3a://logs/finops/out --by team,model --horizon 30
    """
    from finops.lake.forecast import lake_daily_spend, spark_forecast_hierarchy

    keys = [k.strip() for k in by.split(",") if k.strip()]
    spark = _spark(master)
    daily = lake_daily_spend(spark, out, keys)
    result = spark_forecast_hierarchy(spark, daily, levels_keys=keys, horizon=horizon)
    emit(result, fmt, title=f"Daily spend forecast by {', '.join(keys)} ({horizon} days, Spark)")
