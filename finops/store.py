"""The embedded store: one DuckDB file, versioned with forward migrations.

Every function takes its own connection; the module-level DuckDB default is never used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

__all__ = [
    "DEFAULT_DB",
    "StoreError",
    "default_db_path",
    "connect",
    "open_store",
    "transaction",
    "schema_version",
    "read_sql",
    "MIGRATIONS",
    "query_pl",
    "fetch_one",
]

DEFAULT_DB = "finops.duckdb"


class StoreError(Exception):
    """A store problem a user can act on (locked, newer than this release, missing)."""


def default_db_path() -> Path:
    """`FINOPS_DB` if set, else `./finops.duckdb`."""
    return Path(os.environ.get("FINOPS_DB") or DEFAULT_DB)


def read_sql(name: str) -> str:
    """The text of `finops/sql/<name>.sql`."""
    return resources.files("finops").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def _load_migrations() -> list[tuple[str, str]]:
    folder = resources.files("finops").joinpath("sql", "migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text("utf-8")) for name in names]


#: (file name, SQL) in order; version N is the N-th. Never edit a released one: add a file.
MIGRATIONS: list[tuple[str, str]] = _load_migrations()


def query_pl(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None):
    """Run a query and return a polars frame."""
    return con.sql(sql, params=params or {}).pl()


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> tuple | None:
    """The first row of a query, with the result drained so the connection is free again."""
    rows = con.execute(sql, params or {}).fetchmany(1)
    con.execute("SELECT 1").fetchall()  # finish any rows left unread
    return rows[0] if rows else None


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    has_table = fetch_one(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    )[0]
    if not has_table:
        return 0
    return fetch_one(con, "SELECT coalesce(max(version), 0) FROM schema_version")[0]


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    current = schema_version(con)
    if current > len(MIGRATIONS):
        msg = (
            f"this store is at schema version {current}, newer than this release of finops "
            f"understands ({len(MIGRATIONS)}); upgrade finops to open it"
        )
        raise StoreError(msg)
    if current == len(MIGRATIONS):
        return
    with transaction(con):
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for version, (name, sql) in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version VALUES ($v, $n, now()::TIMESTAMP)",
                {"v": version, "n": name},
            )


def connect(
    db: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait_seconds: float = 10.0,
) -> duckdb.DuckDBPyConnection:
    """Open the store, creating and migrating it when opened for writing.

    DuckDB lets one process write a file at a time; another process that wants it waits
    (up to `wait_seconds`) rather than failing at once.
    """
    path = Path(db) if db is not None else default_db_path()
    if read_only and not path.exists():
        msg = f"no store at {path}: load data first (finops demo, or finops ingest FILE)"
        raise StoreError(msg)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                msg = f"cannot open the store {path}: {exc}"
                raise StoreError(msg) from exc
            time.sleep(0.1)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(read_sql("contract_terms"))
    if read_only:
        version = schema_version(con)
        if version != len(MIGRATIONS):
            con.close()
            if version > len(MIGRATIONS):
                msg = f"the store {path} is newer than this release of finops; upgrade finops"
            else:
                msg = f"the store {path} needs a migration: open it once for writing"
            raise StoreError(msg)
    else:
        _migrate(con)
    return con


@contextmanager
def open_store(
    db: str | os.PathLike[str] | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` as a context manager that closes the connection (and its file lock)."""
    con = connect(db, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
