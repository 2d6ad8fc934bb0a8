"""Cost control commands: `finops budgets`, `finops anomalies`, `finops alerts`, and
`finops export showback`."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from finops.cli.group import export, main, user_errors
from finops.cli.options import (
    contracts_option,
    csv_text,
    db_option,
    emit,
    exact_json,
    format_option,
    parse_day,
    pricing_option,
    reading_session,
    teams_option,
)

if TYPE_CHECKING:
    import polars as pl

    from finops.analysis.alert_state import AlertRun


__all__ = [
    "alerts_command",
    "anomalies_command",
    "budgets_command",
    "showback_command",
]


def _today_option(f):
    return click.option(
        "--today",
        default=None,
        help="Judge as of this day (YYYY-MM-DD); default: the last day with data.",
    )(f)


def _month(text: str | None) -> dt.date | None:

    from finops.analysis.budgets import parse_month

    if text is None:
        return None
    try:
        return parse_month(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None


# --- budgets -----------------------------------------------------------------------------------


@main.command("budgets")
@click.option("--month", default=None, help="Month to judge (YYYY-MM); default: today's.")
@_today_option
@format_option("table", "csv", "json")
@teams_option
@contracts_option
@db_option
@pricing_option
def budgets_command(
    month: str | None,
    today: str | None,
    fmt: str,
    teams: Path | None,
    contracts: Path | None,
    db: Path,
    pricing: Path | None,
) -> None:
    """Monthly budgets: spend to date, projected month end (80% interval), run-out date, status.

    Budgets are the monthly_budget_usd fields of teams.yaml (per team and for the total).
    Status: over (spent more than the budget), at risk (projected above it), ok. With
    contracts.yaml, effective cost (what you pay) is judged, list cost shown beside it.

    \b
    Examples:
      finops budgets --teams teams.yaml
      finops budgets --teams teams.yaml --month 2025-11 --format json
    """
    import polars as pl

    from finops.analysis.budgets import BASIS_EFFECTIVE, budget_status, find_budgets

    budgets = find_budgets(db, teams)
    with reading_session(db, pricing, teams, contracts) as s:
        frame = budget_status(s, budgets, month=_month(month), today=parse_day(today, "--today"))
    if fmt != "table":
        emit(frame, fmt)
        return
    first = frame.row(0, named=True)
    shown = frame.select(
        pl.when(pl.col("scope") == "total").then(pl.lit("TOTAL")).otherwise("team").alias("team"),
        pl.col("budget_usd").alias("budget"),
        pl.col("actual_usd").alias("spent"),
        *([pl.col("list_usd").alias("list")] if first["basis"] == BASIS_EFFECTIVE else []),
        pl.col("used_pct").round(0).cast(pl.Int64).alias("used %"),
        pl.col("projected_usd").alias("projected"),
        pl.col("projected_lo80_usd").alias("80% low"),
        pl.col("projected_hi80_usd").alias("80% high"),
        pl.col("runs_out_on").alias("runs out"),
        "status",
    )
    emit(
        shown,
        "table",
        title=f"Budgets for {first['month']:%B %Y}, as of {first['today']} (USD, {first['basis']})",
    )
    if budgets is None:
        click.echo("no budgets: give --teams teams.yaml (monthly_budget_usd per team)")
    methods = frame["projection"].unique(maintain_order=True).to_list()
    click.echo(f"projection: {'; '.join(methods)}")
    notes = frame.filter(pl.col("note").is_not_null())
    for row in notes.iter_rows(named=True):
        click.echo(f"{row['team'] or 'total'}: {row['note']}")


# --- anomalies ---------------------------------------------------------------------------------


@main.command("anomalies")
@click.option("--days", default=7, show_default=True, help="Days to check, ending today.")
@_today_option
@click.option(
    "--scope",
    "scopes",
    default="team,model,api_key",
    show_default=True,
    help="Comma-separated scopes to judge: team, model, api_key.",
)
@click.option(
    "--min-impact",
    type=Decimal,
    default=None,
    help="Ignore spikes and drift worth less than this many USD (default 0.25).",
)
@format_option("table", "csv", "json")
@teams_option
@db_option
@pricing_option
def anomalies_command(
    days: int,
    today: str | None,
    scopes: str,
    min_impact: Decimal | None,
    fmt: str,
    teams: Path | None,
    db: Path,
    pricing: Path | None,
) -> None:
    """Spend spikes, unit-cost drift, first use of a model, and deprecated models in use.

    Each finding has expected vs actual and its dollar impact split into volume, price
    (cost per request) and mix (which models, tiers and keys carried the volume).

    \b
    Examples:
      finops anomalies --days 14
      finops anomalies --scope team --min-impact 50 --format json
    """
    import polars as pl

    from finops.analysis.anomalies import METRIC_LABELS, AnomalyConfig, detect_anomalies
    from finops.core.format import plural

    kw: dict = {"scopes": tuple(s.strip() for s in scopes.split(",") if s.strip())}
    if min_impact is not None:
        kw["min_impact_usd"] = min_impact
    config = AnomalyConfig(**kw)
    with reading_session(db, pricing, teams) as s:
        found = detect_anomalies(s, days=days, today=parse_day(today, "--today"), config=config)
    if found.is_empty():
        if fmt == "json":
            click.echo("[]")
        elif fmt == "table":
            click.echo(f"no anomalies in the last {plural(days, 'day')}")
        else:
            emit(found, fmt)
        return
    if fmt != "table":
        emit(found, fmt)
        return
    shown = found.with_row_index("#", offset=1).select(
        "#",
        "day",
        "check",
        pl.concat_str(
            "scope",
            pl.lit(" "),
            "key",
            pl.when(pl.col("model").is_not_null() & (pl.col("scope") != "model"))
            .then(pl.lit(" · ") + pl.col("model"))
            .otherwise(pl.lit("")),
        ).alias("where"),
        pl.col("impact_usd"),
        pl.col("volume_usd"),
        pl.col("price_usd"),
        pl.col("mix_usd"),
        pl.col("metric").replace(METRIC_LABELS),
        pl.col("expected").round(4),
        pl.col("actual").round(4),
    )
    emit(shown, "table", title=f"Anomalies, last {plural(days, 'day')}")
    width = shutil.get_terminal_size((100, 24)).columns
    for i, detail in enumerate(found["detail"].to_list(), start=1):
        click.echo(textwrap.fill(f"{i}. {detail}", width=width, subsequent_indent="   "))


# --- alerts ------------------------------------------------------------------------------------


class _AlertsError(click.ClickException):
    """An error in `finops alerts`: exit 2, so a scheduler tells it from "alerts fired" (1)."""

    exit_code = 2


@main.command("alerts")
@format_option("table", "json")
@click.option(
    "--webhook",
    default=None,
    envvar="FINOPS_WEBHOOK",
    help="Post what fires to this Slack-compatible incoming webhook (env FINOPS_WEBHOOK).",
)
@click.option(
    "--unallocated-limit",
    default="10",
    show_default=True,
    help="Fire when unallocated spend passes this percent of the month; 'off' to skip.",
)
@click.option(
    "--allow-http",
    is_flag=True,
    help="Allow a plain http:// webhook (a server on a trusted network); https:// otherwise.",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="List (and post) everything firing, not only what is new, worse or resolved.",
)
@click.option("--days", default=1, show_default=True, help="Days of anomalies to report.")
@_today_option
@teams_option
@contracts_option
@db_option
@pricing_option
def alerts_command(
    fmt: str,
    webhook: str | None,
    unallocated_limit: str,
    allow_http: bool,
    show_all: bool,
    days: int,
    today: str | None,
    teams: Path | None,
    contracts: Path | None,
    db: Path,
    pricing: Path | None,
) -> None:
    """List what fires today; exit 1 when anything fires, 0 when nothing does, 2 on errors.

    Fires on: budget thresholds (80%, 100% of the month's budget; effective cost with
    contracts.yaml), a projected month end over budget, anomalies of the last --days,
    unallocated spend over the limit, and usage the catalog cannot price. Each alert is
    listed (and, with --webhook, posted) once when it starts firing, again when it gets
    worse and once when it resolves: the store records what was sent. --all lists
    everything still firing too.

    \b
    Examples:
      finops alerts --teams teams.yaml || echo "something fires"
      finops alerts --teams teams.yaml --webhook https://hooks.slack.com/services/T/B/X
    """
    from finops.analysis.alert_state import run_alerts
    from finops.analysis.alerts import WebhookError, check_webhook_url, post_webhook, slack_payload
    from finops.analysis.budgets import find_budgets
    from finops.core.format import plural
    from finops.session import session

    try:
        limit = None if unallocated_limit.strip().lower() == "off" else Decimal(unallocated_limit)
    except ArithmeticError:
        msg = f"--unallocated-limit {unallocated_limit!r} is not a percent; write e.g. 10 or off"
        raise _AlertsError(msg) from None
    try:
        if webhook:
            check_webhook_url(webhook, allow_http=allow_http)
        budgets = find_budgets(db, teams)
        with session.open_session(db, pricing, teams, contracts) as s:

            def deliver(run: AlertRun) -> None:
                _show_notices(run.shown, fmt, firing=len(run.fired))
                if webhook and run.shown:
                    source = f"store {s.db.name} · catalog revision {s.revision_id}"
                    payload = slack_payload(
                        [n.alert for n in run.shown],
                        source=source,
                        states=[n.state for n in run.shown],
                    )
                    used = post_webhook(webhook, payload, allow_http=allow_http)
                    click.echo(
                        f"posted {plural(len(run.shown), 'alert')} to the webhook (attempt {used})",
                        err=True,
                    )

            run = run_alerts(
                s,
                deliver=deliver,
                budgets=budgets,
                today=parse_day(today, "--today"),
                anomaly_days=days,
                unallocated_limit_pct=limit,
                show_all=show_all,
            )
    except WebhookError as exc:
        raise _AlertsError(str(exc)) from None
    except user_errors() as exc:
        raise _AlertsError(str(exc)) from None
    if run.fired:
        sys.exit(1)


def _show_notices(shown, fmt: str, *, firing: int) -> None:

    import polars as pl

    from finops.analysis.alerts import alerts_frame
    from finops.core.format import plural

    frame = alerts_frame([n.alert for n in shown]).with_columns(
        pl.Series("state", [n.state for n in shown], dtype=pl.Utf8),
        pl.Series("since", [n.since for n in shown], dtype=pl.Date),
    )
    if fmt == "json":
        click.echo(exact_json(frame.to_dicts()) if shown else "[]")
    elif shown:
        emit(
            frame.select("state", "severity", "kind", "message"),
            "table",
            title=plural(len(shown), "alert"),
        )
    elif firing:
        click.echo(
            f"nothing new: {plural(firing, 'alert')} still firing, none worse (finops alerts --all "
            "lists them)"
        )
    else:
        click.echo("nothing fires")


# --- export showback ---------------------------------------------------------------------------


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Top lists as text ("gpt-4o 62.10%; o3 37.90%") for CSV and tables."""
    import polars as pl

    def text(items: list[dict] | None, key: str) -> str | None:
        if not items:
            return None
        return "; ".join(
            f"{i[key]} {i['share_pct']}%" if i["cost_usd"] is not None else f"{i[key]} unpriced"
            for i in items
        )

    return frame.with_columns(
        pl.Series("top_models", [text(v, "model") for v in frame["top_models"].to_list()]),
        pl.Series("top_api_keys", [text(v, "api_key_id") for v in frame["top_api_keys"].to_list()]),
    )


