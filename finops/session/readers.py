"""Readers beside a writer: a session that never takes the store's write lock.

DuckDB gives a file to one writing process, or to any number of read-only ones, never both at
once (https://duckdb.org/docs/current/connect/concurrency). So a reader (the app, a report)
opens the store read-only, briefly, and a writer (`finops ingest`) waits for open readers to
close while new readers wait for it (`finops.core.store.connect`). Every write is one transaction,
so whatever a reader opens is a committed state: the data before an upload or after it.

What a read-only session cannot write, it keeps in temporary tables of its own connection,
which shadow the store's tables of the same name for that connection only: a catalog (or
teams map) the store has not recorded yet, and a rollup built for other long-context
thresholds. The next writing session records them in the store.
"""

from __future__ import annotations

import os

import duckdb

from finops.core.store import fetch_one
from finops.pricing import costing
from finops.pricing.allocation import Allocation, record_allocation
from finops.pricing.catalog import Catalog, load_catalog, record_revision

__all__ = ["prepare_read_only"]

_CATALOG_TABLES = ("catalog_revisions", "catalog_models", "catalog_aliases", "catalog_prices")
_ROLLUP_TABLES = ("daily_usage", "rollup_state")


def _shadow(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...], *, copy_rows: bool) -> None:
    """Temp tables named like the store's, holding a copy of their rows (or none)."""
    database = fetch_one(con, "SELECT current_database()")[0].replace('"', '""')
    for table in tables:
        limit = "" if copy_rows else " LIMIT 0"
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM "{database}".main.{table}{limit}'
        )


def _recorded(con: duckdb.DuckDBPyConnection, table: str, content_hash: str) -> int | None:
    row = fetch_one(
        con, f"SELECT revision_id FROM {table} WHERE content_hash = $h", {"h": content_hash}
    )
    return row[0] if row else None


def prepare_read_only(
    con: duckdb.DuckDBPyConnection,
    pricing: str | os.PathLike[str] | None,
    allocation: Allocation | None,
) -> tuple[Catalog, int, int | None]:
    """Catalog, its revision id and the allocation revision, for a read-only connection.

    A catalog the store has recorded prices at its recorded revision; an unrecorded one is
    recorded in a temporary copy of the catalog tables (its id is the next free one, and the
    store gets the same content under its own id at the next write).
    """
    catalog = load_catalog(pricing)
    revision_id = _recorded(con, "catalog_revisions", catalog.content_hash)
    if revision_id is None:
        _shadow(con, _CATALOG_TABLES, copy_rows=True)
        revision_id = record_revision(con, catalog)
    if not costing.rollup_is_current(con, catalog):
        # thresholds moved and no writer has rebuilt the rollup yet: rebuild it privately
        _shadow(con, _ROLLUP_TABLES, copy_rows=False)
        costing.ensure_rollup(con, catalog)
    allocation_revision = None
    if allocation is not None:
        allocation_revision = _recorded(con, "allocation_revisions", allocation.content_hash)
        if allocation_revision is None:
            _shadow(con, ("allocation_revisions",), copy_rows=True)
            allocation_revision = record_allocation(con, allocation)
    return catalog, revision_id, allocation_revision
