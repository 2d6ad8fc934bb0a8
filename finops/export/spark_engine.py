"""The costing pipeline on Apache Spark, over a Parquet export, with the same logic as DuckDB.

The SQL translation and the DuckDB-shaped connection live in `finops.lake.spark` (the lake
pipeline uses them too); this module reads a `finops export parquet` folder and answers
`finops spark spend` / `finops spend --engine spark` with them.

    from finops.export.spark_engine import spark_spend
    result = spark_spend("s3a://bucket/finops-export", by=["month", "team"])

Needs the `spark` extra (pyspark, sqlglot) and Java 17 or newer.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from finops.lake.spark import (
    SPARK_CONF,
    SparkConnection,
    build_rollup,
    contract_terms,
    join_path,
    spark_session,
    to_spark_sql,
)
from finops.pricing import costing
from finops.pricing.catalog import resolve_revision

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from finops.pricing.allocation import Allocation
    from finops.pricing.contracts import Contracts

__all__ = [
    "SPARK_CONF",
    "SparkConnection",
    "SparkSpend",
    "build_rollup",
    "load_export",
    "spark_session",
    "spark_spend",
    "to_spark_sql",
]

_EXPORT_FORMAT = 1


def _months(from_day: dt.date | None, to_day: dt.date | None) -> tuple[str | None, str | None]:
    first = f"{from_day:%Y-%m}" if from_day else None
    last = f"{(to_day - dt.timedelta(days=1)):%Y-%m}" if to_day else None
    return first, last


def load_export(
    spark: SparkSession,
    data: str | os.PathLike[str],
    *,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
    contracts: Contracts | None = None,
) -> dict[str, Any]:
    """Register an export's relations as Spark views; return its manifest.

    Only the months that [from_day, to_day) touches are read (Hive partition pruning).
    """
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    data = str(data)
    manifest = spark.read.option("multiLine", "true").json(join_path(data, "manifest.json")).first()
    if manifest is None or manifest["format"] != _EXPORT_FORMAT:
        msg = f"{data} is not a finops Parquet export this release reads (finops export parquet)"
        raise ValueError(msg)
    usage = spark.read.option("basePath", join_path(data, "usage")).parquet(
        join_path(data, "usage")
    )
    first, last = _months(from_day, to_day)
    if first:
        usage = usage.where(F.col("month").cast("string") >= first)
    if last:
        usage = usage.where(F.col("month").cast("string") <= last)
    usage.drop("month").createOrReplaceTempView("usage")
    for name, table in (
        ("prices", "catalog_prices"),
        ("aliases", "catalog_aliases"),
        ("revisions", "catalog_revisions"),
    ):
        spark.read.parquet(join_path(data, "catalog", f"{name}.parquet")).createOrReplaceTempView(
            table
        )
    try:
        models = spark.read.parquet(join_path(data, "catalog", "models.parquet"))
    except AnalysisException:  # an export made before models.parquet: every model id is an alias
        models = spark.sql("SELECT DISTINCT revision_id, provider, model_id FROM catalog_aliases")
    models.createOrReplaceTempView("catalog_models")
    SparkConnection(spark).register("contract_terms", contract_terms(contracts))
    return manifest.asDict()


@dataclass(frozen=True)
class SparkSpend:
    frame: pl.DataFrame
    totals: costing.SpendTotals
    revision_id: int


def spark_spend(
    data: str | os.PathLike[str],
    *,
    by: list[str],
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
    revision: str | int | None = None,
    allocation: Allocation | None = None,
    contracts: Contracts | None = None,
    master: str | None = None,
    spark: SparkSession | None = None,
) -> SparkSpend:
    """`costing.spend` and `costing.spend_totals` over a Parquet export, computed by Spark.

    Prices at `revision` (id, label or hash prefix; default: the revision the export was made
    with); days are [from_day, to_day). Same arguments, same frame, same dollars as DuckDB.
    """

    spark = spark or spark_session(master)
    manifest = load_export(spark, data, from_day=from_day, to_day=to_day, contracts=contracts)
    con = SparkConnection(spark)
    revision_id = (
        manifest["revision_id"] if revision is None else resolve_revision(con, revision)  # type: ignore[arg-type]
    )
    rollup = build_rollup(spark, list(manifest["thresholds"]), from_day=from_day, to_day=to_day)
    try:
        frame = costing.spend(
            con,  # type: ignore[arg-type]
            by=by,
            revision_id=revision_id,
            from_day=from_day,
            to_day=to_day,
            allocation=allocation,
        )
        totals = costing.spend_totals(
            con,  # type: ignore[arg-type]
            revision_id=revision_id,
            from_day=from_day,
            to_day=to_day,
        )
    finally:
        rollup.unpersist()
    return SparkSpend(frame=frame, totals=totals, revision_id=revision_id)
