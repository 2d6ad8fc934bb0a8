"""File wrappers: hand readers a plain path, unpacking a single-member .zip to a temp file.

Compressed files are bounded before anything reads them: a small archive can expand to
gigabytes (a "zip bomb"), so the unpacked size and the compression ratio are capped
(env FINOPS_MAX_UNPACKED_MB, default 10240; FINOPS_MAX_UNPACK_RATIO, default 200).
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from finops.ingest._core import IngestError

__all__ = ["check_unpacked_size", "plain_file"]

_CHUNK = 1 << 20
# below this, any ratio is harmless (a small, very regular CSV compresses far)
_RATIO_FLOOR_BYTES = 64 << 20


def _caps() -> tuple[int, int]:
    try:
        size_mb = int(os.environ.get("FINOPS_MAX_UNPACKED_MB") or 10240)
        ratio = int(os.environ.get("FINOPS_MAX_UNPACK_RATIO") or 200)
    except ValueError:
        msg = "FINOPS_MAX_UNPACKED_MB and FINOPS_MAX_UNPACK_RATIO must be whole numbers"
        raise ValueError(msg) from None
    return size_mb << 20, ratio


def _copy_capped(file: str, src: BinaryIO, dst: BinaryIO | None, packed_bytes: int) -> None:
    """Copy (or just count) unpacked bytes, refusing more than the caps allow."""
    max_bytes, max_ratio = _caps()
    limit = max(min(max_bytes, packed_bytes * max_ratio), min(max_bytes, _RATIO_FLOOR_BYTES))
    total = 0
    while chunk := src.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            msg = (
                f"unpacks to more than {limit >> 20:,} MB (over {max_ratio}× its packed size or "
                f"{max_bytes >> 20:,} MB); unpack it yourself, or raise FINOPS_MAX_UNPACKED_MB / "
                "FINOPS_MAX_UNPACK_RATIO"
            )
            raise IngestError(file, msg)
        if dst is not None:
            dst.write(chunk)


def check_unpacked_size(path: Path) -> None:
    """Refuse a .gz that unpacks beyond the caps (read once, streaming, nothing kept)."""
    if not path.name.lower().endswith(".gz"):
        return
    try:
        with gzip.open(path, "rb") as src:
            _copy_capped(str(path), src, None, path.stat().st_size)
    except (OSError, EOFError, zlib.error) as exc:
        raise IngestError(str(path), f"cannot read the file: {exc}") from None


@contextmanager
def plain_file(path: Path) -> Iterator[Path]:
    """The file itself (DuckDB reads .gz directly), or a .zip's single member unpacked."""
    if not path.name.lower().endswith(".zip"):
        check_unpacked_size(path)
        yield path
        return
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="finops-") as tmp:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) != 1:
            msg = f"a .zip must hold exactly one file (found {len(members)}); unzip it and ingest the folder"
            raise IngestError(str(path), msg)
        target = Path(tmp) / Path(members[0].filename).name
        # the sizes a zip declares can lie: count what actually comes out
        with zf.open(members[0]) as src, open(target, "wb") as dst:
            _copy_capped(str(path), src, dst, max(members[0].compress_size, 1))
        yield target
