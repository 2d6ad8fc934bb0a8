"""Ingest core: staged rows → validated canonical usage, merged idempotently, in one transaction.

A source format only has to *stage* a file: create a temp table whose columns are canonical
import columns (text or typed; absent ones are NULL), plus `source_row`, and optionally
`grain` and `natural_key` (a string that identifies the same usage across re-exports). The core
validates every value, names the file, row and field of the first problem, computes row keys,
and merges: new rows are added, identical ones skipped, changed ones replaced.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from finops.core.schema import SERVICE_TIERS, TOKEN_CLASSES, USAGE_COLUMNS
from finops.core.store import fetch_one, transaction
from finops.pricing.costing import refresh_daily_usage

__all__ = [
    "FileReport",
    "IngestError",
    "IngestReport",
    "Sniff",
    "SourceFormat",
    "detect_format",
    "formats",
    "ingest_files",
    "register_format",
]

_COUNT_COLUMNS = (
    "requests",
    *(f"{c}_tokens" for c in TOKEN_CLASSES),
    "reasoning_tokens",
    "web_search_requests",
)
_TEXT_COLUMNS = ("provider", "model", "project_id", "api_key_id", "user_id", "team", "request_id")
_SNIFF_BYTES = 64 * 1024


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
        except ValueError:
            first_line = stripped.split("\n", 1)[0]
            try:
                json_head = json.loads(first_line)
            except ValueError:
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
    if sniff.csv_header:
        hint = f" (columns: {', '.join(sniff.csv_header[:8])}{', ...' if len(sniff.csv_header) > 8 else ''})"
    msg = (
        f"unrecognised format{hint}. Supported: {', '.join(f.name for f in _FORMATS)}. "
        "For another CSV, write a column mapping and use --mapping"
    )
    raise IngestError(str(path), msg)


# --- validation --------------------------------------------------------------------------------


def _first_bad(con, table: str, condition: str, select: str) -> tuple | None:
    return fetch_one(
        con,
        f"SELECT source_row, {select} FROM {table} WHERE {condition} ORDER BY source_row LIMIT 1",
    )


def _typed_table(con: duckdb.DuckDBPyConnection, staged: str, typed: str, file: str) -> None:
    """Validate every staged value and write the typed canonical rows to `typed`."""
    present = {r[0] for r in con.execute(f"DESCRIBE {staged}").fetchall()}
    if "source_row" not in present:
        msg = "internal: staged table lacks source_row"
        raise RuntimeError(msg)

    def col(name: str) -> str:
        return f"CAST({name} AS VARCHAR)" if name in present else "CAST(NULL AS VARCHAR)"

    # every check in ONE scan: (field, bad-row condition, message for the offending value)
    checks: list[tuple[str, str, Callable[[str], str]]] = []
    for name in (*_TEXT_COLUMNS, "service_tier"):
        if name in present:
            # a cell that a spreadsheet would run as a formula is refused, not stored
            checks.append(
                (
                    name,
                    f"regexp_matches({col(name)}, '^[=+@\\t\\r]|^-[^0-9.]')",
                    lambda v: (
                        f"{v[:40]!r} looks like a spreadsheet formula; remove the leading "
                        "=, +, - or @ (formula injection is refused)"
                    ),
                )
            )
    for name in ("period_start", "provider", "model"):
        checks.append(
            (name, f"nullif(trim({col(name)}), '') IS NULL", lambda v: "required value is empty")
        )
    for name in ("period_start", "period_end"):
        if name in present:
            checks.append(
                (
                    name,
                    (
                        f"TRY_CAST({col(name)} AS TIMESTAMPTZ) IS NULL "
                        f"AND nullif(trim({col(name)}), '') IS NOT NULL "
                        f"AND TRY_CAST(trim({col(name)}) AS TIMESTAMPTZ) IS NULL"
                    ),
                    lambda v: (
                        f"{v[:40]!r} is not a timestamp; write ISO 8601 such as "
                        "2025-06-10T14:00:00Z (no offset means UTC)"
                    ),
                )
            )
    for name in _COUNT_COLUMNS:
        if name in present:
            value = f"TRY_CAST(trim({col(name)}) AS DECIMAL(38, 6))"
            # fast path: plain digits pass; anything else must be a whole number ≥ 0 (3.0 is,
            # 10.5 is not: a BIGINT cast would round it, so it cannot be the test)
            checks.append(
                (
                    name,
                    (
                        f"NOT coalesce(regexp_full_match({col(name)}, '[0-9]{{1,15}}'), false) "
                        f"AND nullif(trim({col(name)}), '') IS NOT NULL AND ({value} IS NULL "
                        f"OR {value} <> trunc({value}) OR {value} < 0 OR {value} > 9e15)"
                    ),
                    lambda v: (
                        f"{v[:40]!r} is not a count; token and request counts are whole numbers ≥ 0"
                    ),
                )
            )
    if "reported_cost_usd" in present:
        checks.append(
            (
                "reported_cost_usd",
                (
                    f"nullif(trim({col('reported_cost_usd')}), '') IS NOT NULL AND "
                    f"TRY_CAST(trim({col('reported_cost_usd')}) AS DECIMAL(38, 12)) IS NULL"
                ),
                lambda v: f"{v[:40]!r} is not an amount in USD (write 12.34)",
            )
        )
    if "service_tier" in present:
        tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
        checks.append(
            (
                "service_tier",
                (
                    f"nullif(trim({col('service_tier')}), '') IS NOT NULL AND lower(trim("
                    f"{col('service_tier')})) NOT IN ({tiers}, 'default', 'auto', 'scale')"
                ),
                lambda v: f"{v!r} is not a service tier; use one of {', '.join(SERVICE_TIERS)}",
            )
        )
    if "long_context" in present:
        checks.append(
            (
                "long_context",
                (
                    f"nullif(trim({col('long_context')}), '') IS NOT NULL "
                    f"AND TRY_CAST(trim({col('long_context')}) AS BOOLEAN) IS NULL"
                ),
                lambda v: f"{v!r} is not true or false",
            )
        )
    if "tags" in present:
        checks.append(
            (
                "tags",
                (
                    f"nullif(trim({col('tags')}), '') IS NOT NULL AND NOT coalesce("
                    f"json_valid({col('tags')}) AND json_type({col('tags')}) = 'OBJECT', false)"
                ),
                lambda v: f'{v[:40]!r} is not a JSON object (write {{"env": "prod"}})',
            )
        )
    firsts = fetch_one(
        con,
        "SELECT "
        + ", ".join(f"min(source_row) FILTER (WHERE {cond})" for _, cond, _ in checks)
        + f" FROM {staged}",
    )
    failing = [(row, i) for i, row in enumerate(firsts) if row is not None]
    if failing:
        row, i = min(failing)
        name, _cond, message = checks[i]
        value = fetch_one(
            con, f"SELECT {col(name)} FROM {staged} WHERE source_row = $r", {"r": row}
        )[0]
        raise IngestError(file, message(value or ""), row=row, field=name)

    ts = "CAST(TRY_CAST(trim({}) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
    counts = ",\n".join(
        f"CAST(TRY_CAST(nullif(trim({col(n)}), '') AS DECIMAL(38, 6)) AS BIGINT) AS {n}"
        for n in _COUNT_COLUMNS
        if n != "requests"
    )
    texts = ",\n".join(
        f"nullif(trim({col(n)}), '') AS {n}"
        for n in _TEXT_COLUMNS
        if n not in ("provider", "model")
    )
    grain = col("grain") if "grain" in present else "NULL"
    natural_key = col("natural_key") if "natural_key" in present else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {typed} AS
        WITH cast_rows AS (
            SELECT
                {ts.format(col("period_start"))} AS period_start,
                {ts.format(col("period_end"))} AS period_end,
                lower(trim({col("provider")})) AS provider,
                trim({col("model")}) AS model,
                CAST(TRY_CAST(nullif(trim({col("requests")}), '') AS DECIMAL(38, 6)) AS BIGINT)
                    AS requests,
                {counts},
                CASE lower(trim(coalesce({col("service_tier")}, '')))
                    WHEN '' THEN 'standard' WHEN 'default' THEN 'standard'
                    WHEN 'auto' THEN 'standard' WHEN 'scale' THEN 'priority'
                    ELSE lower(trim({col("service_tier")})) END AS service_tier,
                TRY_CAST(nullif(trim({col("long_context")}), '') AS BOOLEAN) AS long_context,
                {texts},
                CAST(nullif(trim({col("tags")}), '') AS JSON) AS tags,
                TRY_CAST(nullif(trim({col("reported_cost_usd")}), '') AS DECIMAL(38, 12))
                    AS reported_cost_usd,
                {grain} AS staged_grain,
                {natural_key} AS natural_key,
                CAST(source_row AS BIGINT) AS source_row
            FROM {staged}
        )
        SELECT
            * EXCLUDE (staged_grain, requests),
            coalesce(staged_grain, CASE WHEN period_end IS NULL THEN 'request' ELSE 'bucket' END)
                AS grain,
            coalesce(requests, CASE WHEN period_end IS NULL THEN 1 END) AS requests
        FROM cast_rows
    """)
    bad = _first_bad(
        con,
        typed,
        "period_end IS NOT NULL AND period_end < period_start",
        "CAST(period_end AS VARCHAR)",
    )
    if bad:
        raise IngestError(file, "period_end is before period_start", row=bad[0], field="period_end")


