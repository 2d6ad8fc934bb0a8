"""The canonical import format: CSV or Parquet with the columns of `finops.core.schema`.

Optional columns may be absent; unknown columns are refused (a typo would otherwise drop data
silently). See the README for the column list.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb

from finops.core.schema import IMPORT_COLUMNS, REQUIRED_IMPORT_COLUMNS
from finops.ingest._core import IngestError, Sniff, SourceFormat, read_head, register_format
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


def _csv_header(path: Path) -> list[str]:
    """The header of a CSV, read here: DuckDB's dialect sniffer would fail on a bad row
    with a page of text instead of naming it."""
    first = read_head(path).decode("utf-8", errors="replace").lstrip("\ufeff")
    line = first.split("\n", 1)[0].rstrip("\r")
    try:
        return [h.strip() for h in next(csv.reader(io.StringIO(line)))]
    except (csv.Error, StopIteration):
        raise IngestError(str(path), "unreadable CSV header", row=None) from None


def _stage(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    with plain_file(path) as local:
        if _is_parquet(path):
            source = "read_parquet($path, file_row_number = true)"
            params: dict[str, object] = {"path": str(local)}
            columns = [
                r[0]
                for r in con.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()
                if r[0] != "file_row_number"
            ]
            row = "file_row_number + 1"
        else:
            columns = _csv_header(path)
            source = (
                "read_csv($path, columns = $columns, header = true, auto_detect = false, "
                "delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false)"
            )
            params = {"path": str(local), "columns": {c: "VARCHAR" for c in columns}}
            row = "row_number() OVER ()"
        _check_columns(str(path), columns)
        select = ", ".join(f'"{c}" AS {c.lower()}' for c in columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select}, {row} AS source_row "
            f"FROM {source}",
            params,
        )


CANONICAL = register_format(
    SourceFormat(
        name="canonical",
        description="finops canonical usage (CSV or Parquet)",
        detect=_detect,
        stage=_stage,
    )
)
