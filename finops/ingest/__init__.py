"""Ingest: detect a file's format, stage it, validate, and merge it into the store atomically."""

from __future__ import annotations

from finops.ingest import canonical as _canonical  # noqa: F401  (registers the format)
from finops.ingest._core import (
    FileReport,
    IngestError,
    IngestReport,
    SourceFormat,
    detect_format,
    formats,
    ingest_files,
    register_format,
)

__all__ = [
    "FileReport",
    "IngestError",
    "IngestReport",
    "SourceFormat",
    "detect_format",
    "formats",
    "ingest_files",
    "register_format",
]
