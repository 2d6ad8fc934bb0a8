"""Ingest core: the format registry, detection, reports and errors every format shares.

A source format only has to *stage* a file: create a temp table whose columns are canonical
import columns (text or typed; absent ones are NULL), plus `source_row`, and optionally
`grain` and `natural_key` (a string that identifies the same usage across re-exports). The
upload (`finops.ingest._upload`) validates every value, names the file, row and field of the
first problem, computes row keys, and merges: new rows are added, identical ones skipped,
changed ones replaced.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from finops.ingest._prepare import Limits

__all__ = [
    "FileReport",
    "IngestError",
    "IngestReport",
    "Limits",
    "Sniff",
    "SourceFormat",
    "account_exports",
    "detect_format",
    "formats",
    "register_format",
]

_SNIFF_BYTES = 64 * 1024
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .()/\-]{0,63}")


class IngestError(ValueError):
    """Bad input, naming the file, row and field, with how to fix it."""

    def __init__(
        self, file: str, problem: str, *, row: int | None = None, field: str | None = None
    ) -> None:
        self.file, self.row, self.field, self.problem = file, row, field, problem
        where = file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field {field}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Sniff:
    """What detection sees of a file: its name, first bytes as text, and a parsed peek."""

    path: Path
    head: str
    csv_header: tuple[str, ...] | None
    json_head: object | None  # first JSON document or JSON-lines record, if it parses

    @property
    def header_set(self) -> frozenset[str]:
        return frozenset(self.csv_header or ())


@dataclass(frozen=True)
class SourceFormat:
    """A source format: how to recognise a file and how to stage it as canonical rows."""

    name: str
    description: str
    detect: Callable[[Sniff], bool]
    # stage(con, file, table name) -> rows it passed over (None = 0)
    stage: Callable[[duckdb.DuckDBPyConnection, Path, str], int | None]
    reports_cost_only: bool = False  # a cost data set: stored in reported_costs, never in usage
    # an account's own export from the provider or the cloud bill (usage API, cost and usage
    # report, FOCUS), named by its family: it holds all of an account's usage of a day, so
    # an export of another family for the same provider, account and day is that usage again
    # (see `_overlap`). One family's formats (a usage API page and the dashboard's CSV of it)
    # share row keys: they meet as duplicates.
    account_export: str = ""


_FORMATS: list[SourceFormat] = []


def register_format(fmt: SourceFormat) -> SourceFormat:
    """Add a format to detection (checked in registration order; canonical first)."""
    if any(f.name == fmt.name for f in _FORMATS):
        msg = f"format {fmt.name!r} is registered twice"
        raise ValueError(msg)
    _FORMATS.append(fmt)
    return fmt


def formats() -> list[SourceFormat]:
    return list(_FORMATS)


def account_exports() -> dict[str, str]:
    """Each format that is an account's own export, by name: its family (`account_export`)."""
    return {f.name: f.account_export for f in _FORMATS if f.account_export}


@dataclass
class FileReport:
    file: str
    format: str
    rows_read: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    rows_replaced: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    models: list[str] = field(default_factory=list)
    cost_only: bool = False  # a cost data set, stored for reconciliation only
    rows_skipped: int = 0  # rows the format passed over (e.g. non-token charges in a bill)