@export.command("showback")
@click.option("--month", required=True, help="Month (YYYY-MM).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE.csv or FILE.json instead of printing.",
)
@format_option("table", "csv", "json")
@teams_option
@db_option
@pricing_option
def showback_command(
    month: str,
    out: Path | None,
    fmt: str,
    teams: Path | None,
    db: Path,
    pricing: Path | None,
) -> None:
    """Per-team showback for a month: cost, share, top models and keys, unit costs.

    \b
    Examples:
      finops export showback --month 2025-11 --teams teams.yaml --out showback-2025-11.csv
      finops export showback --month 2025-11 --format json
    """
    from finops.analysis.budgets import find_budgets, showback
    from finops.core.format import usd

    first = _month(month)
    if out is not None:
        fmt = {".csv": "csv", ".json": "json"}.get(out.suffix.lower(), "")
        if not fmt:
            raise click.BadParameter(f"{out}: write to a .csv or .json file", param_hint="--out")
    budgets = find_budgets(db, teams)
    with reading_session(db, pricing, teams) as s:
        frame = showback(s, first, budgets=budgets)
    if fmt == "json":
        text = exact_json(frame.to_dicts())
    elif fmt == "csv":
        text = csv_text(_flat(frame))
    else:
        flat = _flat(frame)
        emit(
            flat.select(
                "team",
                "cost_usd",
                "share_pct",
                "requests",
                "cost_per_1k_requests_usd",
                "cost_per_1m_tokens_usd",
                "top_models",
                "budget_used_pct",
            ),
            "table",
            title=f"Showback {first:%B %Y} (USD)",
        )
        click.echo(f"total: {usd(Decimal(frame['cost_usd'].sum()))}")
        return
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    click.echo(f"wrote {frame.height} teams for {first:%Y-%m} to {out}")
