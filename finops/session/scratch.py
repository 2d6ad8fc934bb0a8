"""Stores that are not the session's: a scratch store, a private catalog, a maintenance run.

Code above `finops.session` never opens a DuckDB connection itself (tests/test_layers.py):
what it needs from a store other than its session's comes from here.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from finops.core.store import connect, read_sql
from finops.pricing.catalog import Catalog, sync_catalog
from finops.pricing.contracts import Contracts, install_contracts
from finops.pricing.rollup import RebuildReport, rebuild_rollup
from finops.session.session import Session

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["catalog_tables", "contract_terms_table", "rollup_rebuilder", "scratch_session"]

#: The tables a recorded catalog revision lives in.
CATALOG_TABLES = ("catalog_prices", "catalog_aliases", "catalog_revisions", "catalog_models")


@contextmanager
def scratch_session(catalog: Catalog) -> Iterator[Session]:
    """A session on a new store in a temporary folder (deleted afterwards), e.g. to dry-run
    an upload. Its `revision_id` is 0: nothing is recorded in it but what the caller writes."""
    with tempfile.TemporaryDirectory(prefix="finops-preview-") as tmp:
        db = Path(tmp) / "preview.duckdb"
        con = connect(db)
        try:
            yield Session(con=con, catalog=catalog, revision_id=0, db=db)
        finally:
            con.close()


def catalog_tables(
    pricing: str | os.PathLike[str] | None,
) -> tuple[Catalog, int, dict[str, pa.Table]]:
    """The catalog recorded in a private store: catalog, its revision id and its tables
    (`CATALOG_TABLES`), for an engine that prices without a store (the lake on Spark)."""
    with tempfile.TemporaryDirectory(prefix="finops-lake-") as tmp:
        con = connect(Path(tmp) / "catalog.duckdb")
        try:
            catalog, revision_id = sync_catalog(con, pricing)
            tables = {
                name: con.sql(f"SELECT * FROM {name}").arrow().read_all() for name in CATALOG_TABLES
            }
        finally:
            con.close()
    return catalog, revision_id, tables


def contract_terms_table(contracts: Contracts | None):
    """The contract_terms rows `finops.pricing.contracts.install_contracts` installs, made by
    the same code in an in-memory DuckDB."""
    con = duckdb.connect()
    try:
        con.execute(read_sql("contract_terms"))
        install_contracts(con, contracts)
        return con.sql("SELECT * FROM contract_terms").arrow()
    finally:
        con.close()


@contextmanager
def rollup_rebuilder(
    db: str | os.PathLike[str] | None, pricing: str | os.PathLike[str] | None
) -> Iterator[tuple[Catalog, Callable[..., RebuildReport]]]:
    """The store opened for writing with the catalog recorded: the catalog, and a function
    that rebuilds the daily rollup for its long-context thresholds month by month
    (`finops.pricing.rollup.rebuild_rollup`, taking its `progress`). Closed at the end."""
    con = connect(db)
    try:
        catalog, _revision = sync_catalog(con, pricing)
        yield catalog, functools.partial(rebuild_rollup, con, catalog.thresholds)
    finally:
        con.close()
