"""Shared pieces of the command line: common options, output formats, error handling.

Commands live in `finops/cli/<area>.py` modules, which add commands to `finops.cli.group.main`;
the group imports each module when its command runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from finops.cli.group import register_user_errors
from finops.core.schema import SPEND_KEYS

if TYPE_CHECKING:
    import polars as pl

    from finops.session.session import Session


__all__ = [
    "USER_ERRORS",
    "contracts_option",
    "csv_text",
    "day_range",
    "db_option",
    "echo_totals",
    "emit",
    "exact_json",
    "format_option",
    "master_option",
    "parse_day",
    "pricing_option",
    "reading_session",
    "spend_query_options",
    "teams_option",
]

#: errors a user can fix (a command prints them as one line); named, so that --help imports
#: none of the library
USER_ERRORS = (
    "finops.pricing.allocation.AllocationError",
    "finops.pricing.catalog.CatalogError",
    "finops.pricing.contracts.ContractError",
    "finops.ingest._core.IngestError",
    "finops.core.store.StoreError",
    "LookupError",
    "ValueError",
)

register_user_errors(*USER_ERRORS)


@contextmanager
def reading_session(db, pricing=None, teams=None, contracts=None) -> Iterator[Session]:
    """A session for commands that only read: it never takes the write lock, so it neither
    waits for nor blocks an ingest. A missing store is created empty and a store an older
    release wrote is migrated: only those opens write.
    """
    from finops.core.store import StoreNeedsMigration, default_db_path
    from finops.session.session import open_session

    with ExitStack() as stack:
        try:
            if not Path(db or default_db_path()).exists():
                raise StoreNeedsMigration(db)
            s = stack.enter_context(open_session(db, pricing, teams, contracts, read_only=True))
        except StoreNeedsMigration:
            s = stack.enter_context(open_session(db, pricing, teams, contracts))
        yield s


def db_option(f):
    return click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="FINOPS_DB",
        default="finops.duckdb",
        show_default=True,
        help="The DuckDB store (env FINOPS_DB).",
    )(f)


def pricing_option(f):
    return click.option(
        "--pricing",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="FINOPS_PRICING",
        default=None,
        help="Catalog folder (env FINOPS_PRICING; default: the bundled pricing/).",
    )(f)


def teams_option(f):
    return click.option(
        "--teams",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="FINOPS_TEAMS",
        default=None,
        help="Ownership map teams.yaml (env FINOPS_TEAMS): allocation rules and budgets.",
    )(f)


def contracts_option(f):
    return click.option(
        "--contracts",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="FINOPS_CONTRACTS",
        default=None,
        help="contracts.yaml (env FINOPS_CONTRACTS): discounts, negotiated prices, commitments, credits.",
    )(f)


def master_option(f):
    return click.option(
        "--master",
        default=None,
        envvar="SPARK_MASTER",
        help="Spark master (env SPARK_MASTER); default local[*], or what spark-submit set.",
    )(f)


def spend_query_options(f):
    """--by, --from, --to: what a spend query groups by and the days it covers."""

    f = click.option("--to", default=None, help="Last day (YYYY-MM-DD, inclusive).")(f)
    f = click.option("--from", "from_", default=None, help="First day (YYYY-MM-DD, inclusive).")(f)
    return click.option(
        "--by",
        "by",
        default="team",
        show_default=True,
        help=f"Comma-separated keys: {', '.join(SPEND_KEYS)}.",
    )(f)


def _set_meta(name: str):
    def callback(ctx: click.Context, _param, value) -> None:
        if value:
            ctx.meta[name] = True

    return callback


def format_option(*choices: str, default: str = "table"):
    """--format, plus --wide (a table with every column) and --exact (CSV money unrounded)."""

    def decorate(f):
        f = click.option(
            "--exact",
            is_flag=True,
            expose_value=False,
            callback=_set_meta("finops_exact"),
            help="CSV: money with every decimal (default: to the cent, footing to the total).",
        )(f)
        f = click.option(
            "--wide",
            is_flag=True,
            expose_value=False,
            callback=_set_meta("finops_wide"),
            help="Table: every column, however wide (default: what fits the terminal).",
        )(f)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="Output format.",
        )(f)

    return decorate


def _flag(name: str) -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.meta.get(name):
            return True
        ctx = ctx.parent
    return False


#: float columns that hold dollars although their names do not say so (forecasts)
_MONEY_FLOATS = ("mean", "lo80", "hi80", "lo95", "hi95", "lo", "hi")


def _is_money(
    frame: pl.DataFrame, name: str, money: tuple[str, ...], rates: tuple[str, ...] = ()
) -> bool:
    import polars as pl

    dtype = frame.schema[name]
    if name in rates or name.endswith("_pct"):  # a price per unit, a percentage: not money
        return False
    if name in money or isinstance(dtype, pl.Decimal):
        return True
    if not dtype.is_numeric():
        return False
    return (
        name.endswith("_usd")
        or name.startswith("usd_")
        or name in _MONEY_FLOATS
        or (name[:2] in ("lo", "hi") and name[2:].isdigit())
    )


def _money_in_cents(
    frame: pl.DataFrame, money: tuple[str, ...], rates: tuple[str, ...] = ()
) -> pl.DataFrame:
    """The frame's money columns to the cent as every table shows them: `fmt.frame_in_cents`."""
    from finops.core import format as fmt

    # a cost per unit (cost_per_1k_requests_usd) is money but does not add up: rounded alone
    columns = [n for n in frame.columns if _is_money(frame, n, money, rates) and "_per_" not in n]
    return fmt.frame_in_cents(frame, columns)


