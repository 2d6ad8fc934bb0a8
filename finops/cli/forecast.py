"""`finops forecast`, `finops forecast-series`, `finops backtest`."""

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
    teams_option,
)


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise click.BadParameter(f"{text!r}: write levels like 80,95") from None
    if not levels or any(not 0 < lv < 100 for lv in levels):
        raise click.BadParameter(f"{text!r}: levels are percentages between 0 and 100")
    return levels


@main.command("forecast")
@click.option(
    "--by",
    type=click.Choice(["total", "provider", "team", "model"]),
    default="total",
    show_default=True,
)
@click.option(
    "--horizon",
    default=None,
    type=int,
    help="Days to forecast (default and longest: 92).",
)
@click.option("--levels", default="80,95", show_default=True, help="Interval levels (percent).")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="plans.yaml of planned migrations: show 'as is' and 'as planned' by month.",
)
@click.option(
    "--period",
    type=click.Choice(["day", "month"]),
    default=None,
    help="Rows per day, or per calendar month (the forecast days in it summed). Default: "
    "month for a table with --by (one row per key and month, not 92 per key), else day.",
)
@format_option("table", "csv", "json")
@db_option
@pricing_option
@teams_option
@contracts_option
def forecast_command(
    by: str,
    horizon: int | None,
    levels: str,
    plan_file: Path | None,
    period: str | None,
    fmt: str,
    db: Path,
    pricing,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """Daily spend forecast with intervals, priced day by day (announced price changes count).

    The store's one forecast: the numbers the Overview, Budgets and the review show, and the
    same total whichever --by. Columns: day, the --by key, mean, lo/hi per level, method,
    tokens_mean, price_factor. With --period month: month, the key, days forecast in it,
    mean and lo/hi summed over those days (summed daily bounds: a cautious, wider interval
    than the month's own). A table --by provider, team or model shows months unless --period
    day asks for days; CSV and JSON have days unless --period month.

    With --plan, the total forecast by month "as is" beside "as planned": each plan's
    simulated saving per month (finops simulate, at the prices in force on its start day)
    taken off from its start, along its ramp, with the saving's range.

    \b
    Examples:
      finops forecast --by team
      finops forecast --by team --format csv
      finops forecast --plan plans.yaml
    """
    from finops.analysis.forecast.spend import forecast_spend
    from finops.analysis.forecast.state import save_forecast

    if plan_file is not None and by != "total":
        raise click.UsageError("--plan compares the total forecast: leave out --by")
    with reading_session(db, pricing, teams, contracts) as s:
        result = forecast_spend(s, by=by, horizon=horizon, levels=_levels(levels))
        if plan_file is not None:
            _emit_planned(s, result, plan_file, fmt)
    save_forecast(db, result.store)
    if plan_file is not None:
        return
    # a table by key reads as months; CSV, JSON and the total keep days
    months_by_default = period is None and fmt == "table" and by != "total"
    if period == "month" or months_by_default:
        emit(
            result.by_month(),
            fmt,
            title=f"Spend forecast by month and {by} from {result.as_of} (USD)",
        )
        if months_by_default:
            click.echo("Day by day: --period day; every column: --format csv.")
        return
    emit(result.forecast, fmt, title=f"Spend forecast by {by} from {result.as_of} (USD per day)")
    if result.store.change and fmt == "table":
        click.echo(result.store.change)


def _emit_planned(session, result, plan_file: Path, fmt: str) -> None:
    """The --plan view: planned migrations (finops.analysis.simulate.plans) by month."""
    from finops.views.plans import planned_outlook  # the simulator, only with --plan

    frame = planned_outlook(session, plan_file, forecast=result)
    emit(frame, fmt, title=f"Spend forecast from {result.as_of}: as is and as planned (USD)")


@main.command("forecast-series")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--date-col", required=True, help="Column with the day.")
@click.option("--value-col", required=True, help="Column with the daily value.")
@click.option("--horizon", default=28, show_default=True)
@click.option("--levels", default="80,95", show_default=True)
@format_option("table", "csv", "json", default="csv")
def forecast_series_command(
    input_path: Path, date_col: str, value_col: str, horizon: int, levels: str, fmt: str
) -> None:
    """Forecast any daily series you already have (a CSV with a date and a value column).

    \b
    Example:
      finops forecast-series --input spend.csv --date-col date --value-col usd --horizon 14
    """
    import polars as pl

    try:
        frame = pl.read_csv(input_path, try_parse_dates=True)
    except pl.exceptions.PolarsError as exc:
        raise click.ClickException(f"{input_path}: cannot read as CSV: {exc}") from None
    for col in (date_col, value_col):
        if col not in frame.columns:
            raise click.ClickException(
                f"{input_path}: no column {col!r} (columns: {', '.join(frame.columns)})"
            )
    days = frame[date_col]
    if days.dtype != pl.Date:
        days = days.cast(pl.Utf8).str.to_date(strict=False)
    bad = days.is_null() | frame[value_col].cast(pl.Float64, strict=False).is_null()
    if bad.any():
        row = int(bad.arg_max()) + 1
        raise click.ClickException(
            f"{input_path}, row {row}: field {date_col if days[row - 1] is None else value_col} "
            "is not a date (YYYY-MM-DD) or not a number"
        )
    from finops.analysis.forecast.api import forecast_series  # the engine, only here

    result = forecast_series(
        frame[value_col].cast(pl.Float64).to_list(),
        days=days.to_list(),
        horizon=horizon,
        levels=_levels(levels),
    )
    emit(result, fmt, title=f"Forecast of {value_col}")


@main.command("backtest")
@click.option(
    "--by",
    type=click.Choice(["total", "provider", "team", "model"]),
    default="total",
    show_default=True,
)
@click.option("--horizon", default=28, show_default=True)
@format_option("table", "csv", "json")
@db_option
@pricing_option
def backtest_command(by: str, horizon: int, fmt: str, db: Path, pricing) -> None:
    """Rolling-origin accuracy per series: MASE against seasonal naive, interval coverage,
    error on the horizon's total.

    \b
    Example:
      finops backtest --by team
    """
    from finops.analysis.forecast.spend import backtest_spend

    with reading_session(db, pricing) as s:
        frame = backtest_spend(s, by=by, horizon=horizon)
    if frame.is_empty():
        click.echo("not enough history to backtest (needs about two horizons plus two weeks)")
        return
    emit(frame, fmt, title=f"Backtest by {by}, horizon {horizon} days")
