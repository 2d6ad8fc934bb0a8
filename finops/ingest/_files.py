"""File wrappers: hand readers a plain path, unpacking a single-member .zip to a temp file."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["plain_file"]


@contextmanager
def plain_file(path: Path) -> Iterator[Path]:
    """The file itself (DuckDB reads .gz directly), or a .zip's single member unpacked."""
    if not path.name.lower().endswith(".zip"):
        yield path
        return
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="finops-") as tmp:
        members = [m for m in zf.namelist() if not m.endswith("/")]
        if len(members) != 1:
            from finops.ingest._core import IngestError

            msg = f"a .zip must hold exactly one file (found {len(members)}); unzip it and ingest the folder"
            raise IngestError(str(path), msg)
        target = Path(tmp) / Path(members[0]).name
        with zf.open(members[0]) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        yield target
