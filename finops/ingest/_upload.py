"""One upload: every file staged, validated and keyed, then merged in one transaction.

Small files are prepared before the transaction, many at once (see `PREPARE_AHEAD_BYTES`);
large ones inside it, one by one. A row whose key is stored with the same measures is a
duplicate, with other measures it replaces the stored one, and every other row is new.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import threading
import zipfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from finops.core.schema import COUNT_COLUMNS, USAGE_COLUMNS
from finops.core.store import fetch_one, transaction
from finops.ingest._core import (
    STEPS,
    FileReport,
    IngestError,
    IngestReport,
    Progress,
    SourceFormat,
    account_exports,
    detect_format,
    duckdb_error,
)
from finops.ingest._overlap import WIDTH_SQL, find_overlaps, overlap_message, remove_overlaps
from finops.ingest._prepare import Limits, first_problem, first_problem_by_file, write_keyed
from finops.pricing.costing import refresh_daily_usage

__all__ = ["PREPARE_AHEAD_BYTES", "STEPS", "ingest_files"]


_MEASURES = (*COUNT_COLUMNS, "reported_cost_usd")
# 64-bit hash of every measure: compared only between rows whose natural keys already match
_STORED_HASH_SQL = "hash({})".format(", ".join(f"s.{m}" for m in _MEASURES))
_KEYED_HASH_SQL = "hash({})".format(", ".join(f"k.{m}" for m in _MEASURES))


_USAGE_LIST = ", ".join(c.name for c in USAGE_COLUMNS)


def _usage_select(kind: str, file: str, *, rows: str = "") -> str:
    """The SELECT list writing keyed rows (columns prefixed `rows`) as usage rows: their
    source kind and file from the SQL `kind` and `file`, the upload from $ingest."""
    own = {
        "source_kind": f"{kind} AS source_kind",
        "source_file": f"{file} AS source_file",
        "ingest_id": "$ingest AS ingest_id",
    }
    return ", ".join(own.get(c.name, f"{rows}{c.name}") for c in USAGE_COLUMNS)


def _merge(
    con,
    keyed: str,
    ingest_id: int,
    source_kind: str,
    file: str,
    target: str = "usage",
    *,
    replace_overlap: bool = False,
) -> FileReport:
    """Merge keyed rows into `target` (usage, or reported_costs for cost data sets).

    A row whose key is stored with the same measures is a duplicate (skipped); with other
    measures it is replaced; every other row is new.
    """
    report = FileReport(file=file, format=source_kind)
    # aggregates are one row each: fetchall drains them without fetch_one's extra statement
    span = con.execute(
        "SELECT count(*), min(period_start), max(period_start), CAST(min(period_start) AS DATE), "
        "CAST(max(period_start) AS DATE), count(*) FILTER (WHERE earlier) FROM ("
        f"SELECT period_start, period_start < lag(period_start) OVER () AS earlier FROM {keyed})"
    ).fetchall()[0]
    report.rows_read = span[0]
    if not span[0]:
        return report
    if target == "usage":
        overlaps = find_overlaps(con, keyed, span[1], span[2], source_kind)
        if overlaps and not replace_overlap:
            raise IngestError(file, overlap_message(overlaps[0]))
        report.rows_replaced += remove_overlaps(con, overlaps)
    # compare with stored rows of the same time span only: keys include the period start
    con.execute("DELETE FROM merge_plan")
    con.execute(
        f"""
        INSERT INTO merge_plan
        SELECT s.row_key, {_STORED_HASH_SQL} = {_KEYED_HASH_SQL} AS same
        FROM {target} AS s
        JOIN {keyed} AS k USING (row_key)
        WHERE s.period_start BETWEEN $lo AND $hi
    """,
        {"lo": span[1], "hi": span[2]},
    )
    matched, same = con.execute(
        "SELECT count(*), coalesce(sum(CAST(same AS INTEGER)), 0) FROM merge_plan"
    ).fetchall()[0]
    report.rows_new = report.rows_read - matched
    report.rows_duplicate = same
    report.rows_replaced += matched - same
    if report.rows_replaced:
        con.execute(
            f"DELETE FROM {target} WHERE period_start BETWEEN $lo AND $hi AND row_key IN "
            "(SELECT row_key FROM merge_plan WHERE NOT same)",
            {"lo": span[1], "hi": span[2]},
        )
    rows = keyed
    if same:
        rows = f"(SELECT * FROM {keyed} ANTI JOIN (SELECT row_key FROM merge_plan WHERE same) USING (row_key))"
    # stored in time order, so later scans skip whole blocks by their period_start range;
    # exports mostly come in time order already, and then need no sort
    order = " ORDER BY period_start" if span[5] else ""
    con.execute(
        f"INSERT INTO {target} ({_USAGE_LIST}) SELECT {_usage_select('$kind', '$file')} "
        f"FROM {rows}{order}",
        {"kind": source_kind, "file": file, "ingest": ingest_id},
    )
    report.first_day, report.last_day = span[3], span[4]
    report.models = [
        r[0] for r in con.execute(f"SELECT DISTINCT model FROM {keyed} ORDER BY 1").fetchall()
    ]
    return report


def _merge_together(
    con: duckdb.DuckDBPyConnection,
    plans: list[tuple[Path, SourceFormat]],
    ahead: _Ahead,
    ingest_id: int,
    progress: Progress | None,
) -> list[FileReport] | None:
    """Merge an upload of many small files in one pass, when that equals merging them one
    by one: every file was prepared in the same batch, for the same table, no row key is in
    two files, no provider-day comes at two bucket widths, and none is stored at another.
    Then no file can meet another's rows, and each file's report is its own rows' counts.
    None (nothing written) when a condition fails: the caller merges file by file.
    """
    if len(plans) < 2 or len(ahead.prepared) != 1 or len(ahead.files) != len(plans):
        return None
    if len({fmt.reports_cost_only for _, fmt in plans}) != 1:
        return None
    prepared = ahead.prepared[0]
    target = "reported_costs" if plans[0][1].reports_cost_only else "usage"
    in_two = con.execute(
        f"SELECT count(*) FROM (SELECT row_key FROM {prepared} GROUP BY row_key "
        "HAVING count(DISTINCT upload_file) > 1)"
    ).fetchall()[0][0]
    if in_two:
        return None
    lo, hi = con.execute(f"SELECT min(period_start), max(period_start) FROM {prepared}").fetchall()[
        0
    ]
    if target == "usage":
        mixed = con.execute(
            f"SELECT count(*) FROM (SELECT provider, CAST(period_start AS DATE) FROM {prepared} "
            f"GROUP BY ALL HAVING count(DISTINCT {WIDTH_SQL}) > 1)"
        ).fetchall()[0][0]
        kinds = {fmt.name for _, fmt in plans}
        # two account exports in one upload may hold the same usage: file by file, the
        # second meets the first
        if len(kinds) > 1 and kinds & account_exports().keys():
            return None
        # one format, or formats none of which is an account export (refused above)
        kind = next(iter(kinds)) if len(kinds) == 1 else ""
        if mixed or find_overlaps(con, prepared, lo, hi, kind):
            return None
    label = f"{len(plans):,} small files"
    with _watched(con, progress, label, "merging"):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE merge_plan_files AS
            SELECT k.upload_file, s.row_key, {_STORED_HASH_SQL} = {_KEYED_HASH_SQL} AS same
            FROM {target} AS s
            JOIN {prepared} AS k USING (row_key)
            WHERE s.period_start BETWEEN $lo AND $hi
            """,
            {"lo": lo, "hi": hi},
        )
        con.execute(
            f"DELETE FROM {target} WHERE period_start BETWEEN $lo AND $hi AND row_key IN "
            "(SELECT row_key FROM merge_plan_files WHERE NOT same)",
            {"lo": lo, "hi": hi},
        )
        files = (
            "(SELECT unnest($index) AS upload_file, unnest($kind) AS source_kind, "
            "unnest($file) AS source_file)"
        )
        con.execute(
            f"INSERT INTO {target} ({_USAGE_LIST}) "
            f"SELECT {_usage_select('f.source_kind', 'f.source_file', rows='k.')} "
            f"FROM {prepared} AS k JOIN {files} AS f USING (upload_file) "
            "ANTI JOIN (SELECT row_key FROM merge_plan_files WHERE same) USING (row_key) "
            "ORDER BY k.period_start",
            {
                "ingest": ingest_id,
                "index": list(range(len(plans))),
                "kind": [fmt.name for _, fmt in plans],
                "file": [str(path) for path, _ in plans],
            },
        )
        per_file = con.execute(
            f"""
            SELECT k.upload_file, count(*), CAST(min(k.period_start) AS DATE),
                   CAST(max(k.period_start) AS DATE), list_sort(list(DISTINCT k.model)),
                   any_value(p.matched), any_value(p.same)
            FROM {prepared} AS k
            LEFT JOIN (
                SELECT upload_file, count(*) AS matched, count(*) FILTER (WHERE same) AS same
                FROM merge_plan_files GROUP BY ALL
            ) AS p USING (upload_file)
            GROUP BY k.upload_file
            """
        ).fetchall()
        con.execute("DROP TABLE merge_plan_files")
    reports = []
    found = {row[0]: row for row in per_file}
    for index, (path, fmt) in enumerate(plans):
        _, read, first, last, models, matched, same = found[index]
        matched, same = matched or 0, same or 0
        reports.append(
            FileReport(
                file=str(path),
                format=fmt.name,
                rows_read=read,
                rows_new=read - matched,
                rows_duplicate=same,
                rows_replaced=matched - same,
                first_day=first,
                last_day=last,
                models=list(models),
                cost_only=fmt.reports_cost_only,
                rows_skipped=ahead.skipped[index],
            )
        )
    return reports


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
    hourly_providers: Sequence[str] | None = None,
    format_name: str | None = None,
    progress: Progress | None = None,
    limits: Limits | None = None,
    replace_overlap: bool = False,
) -> IngestReport:
    """Ingest files as ONE upload: all rows of all files, or nothing.

    `thresholds` are the catalog's long-context thresholds and `hourly_providers` the
    providers it prices by hour of day (both shape the daily rollup; the second defaults to
    what the rollup was built with);
    `progress` hears each file's steps (see :data:`STEPS`) with a percentage; `limits`
    bound what a row may hold (default: :meth:`Limits.from_env`). Usage of a provider-day
    already stored at another bucket width is refused, or with `replace_overlap` replaced.
    """
    limits = limits or Limits.from_env()
    files = _expand(paths)
    plans = [(p, detect_format(p, format_name)) for p in files]
    # bounded memory: staging tables spill to disk past this (env FINOPS_INGEST_MEMORY)
    previous_limit = fetch_one(con, "SELECT current_setting('memory_limit')")[0]
    con.execute(f"SET memory_limit = '{_ingest_memory_limit()}'")
    try:
        return _ingest_plans(
            con,
            plans,
            thresholds=thresholds,
            hourly_providers=hourly_providers,
            progress=progress,
            limits=limits,
            replace_overlap=replace_overlap,
        )
    except (duckdb.IOException, OSError) as exc:
        if not any(sign in str(exc) for sign in _DISK_FULL):
            raise
        # the transaction rolled back: nothing of this upload is stored
        msg = (
            "the disk is full (no space left to write the store or its temporary files); "
            "nothing was stored. Free some space, or point FINOPS_TEMP_DIRECTORY at a larger "
            "disk, and ingest again"
        )
        raise IngestError(", ".join(str(p) for p, _ in plans), msg) from None
    finally:
        con.execute(f"SET memory_limit = '{previous_limit}'")


