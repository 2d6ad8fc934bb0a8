"""The `finops` command line: parses options, calls one library function, prints the result.

Every command takes --db (env FINOPS_DB) and --pricing (env FINOPS_PRICING). Errors print one
line and exit non-zero; tracebacks are for bugs only.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from finops.cli.group import export, main, pricing
from finops.cli.options import (
    contracts_option,
    day_range,
    db_option,
    echo_totals,
    emit,
    format_option,
    pricing_option,
    reading_session,
    spend_query_options,
    teams_option,
)
from finops.core.months import parse_month
from finops.core.schema import TOKEN_CLASSES

__all__ = ["main"]


# --- ingest and spend --------------------------------------------------------------------------


#: files with a progress bar of their own, and with a line of their own in the summary
_PROGRESS_BARS = 8
_LISTED_FILES = 10


@contextmanager
def _ingest_progress():
    """A rich progress bar per file on a terminal (stderr); silent otherwise."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from finops.ingest._core import STEPS

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, int] = {}
    shared: list[int] = []  # past the first few files, one bar shows the file at work

    def on_progress(file: str, step: str, pct: float) -> None:
        if file not in tasks:
            if len(tasks) < _PROGRESS_BARS:
                tasks[file] = bar.add_task(Path(file).name, total=len(STEPS) * 100)
            else:
                if not shared:
                    shared.append(bar.add_task("", total=len(STEPS) * 100))
                tasks[file] = shared[0]
        done = STEPS.index(step) * 100 + min(pct, 100.0)
        bar.update(tasks[file], completed=done, description=f"{Path(file).name}: {step}")

    with bar:
        yield on_progress


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--source-format",
    "format_name",
    default=None,
    help="Skip detection and read the files as this format.",
)
@click.option(
    "--replace-overlap",
    is_flag=True,
    help="Where this upload counts stored usage again (another bucket width, or another "
    "account export of the same bill), keep this upload's rows for those days.",
)
@db_option
@pricing_option
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A YAML column mapping for a CSV no built-in format reads.",
)
def ingest(
    paths: tuple[str, ...],
    format_name: str | None,
    mapping: Path | None,
    db: Path,
    pricing: Path | None,
    replace_overlap: bool,
) -> None:
    """Load usage exports (files, folders or globs) into the store, as one all-or-nothing upload.

    Usage already stored at another bucket width (hourly vs daily, per request vs bucketed),
    or from another account export of the same bill (a FOCUS file over the CUR it came from),
    is refused, naming the days; --replace-overlap keeps this upload's rows there.

    \b
    Example:
      finops ingest exports/2025-06/*.csv
    """
    from finops.core.format import plural
    from finops.ingest.mapping import register_mapping
    from finops.session import session

    if mapping is not None:
        format_name = register_mapping(mapping).name
    with session.open_session(db, pricing) as s, _ingest_progress() as on_progress:
        report = session.ingest(
            s,
            list(paths),
            format_name=format_name,
            progress=on_progress,
            replace_overlap=replace_overlap,
        )
    listed = (
        report.files if len(report.files) <= _LISTED_FILES + 2 else report.files[:_LISTED_FILES]
    )
    for f in listed:
        span = f"{f.first_day} .. {f.last_day}" if f.first_day else "no rows"
        if f.cost_only:
            span += " (a cost data set: kept to reconcile against, never added to usage)"
        if f.rows_skipped:
            span += f"; {plural(f.rows_skipped, 'row')} passed over (not AI token usage)"
        # the counts on the file's line, the days below it: each fits a 100-column terminal
        click.echo(
            f"{f.file}: {f.format}, {plural(f.rows_read, 'row')} read — {f.rows_new:,} new, "
            f"{f.rows_duplicate:,} duplicate, {f.rows_replaced:,} replaced"
        )
        click.echo(f"  days: {span}")
        if f.models:
            click.echo(f"  models: {', '.join(f.models[:12])}{' …' if len(f.models) > 12 else ''}")
    rest = report.files[len(listed) :]
    if rest:
        days = [d for f in rest for d in (f.first_day, f.last_day) if d is not None]
        span = f"{min(days)} .. {max(days)}" if days else "no rows"
        click.echo(
            f"… and {len(rest):,} more files: "
            f"{plural(sum(f.rows_read for f in rest), 'row')} read — "
            f"{sum(f.rows_new for f in rest):,} new, {sum(f.rows_duplicate for f in rest):,} "
            f"duplicate, {sum(f.rows_replaced for f in rest):,} replaced"
        )
        click.echo(f"  days: {span}")
        models = sorted({m for f in rest for m in f.models})
        click.echo(f"  models: {', '.join(models[:12])}{' …' if len(models) > 12 else ''}")
    for model in report.unpriced_models:
        click.echo(f"  unpriced: {model} (no catalog price; see finops unpriced)")
    if report.unpriced_warning:
        click.echo(f"warning: {report.unpriced_warning}")
    click.echo(
        f"ingest {report.ingest_id}: {report.rows_new:,} new, {report.rows_duplicate:,} duplicate, "
        f"{report.rows_replaced:,} replaced"
    )