def _header(name: str) -> str:
    """cost_usd → cost $, used_pct → used %, input_tokens → input tokens."""
    for suffix, unit in (("_usd", " $"), ("_pct", " %")):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)] + unit
    return name.replace("_", " ")


def _cell(
    frame: pl.DataFrame, name: str, value, money: tuple[str, ...], rates: tuple[str, ...] = ()
) -> str:
    from finops.core import format as fmt

    if value is None:
        return "—"
    if name in rates:
        return "$" + format(Decimal(value).normalize(), "f")  # $0.075, $2.5
    if _is_money(frame, name, money):
        return fmt.usd(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if name.endswith("_pct"):
            return fmt.pct(value, signed=False)
        if name.endswith(("_share", "_rate")):
            return fmt.share(value)
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4g}"
    if isinstance(value, Decimal):
        return f"{value:,f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return fmt.month_label(value) if name == "month" else value.isoformat()
    return str(value)


def _wrap_header(text: str, width: int) -> str:
    """The header on as many lines as it needs to fit the column's width."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


_PROSE = 40  # a text column wider than this wraps (details, messages); others never do


def _terminal_width() -> int:
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else shutil.get_terminal_size((100, 24)).columns


def _fit(names: list[str], widths: dict[str, int], numeric: set[str], room: int) -> list[str]:
    """The columns that fit `room` characters, dropping the last numbers first, then text."""
    kept = list(names)

    def needed(cols: list[str]) -> int:
        return sum(widths[c] + 3 for c in cols) + 1

    while needed(kept) > room and len(kept) > 1:
        numbers = [c for c in kept[1:] if c in numeric]
        drop = numbers[-1] if len(numbers) > 1 else [c for c in kept[1:] if c not in numbers][-1:]
        if not drop:
            drop = kept[-1]
        kept.remove(drop if isinstance(drop, str) else drop[0])
    return kept


def echo_totals(totals) -> None:
    """The footer under a spend table: list and effective totals, and the unpriced usage
    left out of them (`costing.SpendTotals`)."""
    from finops.core.format import rows_and_tokens, usd

    click.echo(f"total: {usd(totals.cost_usd)} list, {usd(totals.effective_cost_usd)} effective")
    if totals.unpriced_rows:
        click.echo(
            f"unpriced usage: {rows_and_tokens(totals.unpriced_rows, totals.unpriced_tokens)} "
            "(not in the total; see finops unpriced)"
        )


def csv_text(
    frame: pl.DataFrame, *, money: tuple[str, ...] = (), rates: tuple[str, ...] = ()
) -> str:
    """The CSV every command writes: money rounded once to the cent, each column footing to
    its rounded total (`--exact`: every decimal), cells safe to open in a spreadsheet."""
    from finops.core.cells import neutralise_frame

    out = frame if _flag("finops_exact") else _money_in_cents(frame, money, rates)
    return neutralise_frame(out).write_csv()


def emit(
    frame: pl.DataFrame,
    fmt_name: str,
    *,
    title: str | None = None,
    money: tuple[str, ...] = (),
    rates: tuple[str, ...] = (),
) -> None:
    """Print a frame as a table that fits the terminal, CSV or JSON.

    JSON is exact. CSV money is rounded once to the cent, each column footing to its rounded
    total (`--exact`: every decimal). The table writes money as $1,234.56 right-aligned and
    keeps the columns that fit the terminal without cutting a number (`--wide`: all of them).
    `rates` are prices per unit (per 1M tokens): written exactly ($0.075), never footed.
    """
    from finops.core import format as fmt

    if fmt_name == "json":
        click.echo(exact_json(frame.to_dicts()))
        return
    if fmt_name == "csv":
        click.echo(csv_text(frame, money=money, rates=rates), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    shown = _money_in_cents(frame, money, rates)
    cells = {
        name: [_cell(frame, name, v, money, rates) for v in shown[name].to_list()]
        for name in shown.columns
    }
    numeric = {n for n in shown.columns if shown.schema[n].is_numeric()}
    widths = {
        n: max([len(c) for c in cells[n]] + [max(len(w) for w in _header(n).split())])
        for n in shown.columns
    }
    # prose columns count as _PROSE wide when choosing columns: they wrap to what is left
    fit_widths = {n: min(w, _PROSE) for n, w in widths.items()}
    room = _terminal_width()
    names = (
        shown.columns if _flag("finops_wide") else _fit(shown.columns, fit_widths, numeric, room)
    )
    hidden = [n for n in shown.columns if n not in names]
    table = Table(title=title, show_lines=False, title_justify="left")
    for name in names:
        prose = widths[name] > _PROSE  # long text (details, messages) may wrap; nothing else
        table.add_column(
            _wrap_header(_header(name), widths[name]),
            justify="right" if name in numeric else "left",
            no_wrap=not prose,
            min_width=None if prose else widths[name],
            overflow="fold",
        )
    for index in range(shown.height):
        table.add_row(*(cells[name][index] for name in names))
    width = max(room, sum(widths[n] + 3 for n in names) + 1) if _flag("finops_wide") else room
    Console(width=width, soft_wrap=False).print(table)
    if hidden:
        note = (
            f"({fmt.plural(len(hidden), 'more column')}: {', '.join(map(_header, hidden))}; "
            "--wide shows them, --format csv has everything)"
        )
        click.echo(textwrap.fill(note, width=room))


def exact_json(rows: list[dict]) -> str:
    """JSON with Decimal written as exact numbers, dates as ISO strings."""

    def encode(value) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, (int, float)):
            return json.dumps(value)
        if isinstance(value, (dt.date, dt.datetime)):
            return json.dumps(value.isoformat())
        if isinstance(value, dict):
            return "{" + ", ".join(f"{json.dumps(k)}: {encode(v)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(encode(v) for v in value) + "]"
        return json.dumps(str(value))

    return "[\n" + ",\n".join("  " + encode(r) for r in rows) + "\n]"


def parse_day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        msg = f"{name} {value!r} is not a date; write YYYY-MM-DD"
        raise click.BadParameter(msg) from None


def day_range(from_: str | None, to: str | None) -> tuple[dt.date | None, dt.date | None]:
    """CLI dates are inclusive; the library takes [from, to)."""
    start = parse_day(from_, "--from")
    end = parse_day(to, "--to")
    return start, (end + dt.timedelta(days=1)) if end else None
