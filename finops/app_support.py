"""Streamlit glue shared by the pages: where the store is, and cached library calls.

Results are cached on the store file's modification time, so a new upload shows at once and
the app never holds the store open between reruns (another process may be ingesting).
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from finops.overview import Overview, build_overview
from finops.session import open_session
from finops.store import default_db_path

__all__ = ["store_path", "pricing_path", "store_version", "overview", "money"]


def store_path() -> Path:
    return default_db_path()


def pricing_path() -> str | None:
    return os.environ.get("FINOPS_PRICING") or None


def store_version(db: Path) -> float:
    """Changes whenever the store file (or its WAL) changes: the cache key for results."""
    stamps = [p.stat().st_mtime_ns for p in (db, Path(f"{db}.wal")) if p.exists()]
    return float(max(stamps, default=0))


@st.cache_data(show_spinner="Pricing usage…")
def overview(db: str, pricing: str | None, version: float) -> Overview:
    with open_session(db, pricing) as s:
        return build_overview(s)


def money(value) -> str:
    return "—" if value is None else f"${value:,.2f}"
