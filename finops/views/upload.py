"""Uploads from the app: save the browser's bytes as files, preview them, load them as one upload.

A preview is a dry run: each file is detected, parsed, validated and normalized by the real
ingest into a throw-away scratch store, so the user sees the canonical rows, the date span,
the models (and which the catalog cannot price) and any error — naming the file, row and
field — before anything touches the store. Loading is `finops.session.session.ingest`: one
transaction for all files, all rows or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from finops.ingest import REPLACE_OVERLAP_HINT, IngestError, detect_format
from finops.ingest._core import STEPS, Progress
from finops.pricing.catalog import Catalog
from finops.session.scratch import scratch_session
from finops.session.session import Session, UploadReport, ingest

__all__ = [
    "FilePreview",
    "describe_error",
    "load_files",
    "overall_fraction",
    "preview_file",
    "report_frame",
    "save_uploads",
    "upload_order",
]

_SAMPLE_ROWS = 20
_SAMPLE_COLUMNS = (
    "period_start",
    "provider",
    "model",
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "output_tokens",
    "service_tier",
    "team",
    "project_id",
    "api_key_id",
    "user_id",
    "source_row",
)


@dataclass(frozen=True)
class FilePreview:
    name: str  # as uploaded
    format: str | None = None
    description: str | None = None
    rows: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    models: list[str] = field(default_factory=list)
    unpriced_models: list[str] = field(default_factory=list)
    sample: pl.DataFrame | None = None  # the first canonical rows, as they would be stored
    cost_only: bool = False  # a cost data set: kept to reconcile against, never added to usage
    error: str | None = None  # the ingest's message (file, row, field), when the file is bad

    @property
    def ok(self) -> bool:
        return self.error is None


def save_uploads(files: list[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write (name, bytes) pairs under `folder`, one subfolder each so names never collide."""
    paths = []
    for index, (name, data) in enumerate(files):
        target = folder / str(index) / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        paths.append(target)
    return paths


# what the overlap refusal tells a command-line user, and what the Upload page says instead
REPLACE_CHOICE = "Tick “Replace overlapping days” and load again"


def describe_error(
    exc: IngestError, names: dict[str, str] | None = None, *, replace_hint: str | None = None
) -> str:
    """The ingest error with the uploaded file name in place of the temporary path; with
    `replace_hint`, an overlap refusal names that way to replace instead of the flag.

    >>> exc = IngestError("/tmp/x/a.csv", "counted twice. Ingest again with --replace-overlap to keep")
    >>> describe_error(exc, replace_hint="Load again replacing")
    'a.csv: counted twice. Load again replacing to keep'
    """
    file = (names or {}).get(exc.file) or Path(exc.file).name
    where = file
    if exc.row is not None:
        where += f", row {exc.row}"
    if exc.field is not None:
        where += f", field {exc.field}"
    problem = exc.problem
    if replace_hint:
        problem = problem.replace(REPLACE_OVERLAP_HINT, replace_hint)
    return f"{where}: {problem}"


def _columns(session: Session, table: str) -> set[str]:
    return {r[0] for r in session.rows(f"DESCRIBE {table}")}


def preview_file(path: Path, catalog: Catalog, *, name: str | None = None) -> FilePreview:
    """Dry-run one file through detection and ingest into a scratch store (then deleted)."""
    name = name or path.name
    try:
        fmt = detect_format(path)
    except IngestError as exc:
        return FilePreview(name=name, error=describe_error(exc, {str(path): name}))
    with scratch_session(catalog) as scratch:
        try:
            report = ingest(scratch, [path])
            table = "reported_costs" if report.files[0].cost_only else "usage"
            columns = [c for c in _SAMPLE_COLUMNS if c in _columns(scratch, table)]
            sample = scratch.query(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY source_row "
                f"LIMIT {_SAMPLE_ROWS}",
            )
        except IngestError as exc:
            return FilePreview(
                name=name,
                format=fmt.name,
                description=fmt.description,
                error=describe_error(exc, {str(path): name}),
            )
    file = report.files[0]
    return FilePreview(
        name=name,
        format=fmt.name,
        description=fmt.description,
        rows=file.rows_read,
        first_day=file.first_day,
        last_day=file.last_day,
        models=list(file.models),
        unpriced_models=list(report.unpriced_models),
        sample=sample,
        cost_only=file.cost_only,
    )


def load_files(
    session: Session,
    paths: list[Path],
    *,
    progress: Progress | None = None,
    replace_overlap: bool = False,
) -> UploadReport:
    """Load the files into the store as ONE upload (all rows of all files, or none).

    `progress(file, step, percent)` hears every file's ingest steps. Usage the files would
    count again (another bucket width, another account export) is refused, or with
    `replace_overlap` the stored rows of those days make way for the files'.
    """
    return ingest(
        session, [str(p) for p in paths], progress=progress, replace_overlap=replace_overlap
    )


def overall_fraction(order: dict[str, int], file: str, step: str, percent: float) -> float:
    """Where an upload is, 0..1, from an ingest progress report on one of its files.

    `order` is each file's place in the upload (:func:`upload_order`). A report on work that
    spans the upload (many small files at once, the rollup) counts as the last file's.

    >>> order = upload_order([Path("a.csv"), Path("b.csv")])
    >>> overall_fraction(order, "b.csv", "reading", 0.0), overall_fraction(order, "all files", "rollup", 100.0)
    (0.5, 1.0)
    """
    index = order.get(file, len(order) - 1)
    position = STEPS.index(step) if step in STEPS else 0
    done = index * len(STEPS) + position + min(max(percent, 0.0), 100.0) / 100
    return min(done / (max(len(order), 1) * len(STEPS)), 1.0)


def upload_order(paths: list[Path]) -> dict[str, int]:
    """Each file's place in the upload, by the name ingest reports it under."""
    return {str(path): i for i, path in enumerate(paths)}


def report_frame(report: UploadReport, names: dict[str, str]) -> pl.DataFrame:
    """One row per file: rows read, new, duplicate, replaced, days and models."""
    return pl.DataFrame(
        [
            {
                "file": names.get(f.file, Path(f.file).name),
                "format": f.format,
                "rows read": f.rows_read,
                "new": f.rows_new,
                "duplicate": f.rows_duplicate,
                "replaced": f.rows_replaced,
                "first day": f.first_day,
                "last day": f.last_day,
                "models": ", ".join(f.models),
                "kept for": "reconciliation (a cost data set)"
                if getattr(f, "cost_only", False)
                else "usage",
            }
            for f in report.files
        ]
    )