@main.command()
@spend_query_options
@click.option(
    "--revision", default=None, help="Price with this catalog revision (id, hash prefix or label)."
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="duckdb: the store; spark: Apache Spark over a Parquet export (finops[spark]).",
)
@click.option(
    "--data",
    default=None,
    envvar="FINOPS_SPARK_DATA",
    help="With --engine spark: export folder or URL (default: export --db to a temp folder).",
)
@format_option("table", "csv", "json")
@db_option
@pricing_option
@teams_option
@contracts_option
def spend(
    by: str,
    from_: str | None,
    to: str | None,
    revision: str | None,
    engine: str,
    data: str | None,
    fmt: str,
    db: Path,
    pricing: Path | None,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """Spend grouped by keys, with unpriced usage counted beside every total.

    \b
    Examples:
      finops spend --by month,team
      finops spend --by day,model --from 2025-06-01 --to 2025-06-30 --format json
      finops spend --by model --revision 1      # as priced by an older catalog
    """
    from finops.analysis.deprecations import usage_on_deprecated_models
    from finops.core.format import plural

    if engine == "spark":
        # `finops spark spend` lives in finops/cli/scale.py, loaded on first use
        click.get_current_context().invoke(
            main.get_command(click.get_current_context(), "spark").commands["spend"],
            data=data,
            by=by,
            from_=from_,
            to=to,
            revision=revision,
            fmt=fmt,
            db=db,
            pricing=pricing,
            teams=teams,
            contracts=contracts,
        )
        return
    keys = [k.strip() for k in by.split(",") if k.strip()]
    start, end = day_range(from_, to)
    with reading_session(db, pricing, teams, contracts) as s:
        rev = s.resolve_revision(revision) if revision else s.revision_id
        frame = s.spend(keys, revision_id=rev, from_day=start, to_day=end)
        totals = s.totals(revision_id=rev, from_day=start, to_day=end)
        warnings = usage_on_deprecated_models(s).to_dicts() if fmt == "table" else []
        # nothing in the window: say so, and where the usage is, not an empty table and $0.00
        empty = fmt == "table" and not totals.usage_rows
        held = s.totals(revision_id=rev) if empty else None
    if held is not None:
        window = " ".join(f"{w} {d}" for w, d in (("from", from_), ("to", to)) if d)
        click.echo(
            f"no usage {window or 'in the store'}"
            + (
                f"; the store holds usage from {held.first_day} to {held.last_day}"
                if held.usage_rows
                else ": load some with finops ingest FILE, or finops demo"
            )
        )
        return
    emit(frame, fmt, title=f"Spend by {', '.join(keys)} (catalog revision {rev})")
    if fmt == "table":
        echo_totals(totals)
        if totals.unpriced_warning:
            click.echo(f"warning: {totals.unpriced_warning}")
        if totals.peak_priced_rows:
            click.echo(
                f"warning: {plural(totals.peak_priced_rows, 'row')} of a day or longer are for models "
                "priced by time of day; a day cannot be split by hour, so they are priced at "
                "the peak rate (upload hourly or per-request usage to price them exactly)"
            )
        for w in warnings:
            state = "retired" if w["days_left"] < 0 else f"retires in {w['days_left']} days"
            successor = f"; successor {w['successor']}" if w["successor"] else ""
            click.echo(
                f"warning: {w['provider']}/{w['model']} {state} ({w['deprecated_on']}){successor}"
            )


@main.command()
@click.option("--from", "from_", default=None, help="First day (inclusive).")
@click.option("--to", default=None, help="Last day (inclusive).")
@format_option("table", "csv", "json")
@db_option
@pricing_option
def unpriced(from_: str | None, to: str | None, fmt: str, db: Path, pricing: Path | None) -> None:
    """Usage the catalog cannot price: model, reason, rows and tokens (never counted as $0).

    \b
    Example:
      finops unpriced --format json
    """
    from finops.session import session

    start, end = day_range(from_, to)
    with reading_session(db, pricing) as s:
        frame = s.unpriced(from_day=start, to_day=end)
        frame = session.suggest_models(s, frame)
    if frame.is_empty():
        click.echo("no unpriced usage")
        return
    emit(frame, fmt, title="Unpriced usage")


# --- pricing -----------------------------------------------------------------------------------


@pricing.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@pricing_option
def pricing_validate(directory: Path | None, pricing: Path | None) -> None:
    """Check a catalog folder; print one line naming file, model and field of any problem.

    \b
    Example:
      finops pricing validate pricing/
    """
    from finops.pricing import catalog as catalog_mod

    cat = catalog_mod.load_catalog(directory or pricing)
    periods = sum(len(m.periods) for m in cat.models)
    providers = len({m.provider for m in cat.models})
    click.echo(
        f"ok: {len(cat.models)} models from {providers} providers, {periods} price periods "
        f"(content hash {cat.content_hash[:12]})"
    )


@pricing.command("list")
@click.option("--provider", default=None, help="Only this provider.")
@format_option("table", "csv", "json")
@pricing_option
def pricing_list(provider: str | None, fmt: str, pricing: Path | None) -> None:
    """Models in the catalog with their current standard prices.

    \b
    Example:
      finops pricing list --provider anthropic
    """
    from finops.pricing import catalog as catalog_mod
    from finops.session import session

    frame = session.catalog_listing(catalog_mod.load_catalog(pricing), provider=provider)
    emit(frame, fmt, title="Price catalog", rates=TOKEN_CLASSES)


@pricing.command("show")
@click.argument("model")
@click.option("--provider", default=None, help="Provider, when the name is ambiguous.")
@format_option("table", "csv", "json")
@pricing_option
def pricing_show(model: str, provider: str | None, fmt: str, pricing: Path | None) -> None:
    """A model's price history: every period, tier and long-context band.

    \b
    Example:
      finops pricing show o3
    """
    from finops.pricing import catalog as catalog_mod
    from finops.session import session

    frame = session.price_history(catalog_mod.load_catalog(pricing), model, provider=provider)
    emit(
        frame, fmt, title=f"Price history of {model} (USD per million tokens)", rates=TOKEN_CLASSES
    )


@pricing.command("impact")
@click.argument("rev_a")
@click.argument("rev_b")
@click.option("--from", "from_", default=None, help="First day (inclusive).")
@click.option("--to", default=None, help="Last day (inclusive).")
@format_option("table", "csv", "json")
@db_option
@pricing_option
def pricing_impact(rev_a: str, rev_b: str, from_, to, fmt: str, db: Path, pricing) -> None:
    """How much stored history changes in dollars, by model, between two catalog revisions.

    \b
    Example:
      finops pricing impact 3 4 --from 2025-05-01 --to 2025-05-31
    """
    from finops.core.format import usd
    from finops.views.catalog import revision_impact

    start, end = day_range(from_, to)
    with reading_session(db, pricing) as s:
        a = s.resolve_revision(rev_a)
        b = s.resolve_revision(rev_b)
        impact = revision_impact(s, a, b, from_day=start, to_day=end)
    if fmt != "table":
        emit(impact.by_model, fmt)
        return
    click.echo(
        f"revision {a} → {b}: {usd(impact.total_a_usd)} → {usd(impact.total_b_usd)} "
        f"({impact.change_usd:+,.2f})"
    )
    if impact.by_model.is_empty():
        click.echo("no model's cost changes")
        return
    emit(impact.by_model, "table", title="Change by model (USD)")


@pricing.command("deprecations")
@click.option("--within", default=90, show_default=True, help="Days ahead to warn about.")
@format_option("table", "csv", "json")
@db_option
@pricing_option
def pricing_deprecations(within: int, fmt: str, db: Path, pricing: Path | None) -> None:
    """Models in recent use that are retired or retire soon, with successor and spend at stake.

    \b
    Example:
      finops pricing deprecations --within 180
    """
    from finops.analysis.deprecations import usage_on_deprecated_models

    with reading_session(db, pricing) as s:
        frame = usage_on_deprecated_models(s, within_days=within)
    if frame.is_empty():
        click.echo(f"no model in recent use retires within {within} days")
        return
    emit(frame, fmt, title="Usage on retiring models")


@pricing.command("revisions")
@format_option("table", "csv", "json")
@db_option
@pricing_option
def pricing_revisions(fmt: str, db: Path, pricing: Path | None) -> None:
    """Catalog revisions recorded in the store, newest first.

    \b
    Example:
      finops pricing revisions
    """
    with reading_session(db, pricing) as s:
        frame = s.revisions()
    emit(frame, fmt, title="Catalog revisions")


@pricing.command("diff")
@click.argument("rev_a")
@click.argument("rev_b")
@format_option("table", "csv", "json")
@db_option
@pricing_option
def pricing_diff(rev_a: str, rev_b: str, fmt: str, db: Path, pricing: Path | None) -> None:
    """Prices added, removed or changed between two revisions.

    \b
    Example:
      finops pricing diff 1 2
    """
    with reading_session(db, pricing) as s:
        a = s.resolve_revision(rev_a)
        b = s.resolve_revision(rev_b)
        frame = s.diff_revisions(a, b)
    if frame.is_empty():
        click.echo(f"revisions {a} and {b} price everything the same")
        return
    title = f"Price changes from revision {a} to {b} (USD per million tokens)"
    emit(frame, fmt, title=title, rates=("rate_a", "rate_b"))


# --- exports ----------------------------------------------------------------------------------


@export.command("focus")
@click.option("--month", required=True, help="The month to export (YYYY-MM).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .csv or .parquet.",
)
@db_option
@pricing_option
@contracts_option
def export_focus(
    month: str, out: Path, db: Path, pricing: Path | None, contracts: Path | None
) -> None:
    """Write a month of priced usage as FOCUS 1.2 cost and usage rows.

    \b
    Example:
      finops export focus --month 2025-06 --out june-focus.parquet
    """
    from finops.core.format import usd
    from finops.export.focus import export_focus as write_focus

    try:
        first = parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    with reading_session(db, pricing, contracts=contracts) as s:
        result = write_focus(s, month=first, out=out)
    click.echo(
        f"{result.path}: {result.rows:,} FOCUS rows, list {usd(result.list_cost_usd)}, "
        f"effective {usd(result.effective_cost_usd)}"
    )
    if result.unpriced_rows_left_out:
        click.echo(
            f"left out: {result.unpriced_rows_left_out:,} unpriced usage rows (no cost to state)"
        )


# --- demo and app ------------------------------------------------------------------------------


@main.command()
@click.option("--days", default=270, show_default=True, help="Days of history.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same data).")
@db_option
@pricing_option
def demo(days: int, seed: int, db: Path, pricing: Path | None) -> None:
    """Load a demo company into the store: a synthetic history (8 teams, 4 providers) and,
    beside the store, its teams.yaml (owners, budgets, a shared key), contracts.yaml and
    evals.csv, which the app and every command then pick up.

    \b
    Example:
      finops demo --days 180 --db demo.duckdb
    """
    from finops.session import session

    with session.open_session(db, pricing) as s:
        report = session.load_demo(s, days=days, seed=seed)
        written = session.write_demo_company(s)
    click.echo(
        f"demo: {report.rows_new:,} new rows ({report.rows_duplicate:,} already there) in {db}"
    )
    for line in written:
        click.echo(f"demo: {line}")
    # the store's one forecast, made now (with the teams.yaml and contracts.yaml just written)
    # so the first page or `finops forecast` after the demo reads it instead of making it
    from finops.analysis.forecast.state import store_forecast

    click.echo("demo: forecasting the next 92 days for every team, model and provider…")
    with session.open_session(db, pricing) as s:
        try:
            fc = store_forecast(s)
        except LookupError as exc:  # no priced spend yet: the first reader will say so
            click.echo(f"demo: no forecast yet ({exc})")
            return
    click.echo(f"demo: forecast from {fc.as_of} kept in the store")


@main.command()
@click.option("--port", default=8501, show_default=True, help="Port to serve on.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on; 127.0.0.1 keeps the app on this machine (0.0.0.0: every interface).",
)
@click.option(
    "--trust-proxy",
    is_flag=True,
    help="The app is reachable only through a proxy that sets the access header from its own "
    "sign-in (same as access.trusted_proxy: true in teams.yaml).",
)
@db_option
@pricing_option
@teams_option
def app(
    port: int, address: str, trust_proxy: bool, db: Path, pricing: Path | None, teams: Path | None
) -> None:
    """Start the Streamlit app on the store.

    The app listens on 127.0.0.1 unless --address says otherwise. With header identity in
    teams.yaml (access.header), it refuses a non-loopback address unless the proxy is
    declared trusted (--trust-proxy), since anyone reaching the app directly could send that
    header. The server replaces this process, so stopping it (SIGTERM, docker stop) stops it.

    \b
    Example:
      finops app --port 8502
      finops app --address 0.0.0.0 --trust-proxy --teams teams.yaml   # behind oauth2-proxy
    """
    from finops.pricing.allocation import default_teams_path
    from finops.session.access import check_binding, load_access

    # the map the app will read: --teams / FINOPS_TEAMS, else a teams.yaml beside the store
    policy = load_access(teams or default_teams_path(db))
    check_binding(policy, address, trust_proxy=trust_proxy)
    if policy is not None and policy.header and not (trust_proxy or policy.trusted_proxy):
        click.echo(
            f"note: the {policy.header} header is ignored (no --trust-proxy): only OIDC "
            "sign-in identifies viewers.",
            err=True,
        )
    env = dict(os.environ, FINOPS_DB=str(db.resolve()))
    if pricing is not None:
        env["FINOPS_PRICING"] = str(pricing.resolve())
    if teams is not None:
        env["FINOPS_TEAMS"] = str(teams.resolve())
    env["FINOPS_TRUST_PROXY"] = "1" if trust_proxy else "0"
    app_file = Path(__file__).resolve().parents[2] / "app.py"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    # exec, not a child: signals reach the server itself, so no server outlives `finops app`
    os.execve(sys.executable, cmd, env)
