"""Shared pieces of the command line: common options, output formats, error handling.

Commands live in `finops/cli/<area>.py` modules, which add commands to `finops.cli.group.main`;
the group imports each module when its command runs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path

import click
import polars as pl

from finops.cli.group import register_user_errors
from finops.core.cells import neutralise_frame
from finops.core.store import StoreError, StoreNeedsMigration, default_db_path
from finops.ingest import IngestError
from finops.pricing.allocation import AllocationError
from finops.pricing.catalog import CatalogError
from finops.pricing.contracts import ContractError
from finops.session.session import Session, open_session

__all__ = [
    "USER_ERRORS",
    "contracts_option",
    "day_range",
    "db_option",
    "emit",
    "exact_json",
    "format_option",
    "parse_day",
    "pricing_option",
    "reading_session",
    "spend_query_options",
    "teams_option",
]

USER_ERRORS = (
    AllocationError,
    CatalogError,
    ContractError,
    IngestError,
    StoreError,
    LookupError,
    ValueError,
)

register_user_errors(*USER_ERRORS)


@contextmanager
def reading_session(db, pricing=None, teams=None, contracts=None) -> Iterator[Session]:
    """A session for commands that only read: it never takes the write lock, so it neither
    waits for nor blocks an ingest. A missing store is created empty and a store an older
    release wrote is migrated: only those opens write.
    """
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


def spend_query_options(f):
    """--by, --from, --to: what a spend query groups by and the days it covers."""
    from finops.core.schema import SPEND_KEYS

    f = click.option("--to", default=None, help="Last day (YYYY-MM-DD, inclusive).")(f)
    f = click.option("--from", "from_", default=None, help="First day (YYYY-MM-DD, inclusive).")(f)
    return click.option(
        "--by",
        "by",
        default="team",
        show_default=True,
        help=f"Comma-separated keys: {', '.join(SPEND_KEYS)}.",
    )(f)


def format_option(*choices: str, default: str = "table"):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def emit(
    frame: pl.DataFrame, fmt: str, *, title: str | None = None, money: tuple[str, ...] = ()
) -> None:
    """Print a frame as a rich table, CSV or JSON (exact decimals in CSV and JSON)."""
    if fmt == "json":
        click.echo(exact_json(frame.to_dicts()))
        return
    if fmt == "csv":
        click.echo(neutralise_frame(frame).write_csv(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for name in frame.columns:
        numeric = frame.schema[name].is_numeric()
        table.add_column(name, justify="right" if numeric else "left")
    for row in frame.iter_rows():
        cells = []
        for name, value in zip(frame.columns, row):
            if value is None:
                cells.append("—")
            elif name in money or isinstance(value, Decimal):
                cells.append(f"{Decimal(value):,.2f}")
            elif isinstance(value, int):
                cells.append(f"{value:,}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    Console().print(table)


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
