"""Ingest: detect a file's format, stage it, validate, and merge it into the store atomically."""

from __future__ import annotations

from finops.ingest import canonical as _canonical  # noqa: F401  (registers the format)

# isort: split
# provider formats register themselves after canonical (detection runs in registration order;
# their detectors do not overlap, so their own order does not matter)
from finops.ingest import anthropic as _anthropic  # noqa: F401
from finops.ingest import azure as _azure  # noqa: F401
from finops.ingest import bedrock as _bedrock  # noqa: F401
from finops.ingest import cur as _cur  # noqa: F401
from finops.ingest import focus as _focus  # noqa: F401
from finops.ingest import gcp as _gcp  # noqa: F401
from finops.ingest import langfuse as _langfuse  # noqa: F401
from finops.ingest import litellm as _litellm  # noqa: F401
from finops.ingest import openai as _openai  # noqa: F401
from finops.ingest import otel as _otel  # noqa: F401
from finops.ingest._core import (
    FileReport,
    IngestError,
    IngestReport,
    SourceFormat,
    detect_format,
    formats,
    register_format,
)
from finops.ingest._overlap import REPLACE_OVERLAP_HINT
from finops.ingest._upload import ingest_files

__all__ = [
    "REPLACE_OVERLAP_HINT",
    "FileReport",
    "IngestError",
    "IngestReport",
    "SourceFormat",
    "detect_format",
    "formats",
    "ingest_files",
    "register_format",
]
