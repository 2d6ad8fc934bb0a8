"""Export the store as Parquet: the exchange format between DuckDB and a cluster engine.

    out/
      usage/month=2025-06/data_0.parquet   canonical usage rows, Hive-partitioned by month
      catalog/prices.parquet                catalog_prices, every recorded revision
      catalog/aliases.parquet               catalog_aliases, every recorded revision
      catalog/models.parquet                catalog_models (providers, kinds), every revision
      catalog/revisions.parquet             catalog_revisions
      manifest.json                         what was exported: the catalog revision the export
                                            was made with, its long-context thresholds, counts

Usage keeps the canonical schema of `finops.core.schema` (tags as JSON text); any engine that
reads Parquet with Hive partitioning can read it. `finops.export.spark_engine` runs the costing
pipeline over it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from finops.core.schema import USAGE_COLUMNS

if TYPE_CHECKING:
    from finops.session.session import Session

__all__ = ["EXPORT_FORMAT", "ExportReport", "export_parquet"]

#: Bumped when the layout or a column changes, so a reader can refuse what it cannot read.
EXPORT_FORMAT = 1

_CATALOG_TABLES = {
    "models": "catalog_models",
    "prices": "catalog_prices",
    "aliases": "catalog_aliases",
    "revisions": "catalog_revisions",
}


@dataclass(frozen=True)
class ExportReport:
    out: str
    usage_rows: int
    months: list[str]
    revision_id: int
    thresholds: list[int]
    price_rows: int


def _usage_select() -> str:
    columns = ", ".join(
        f"CAST({c.name} AS VARCHAR) AS {c.name}" if c.sql_type == "JSON" else c.name
        for c in USAGE_COLUMNS
    )
    return f"SELECT {columns}, strftime(period_start, '%Y-%m') AS month FROM usage"


def export_parquet(
    session: Session, out: str | os.PathLike[str], *, overwrite: bool = False
) -> ExportReport:
    """Write usage (by month) and the catalog to `out` as Parquet, with a manifest.

    The manifest holds the session's catalog revision and long-context thresholds: an
    engine reading the export prices at that revision by default and bands prompts by
    those thresholds, as this store does. The export is written beside `out`
    and moved into place when complete, so a reader never sees half an export.
    """
    revision_id, thresholds = session.revision_id, session.catalog.thresholds
    target = Path(out)
    if target.exists() and any(target.iterdir()) and not overwrite:
        msg = f"{target} is not empty: choose another folder, or pass --overwrite to replace it"
        raise FileExistsError(msg)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "catalog").mkdir(parents=True)
    try:
        session.execute(
            f"COPY ({_usage_select()}) TO '{_sql_path(staging / 'usage')}' "
            "(FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)"
        )
        for name, table in _CATALOG_TABLES.items():
            session.execute(
                f"COPY (SELECT * FROM {table}) TO '{_sql_path(staging / 'catalog' / f'{name}.parquet')}' "
                "(FORMAT parquet)"
            )
        usage_rows = session.one("SELECT count(*) FROM usage")[0]
        months = [
            r[0]
            for r in session.rows(
                "SELECT DISTINCT strftime(period_start, '%Y-%m') FROM usage ORDER BY 1"
            )
        ]
        price_rows = session.one(
            "SELECT count(*) FROM catalog_prices WHERE revision_id = $r", {"r": revision_id}
        )[0]
        report = ExportReport(
            out=str(target),
            usage_rows=usage_rows,
            months=months,
            revision_id=revision_id,
            thresholds=list(thresholds),
            price_rows=price_rows,
        )
        manifest = {
            "format": EXPORT_FORMAT,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **asdict(report),
        }
        del manifest["out"]
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _sql_path(path: Path) -> str:
    # COPY takes no parameter for its target: quote the path as a SQL string literal
    return str(path).replace("'", "''")
