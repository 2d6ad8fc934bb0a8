"""The canonical import format: CSV or Parquet with the columns of `finops.core.schema`.

Optional columns may be absent; unknown columns are refused (a typo would otherwise drop data
silently). See the README for the column list.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from finops.core.schema import IMPORT_COLUMNS, REQUIRED_IMPORT_COLUMNS
from finops.ingest._core import IngestError, Sniff, SourceFormat, register_format
from finops.ingest._files import plain_file

__all__ = ["CANONICAL"]

_KNOWN = {c.name for c in IMPORT_COLUMNS}


def _is_parquet(path: Path) -> bool:
    return path.name.lower().removesuffix(".zip").endswith(".parquet")


def _detect(sniff: Sniff) -> bool:
    if _is_parquet(sniff.path):
        try:
            with plain_file(sniff.path) as local:
                con = duckdb.connect()
                try:
                    rows = con.sql(
                        "DESCRIBE SELECT * FROM read_parquet($p)", params={"p": str(local)}
                    ).fetchall()
                finally:
                    con.close()
        except (duckdb.Error, OSError):
            return False
        header = {r[0].lower() for r in rows}
    else:
        header = {h.lower() for h in sniff.header_set}
    return set(REQUIRED_IMPORT_COLUMNS) <= header


def _check_columns(file: str, columns: list[str]) -> None:
    lowered = [c.lower() for c in columns]
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in lowered]
    if missing:
        msg = f"missing required column(s) {', '.join(missing)}"
        raise IngestError(file, msg, row=None, field=missing[0])
    unknown = [c for c in columns if c.lower() not in _KNOWN]
    if unknown:
        msg = (
            f"unknown column {unknown[0]!r}: the canonical format has "
            f"{', '.join(sorted(_KNOWN))}. Rename or drop it, or put it in tags"
        )
        raise IngestError(file, msg, field=unknown[0])
    dupes = {c for c in lowered if lowered.count(c) > 1}
    if dupes:
        raise IngestError(file, f"column {min(dupes)!r} appears twice", field=min(dupes))


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    with plain_file(path) as local:
        if _is_parquet(path):
            source = "read_parquet($path)"
        else:
            source = (
                "read_csv($path, all_varchar = true, header = true, delim = ',', quote = '\"', "
                "escape = '\"', strict_mode = true, null_padding = false)"
            )
        columns = [
            r[0]
            for r in con.execute(
                f"DESCRIBE SELECT * FROM {source}", {"path": str(local)}
            ).fetchall()
        ]
        _check_columns(str(path), columns)
        select = ", ".join(f'"{c}" AS {c.lower()}' for c in columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT {select}, row_number() OVER () AS source_row FROM {source}",
            {"path": str(local)},
        )


CANONICAL = register_format(
    SourceFormat(
        name="canonical",
        description="finops canonical usage (CSV or Parquet)",
        detect=_detect,
        stage=_stage,
    )
)