# --- merging -----------------------------------------------------------------------------------

_MEASURES = (*_COUNT_COLUMNS, "reported_cost_usd")
# 64-bit hash of every measure: compared only between rows whose natural keys already match
_MEASURE_HASH_SQL = "hash({})".format(", ".join(_MEASURES))
_KEYED_MEASURE_HASH_SQL = "hash({})".format(", ".join(f"k.{m}" for m in _MEASURES))
_DIMENSIONS = (
    "provider",
    "model",
    "service_tier",
    "long_context",
    "project_id",
    "api_key_id",
    "user_id",
    "team",
    "tags",
)


def _keyed_table(con, typed: str, keyed: str, source_kind: str) -> None:
    """Give every row its natural key; identical rows in one file are numbered apart."""
    dims = ", ".join(f"coalesce(CAST({d} AS VARCHAR), '\\N')" for d in _DIMENSIONS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {keyed} AS
        WITH based AS (
            SELECT
                *,
                CASE
                    WHEN request_id IS NOT NULL THEN concat_ws('|', 'request', provider, request_id)
                    WHEN natural_key IS NOT NULL THEN concat_ws('|', 'natural', natural_key)
                    ELSE concat_ws('|', 'dims', CAST(period_start AS VARCHAR),
                                   coalesce(CAST(period_end AS VARCHAR), '\\N'), {dims})
                END AS key_basis
            FROM {typed}
        ),
        repeated AS (
            SELECT key_basis FROM based GROUP BY key_basis HAVING count(*) > 1
        )
        -- most keys are unique in a file: only repeated ones need numbering (#1, #2, ...)
        SELECT * EXCLUDE (key_basis, natural_key), md5(key_basis || '#1') AS row_key
        FROM based ANTI JOIN repeated USING (key_basis)
        UNION ALL BY NAME
        SELECT
            * EXCLUDE (key_basis, natural_key),
            md5(key_basis || '#' || CAST(
                row_number() OVER (PARTITION BY key_basis ORDER BY source_row) AS VARCHAR)
            ) AS row_key
        FROM based SEMI JOIN repeated USING (key_basis)
    """)


def _merge(
    con, keyed: str, ingest_id: int, source_kind: str, file: str, target: str = "usage"
) -> FileReport:
    """Merge keyed rows into `target` (usage, or reported_costs for cost data sets)."""
    report = FileReport(file=file, format=source_kind)
    span = fetch_one(con, f"SELECT count(*), min(period_start), max(period_start) FROM {keyed}")
    report.rows_read = span[0]
    if not span[0]:
        return report
    # compare with stored rows of the same time span only: keys include the period start
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE merge_plan AS
        WITH stored AS (
            SELECT row_key, {_MEASURE_HASH_SQL} AS measure_hash
            FROM {target}
            WHERE period_start BETWEEN $lo AND $hi
              AND row_key IN (SELECT row_key FROM {keyed})
        )
        SELECT
            k.row_key,
            CASE
                WHEN s.row_key IS NULL THEN 'new'
                WHEN s.measure_hash = {_KEYED_MEASURE_HASH_SQL} THEN 'duplicate'
                ELSE 'replaced'
            END AS outcome
        FROM {keyed} AS k
        LEFT JOIN stored AS s USING (row_key)
    """,
        {"lo": span[1], "hi": span[2]},
    )
    counts = dict(con.execute("SELECT outcome, count(*) FROM merge_plan GROUP BY 1").fetchall())
    report.rows_new = counts.get("new", 0)
    report.rows_duplicate = counts.get("duplicate", 0)
    report.rows_replaced = counts.get("replaced", 0)
    if report.rows_replaced:
        con.execute(
            f"DELETE FROM {target} WHERE period_start BETWEEN $lo AND $hi AND row_key IN "
            "(SELECT row_key FROM merge_plan WHERE outcome = 'replaced')",
            {"lo": span[1], "hi": span[2]},
        )
    usage_cols = [c.name for c in USAGE_COLUMNS]
    select = ", ".join(
        {
            "source_kind": "$kind AS source_kind",
            "source_file": "$file AS source_file",
            "ingest_id": "$ingest AS ingest_id",
        }.get(c, c)
        for c in usage_cols
    )
    con.execute(
        f"INSERT INTO {target} ({', '.join(usage_cols)}) SELECT {select} FROM {keyed} "
        f"WHERE row_key IN (SELECT row_key FROM merge_plan WHERE outcome <> 'duplicate') "
        f"ORDER BY period_start",
        {"kind": source_kind, "file": file, "ingest": ingest_id},
    )
    days = fetch_one(
        con, f"SELECT CAST(min(period_start) AS DATE), CAST(max(period_start) AS DATE) FROM {keyed}"
    )
    report.first_day, report.last_day = days
    report.models = [
        r[0] for r in con.execute(f"SELECT DISTINCT model FROM {keyed} ORDER BY 1").fetchall()
    ]
    return report


#: progress(file, step, percent): called as each file moves through the steps of an ingest
Progress = Callable[[str, str, float], None]
STEPS = ("reading", "validating", "keying", "merging", "rollup")


@contextmanager
def _watched(con: duckdb.DuckDBPyConnection, progress: Progress | None, file: str, step: str):
    """Report a step, and poll DuckDB's progress on the running statement while it lasts."""
    if progress is None:
        yield
        return
    progress(file, step, 0.0)
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            pct = con.query_progress()
            if pct >= 0:
                progress(file, step, pct)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        progress(file, step, 100.0)


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | Path],
    *,
    thresholds: list[int],
    format_name: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files as ONE upload: all rows of all files, or nothing.

    `thresholds` are the catalog's long-context thresholds (for the daily rollup);
    `progress` hears each file's steps (see :data:`STEPS`) with a percentage.
    """
    files = _expand(paths)
    plans = [(p, detect_format(p, format_name)) for p in files]
    # bounded memory: staging tables spill to disk past this (env FINOPS_INGEST_MEMORY)
    previous_limit = fetch_one(con, "SELECT current_setting('memory_limit')")[0]
    con.execute(f"SET memory_limit = '{_ingest_memory_limit()}'")
    try:
        return _ingest_plans(con, plans, thresholds=thresholds, progress=progress)
    finally:
        con.execute(f"SET memory_limit = '{previous_limit}'")


def _ingest_memory_limit() -> str:
    value = os.environ.get("FINOPS_INGEST_MEMORY", "1GB").strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        msg = f"FINOPS_INGEST_MEMORY={value!r}: write a size such as 1GB or 800MB"
        raise ValueError(msg)
    return value


def _ingest_plans(
    con: duckdb.DuckDBPyConnection,
    plans: list[tuple[Path, SourceFormat]],
    *,
    thresholds: list[int],
    progress: Progress | None,
) -> IngestReport:
    with transaction(con):
        ingest_id = fetch_one(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests")[0]
        reports = []
        lo = hi = None
        for path, fmt in plans:
            name = str(path)
            try:
                with _watched(con, progress, name, "reading"):
                    skipped = fmt.stage(con, path, "staged") or 0
            except IngestError:
                raise
            except zipfile.BadZipFile as exc:
                raise IngestError(name, f"not a readable .zip: {exc}") from None
            except (duckdb.Error, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
                raise IngestError(name, _clean_duckdb_error(exc)) from None
            has_rows = fetch_one(con, "SELECT count(*) FROM staged")[0]
            if not has_rows:
                raise IngestError(name, "the file has no data rows (only a header?)")
            with _watched(con, progress, name, "validating"):
                _typed_table(con, "staged", "typed", name)
            con.execute("DROP TABLE staged")  # free its memory before the next copy
            with _watched(con, progress, name, "keying"):
                _keyed_table(con, "typed", "keyed", fmt.name)
            con.execute("DROP TABLE typed")
            # a cost data set is what the provider billed: kept apart for reconciliation,
            # never added to usage
            target = "reported_costs" if fmt.reports_cost_only else "usage"
            with _watched(con, progress, name, "merging"):
                report = _merge(con, "keyed", ingest_id, fmt.name, name, target)
            report.cost_only = fmt.reports_cost_only
            report.rows_skipped = skipped
            reports.append(report)
            if report.first_day and not fmt.reports_cost_only:
                lo = min(lo or report.first_day, report.first_day)
                hi = max(hi or report.last_day, report.last_day)
        if lo is not None:
            with _watched(con, progress, "all files", "rollup"):
                refresh_daily_usage(con, thresholds, lo, hi + dt.timedelta(days=1))
        con.execute(
            "INSERT INTO ingests VALUES ($id, now()::TIMESTAMP, now()::TIMESTAMP, $kind, $files, "
            "$read, $new, $dup, $rep)",
            {
                "id": ingest_id,
                "kind": ",".join(sorted({f.format for f in reports})),
                "files": [r.file for r in reports],
                "read": sum(r.rows_read for r in reports),
                "new": sum(r.rows_new for r in reports),
                "dup": sum(r.rows_duplicate for r in reports),
                "rep": sum(r.rows_replaced for r in reports),
            },
        )
        for table in ("staged", "typed", "keyed", "merge_plan"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return IngestReport(ingest_id=ingest_id, files=reports)


def _expand(paths: Sequence[str | Path]) -> list[Path]:
    import glob

    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(
                sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith("."))
            )
        elif p.exists():
            out.append(p)
        else:
            matches = sorted(glob.glob(str(raw), recursive=True))
            if not matches:
                raise IngestError(str(raw), "no such file")
            out.extend(Path(m) for m in matches if Path(m).is_file())
    if not out:
        raise IngestError(", ".join(map(str, paths)), "no files to ingest")
    return out


def _clean_duckdb_error(exc: BaseException) -> str:
    text = str(exc).strip()
    # DuckDB prefixes ("Invalid Input Error: ...") add nothing for a user
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: ", "Parser Error: "):
        text = text.removeprefix(prefix)
    return text.split("\n\n")[0].replace("\n", " ")[:500]