_DISK_FULL = ("No space left on device", "File too large", "Disk quota exceeded")


def _ingest_memory_limit() -> str:
    value = os.environ.get("FINOPS_INGEST_MEMORY", "1GB").strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        msg = f"FINOPS_INGEST_MEMORY={value!r}: write a size such as 1GB or 800MB"
        raise ValueError(msg)
    return value


#: files up to this size on disk are prepared (staged, validated, keyed) before the upload's
#: transaction opens, many at once: DuckDB keeps every table a transaction drops until it
#: commits, so a folder of thousands of small files staged inside it grew without bound
#: (about 80 kB a file), and each file's own statements cost more than its rows
PREPARE_AHEAD_BYTES = 8 << 20


def _stage(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: SourceFormat, progress: Progress | None
) -> int:
    """Stage one file into `staged`: the rows the format skipped (one line when it fails)."""
    name = str(path)
    try:
        with _watched(con, progress, name, "reading"):
            skipped = fmt.stage(con, path, "staged") or 0
    except IngestError:
        raise
    except zipfile.BadZipFile as exc:
        raise IngestError(name, f"not a readable .zip: {exc}") from None
    except RecursionError:
        msg = "values are nested too deeply to be usage (hundreds of levels of [ or {)"
        raise IngestError(name, msg) from None
    except (duckdb.Error, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        raise duckdb_error(name, exc) from None
    has_rows = con.execute("SELECT count(*) FROM staged").fetchall()[0][0]
    if not has_rows:
        raise IngestError(name, "the file has no data rows (only a header?)")
    return skipped


def _prepare(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: SourceFormat,
    limits: Limits,
    progress: Progress | None,
) -> tuple[str, int]:
    """Stage, validate and key one file: (the relation of its keyed rows, rows skipped)."""
    name = str(path)
    skipped = _stage(con, path, fmt, progress)
    with _watched(con, progress, name, "validating"):
        problem = first_problem(con, "staged", limits)
    if problem is not None:
        row, field_name, message = problem
        raise IngestError(name, message, row=row, field=field_name)
    with _watched(con, progress, name, "keying"):
        keyed = write_keyed(con, "staged", "keyed")
    return keyed, skipped


def _drop_prepared(con: duckdb.DuckDBPyConnection, keyed: str) -> None:
    """Free one file's staging tables before the next file is read."""
    if keyed != "keyed":
        con.execute(f"DROP TABLE {keyed}")
    con.execute("DROP TABLE staged")


class _Ahead:
    """Small files prepared before the upload's transaction, many at once.

    Each file is staged alone and its rows appended, tagged with its place in the upload
    (`upload_file`), to one batch table per row shape; outside a transaction its own staging
    table is freed as it is dropped. Each batch is then validated and keyed in one pass (the
    first bad value of the first file that has one is reported; repeated rows are numbered
    per file) and waits in `prepared_<n>` (spilling to disk past the memory limit) until the
    transaction merges it.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.batches: dict[tuple, str] = {}  # staged shape -> batch table
        self.members: dict[str, list[int]] = {}  # batch table -> plan indexes
        self.skipped: dict[int, int] = {}
        self.prepared: list[str] = []  # keyed batch tables
        self.files: dict[int, str] = {}  # plan index -> relation of its keyed rows

    def stage(self, index: int, path: Path, fmt: SourceFormat, progress: Progress | None) -> None:
        self.skipped[index] = _stage(self.con, path, fmt, progress)
        shape = tuple(self.con.execute("DESCRIBE staged").fetchall())
        table = self.batches.get(shape)
        if table is None:
            table = self.batches[shape] = f"staged_batch_{len(self.batches)}"
            self.members[table] = []
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS "
                "SELECT CAST(0 AS INTEGER) AS upload_file, * FROM staged LIMIT 0"
            )
        self.con.execute(f"INSERT INTO {table} SELECT {index}, * FROM staged")
        self.con.execute("DROP TABLE staged")
        self.members[table].append(index)

    def prepare(self, names: list[str], limits: Limits, progress: Progress | None) -> None:
        """Validate and key every batch, first file first."""
        for table, members in sorted(self.members.items(), key=lambda kv: kv[1][0]):
            label = names[members[0]] if len(members) == 1 else f"{len(members):,} small files"
            with _watched(self.con, progress, label, "validating"):
                problem = first_problem_by_file(self.con, table, limits)
            if problem is not None:
                index, row, field_name, message = problem
                raise IngestError(names[index], message, row=row, field=field_name)
            with _watched(self.con, progress, label, "keying"):
                keyed = write_keyed(self.con, table, "keyed")
            prepared = f"prepared_{len(self.prepared)}"
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {prepared} AS SELECT * FROM {keyed}")
            self.prepared.append(prepared)
            if keyed != "keyed":
                self.con.execute(f"DROP TABLE {keyed}")
            self.con.execute("DROP VIEW IF EXISTS keyed")
            self.con.execute(f"DROP TABLE {table}")
            for index in members:
                self.files[index] = (
                    f"(SELECT * EXCLUDE (upload_file) FROM {prepared} WHERE upload_file = {index})"
                )

    def drop(self) -> None:
        for table in [*self.batches.values(), *self.prepared]:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")


def _ingest_plans(
    con: duckdb.DuckDBPyConnection,
    plans: list[tuple[Path, SourceFormat]],
    *,
    thresholds: list[int],
    hourly_providers: Sequence[str] | None,
    progress: Progress | None,
    limits: Limits,
    replace_overlap: bool,
) -> IngestReport:
    """Prepare the small files, then merge every file in upload order in one transaction."""
    ahead = _Ahead(con)
    try:
        for index, (path, fmt) in enumerate(plans):
            if path.stat().st_size <= PREPARE_AHEAD_BYTES:
                ahead.stage(index, path, fmt, progress)
        ahead.prepare([str(p) for p, _ in plans], limits, progress)
        with transaction(con):
            ingest_id = fetch_one(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests")[0]
            reports = _merge_together(con, plans, ahead, ingest_id, progress)
            if reports is None:
                reports = _merge_each(
                    con, plans, ahead, ingest_id, limits, progress, replace_overlap
                )
            days = [(r.first_day, r.last_day) for r in reports if r.first_day and not r.cost_only]
            if days:
                with _watched(con, progress, "all files", "rollup"):
                    refresh_daily_usage(
                        con,
                        thresholds,
                        min(first for first, _ in days),
                        max(last for _, last in days) + dt.timedelta(days=1),
                        hourly_providers=None
                        if hourly_providers is None
                        else list(hourly_providers),
                    )
            con.execute(
                "INSERT INTO ingests VALUES ($id, now()::TIMESTAMP, now()::TIMESTAMP, $kind, "
                "$files, $read, $new, $dup, $rep)",
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
        return IngestReport(ingest_id=ingest_id, files=reports)
    finally:
        ahead.drop()


def _merge_each(
    con: duckdb.DuckDBPyConnection,
    plans: list[tuple[Path, SourceFormat]],
    ahead: _Ahead,
    ingest_id: int,
    limits: Limits,
    progress: Progress | None,
    replace_overlap: bool,
) -> list[FileReport]:
    """Merge file by file, in upload order; large files are prepared here, in the transaction."""
    # one plan table for the whole upload, emptied per file (see PREPARE_AHEAD_BYTES)
    con.execute("CREATE OR REPLACE TEMP TABLE merge_plan (row_key VARCHAR, same BOOLEAN)")
    reports = []
    for index, (path, fmt) in enumerate(plans):
        name = str(path)
        if index in ahead.files:
            keyed, skipped = ahead.files[index], ahead.skipped[index]
        else:
            keyed, skipped = _prepare(con, path, fmt, limits, progress)
        # a cost data set is what the provider billed: kept apart for reconciliation, never
        # added to usage
        target = "reported_costs" if fmt.reports_cost_only else "usage"
        with _watched(con, progress, name, "merging"):
            report = _merge(
                con, keyed, ingest_id, fmt.name, name, target, replace_overlap=replace_overlap
            )
        if index not in ahead.files:
            _drop_prepared(con, keyed)
        report.cost_only = fmt.reports_cost_only
        report.rows_skipped = skipped
        reports.append(report)
    con.execute("DROP VIEW IF EXISTS keyed")
    con.execute("DROP TABLE merge_plan")
    return reports


def _expand(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            root = p.resolve()
            for q in sorted(p.rglob("*")):
                if q.name.startswith(".") or not q.is_file():
                    continue
                # a link out of the folder could read any file this process may read
                if not q.resolve().is_relative_to(root):
                    msg = "a symbolic link to a file outside the folder; copy the file in instead"
                    raise IngestError(str(q), msg)
                out.append(q)
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