@dataclass
class IngestReport:
    ingest_id: int
    files: list[FileReport]

    @property
    def rows_new(self) -> int:
        return sum(f.rows_new for f in self.files)

    @property
    def rows_duplicate(self) -> int:
        return sum(f.rows_duplicate for f in self.files)

    @property
    def rows_replaced(self) -> int:
        return sum(f.rows_replaced for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_skipped(self) -> int:
        return sum(f.rows_skipped for f in self.files)


# --- reading and detection ---------------------------------------------------------------------


def read_head(path: Path, limit: int = _SNIFF_BYTES) -> bytes:
    """The first bytes of a file, through a .gz or single-member .zip wrapper."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read(limit)
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.namelist() if not m.endswith("/")]
                if len(members) != 1:
                    msg = f"a .zip must hold exactly one file (found {len(members)}); unzip it and ingest the folder"
                    raise IngestError(str(path), msg)
                with zf.open(members[0]) as fh:
                    return fh.read(limit)
        with open(path, "rb") as fh:
            return fh.read(limit)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise IngestError(str(path), f"cannot read the file: {exc}") from None


def _sniff(path: Path) -> Sniff:
    import csv
    import json

    raw = read_head(path)
    if not raw.strip():
        raise IngestError(str(path), "the file is empty")
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    csv_header = None
    json_head = None
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        try:
            json_head = json.loads(stripped)
        except (ValueError, RecursionError):
            first_line = stripped.split("\n", 1)[0]
            try:
                json_head = json.loads(first_line)
            except (ValueError, RecursionError):
                json_head = None
    else:
        first_line = text.split("\n", 1)[0].rstrip("\r")
        try:
            csv_header = tuple(h.strip() for h in next(csv.reader(io.StringIO(first_line))))
        except (csv.Error, StopIteration):
            csv_header = None
    return Sniff(path=path, head=text, csv_header=csv_header, json_head=json_head)


def detect_format(path: Path, name: str | None = None) -> SourceFormat:
    """The format of a file, from its content (or by name when `name` is given)."""
    if name is not None:
        for fmt in _FORMATS:
            if fmt.name == name:
                return fmt
        known = ", ".join(f.name for f in _FORMATS)
        raise IngestError(str(path), f"unknown format {name!r}; known formats: {known}")
    sniff = _sniff(path)
    for fmt in _FORMATS:
        if fmt.detect(sniff):
            return fmt
    hint = ""
    # name the columns only when they look like column names: never echo a file's content
    if sniff.csv_header and all(_COLUMN_NAME.fullmatch(h) for h in sniff.csv_header):
        hint = f" (columns: {', '.join(sniff.csv_header[:8])}{', ...' if len(sniff.csv_header) > 8 else ''})"
    msg = (
        f"unrecognised format{hint}. Supported: {', '.join(f.name for f in _FORMATS)}. "
        "For another CSV, write a column mapping and use --mapping"
    )
    raise IngestError(str(path), msg)


# --- merging -----------------------------------------------------------------------------------

#: progress(file, step, percent): called as each file moves through the steps of an ingest
Progress = Callable[[str, str, float], None]
STEPS = ("reading", "validating", "keying", "merging", "rollup")


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMN_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def duckdb_error(file: str, exc: BaseException) -> IngestError:
    """A reader's error as one line naming the file (and row): never the offending content.

    DuckDB's CSV errors span many lines, quote the row ("Original Line: ...") and suggest
    its own options; a user needs the row and what is wrong with it.
    """
    text = str(exc).strip()
    line = _CSV_LINE.search(text)
    row = int(line.group(1)) - 1 if line else None  # rows are counted after the header
    columns = _COLUMN_COUNT.search(text)
    if columns:
        expected, found = int(columns.group(1)), int(columns.group(2))
        if found > expected:
            extra = found - expected
            problem = (
                f"{extra} extra value{'s' if extra > 1 else ''}: the row has {found} values but "
                f"the header has {expected} columns; quote values that contain commas"
            )
        else:
            problem = (
                f"missing values: the row has {found} values but the header has {expected} columns"
            )
        return IngestError(file, problem, row=row)
    if "unterminated quote" in text:
        return IngestError(file, 'a quoted value is never closed (a " without its pair)', row=row)
    return IngestError(file, _clean_duckdb_error(exc))


def _clean_duckdb_error(exc: BaseException) -> str:
    text = str(exc).strip()
    # DuckDB prefixes ("Invalid Input Error: ...") add nothing for a user
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: ", "Parser Error: "):
        text = text.removeprefix(prefix)
    lines = [
        part.strip()
        for part in text.split("\n\n")[0].splitlines()
        if part.strip() and not part.startswith(("Original Line", "CSV Error on Line"))
    ]
    return " ".join(lines)[:300]
