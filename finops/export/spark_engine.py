"""The costing pipeline on Apache Spark, over a Parquet export, with the same logic as DuckDB.

Nothing of the costing logic is written twice. `finops.pricing.costing` (pricing, allocation, spend,
totals) runs unchanged against :class:`SparkConnection`, which answers the few calls it makes
of a DuckDB connection (`sql`, `execute`, `register`) with Spark: each SQL text, read from
the same `finops/sql/*.sql` files, is translated from DuckDB's dialect to Spark's by sqlglot,
with its `$name` parameters written in as typed literals (they are dates, numbers and lists
that finops makes, never user text). The daily rollup is built on Spark from the same
`usage_rows.sql` and `daily_usage.sql` as the store's.

Exactness: Spark would round a product of DECIMAL(38,12) values to 6 places by default; the
session is set not to (`spark.sql.decimalOperations.allowPrecisionLoss=false`), so every cost
keeps the 12 places DuckDB keeps and totals agree to the cent (and beyond).

    from finops.export.spark_engine import spark_spend
    result = spark_spend("s3a://bucket/finops-export", by=["month", "team"])

Needs the `spark` extra (pyspark, sqlglot) and Java 17 or newer.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from finops.core.store import read_sql
from finops.pricing import costing

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

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

#: Settings every finops Spark session needs, whatever the cluster.
SPARK_CONF: dict[str, str] = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
_EXPORT_FORMAT = 1


# --- SQL: DuckDB dialect with $parameters → Spark SQL ------------------------------------------


@functools.lru_cache(maxsize=256)
def _parse(sql: str):
    import sqlglot

    return sqlglot.parse_one(sql, read="duckdb")


def _literal(value: Any):
    from sqlglot import exp

    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, Decimal)):
        return exp.Literal.number(str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v) for v in value])
    msg = f"cannot pass a {type(value).__name__} to Spark SQL"
    raise TypeError(msg)


def to_spark_sql(sql: str, params: dict[str, Any] | None = None) -> str:
    """Spark SQL for a DuckDB query, its `$name` parameters written in as literals.

    >>> to_spark_sql("SELECT list_max(CAST($t AS BIGINT[])) AS m", {"t": [1, 2]})
    'SELECT ARRAY_MAX(CAST(ARRAY(1, 2) AS ARRAY<BIGINT>)) AS m'
    """
    from sqlglot import exp

    params = params or {}

    def substitute(node):
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in params:
                msg = f"no value for the SQL parameter ${node.name}"
                raise KeyError(msg)
            return _literal(params[node.name])
        return node

    tree = _parse(sql).copy().transform(substitute)
    return tree.sql(dialect="spark", comments=False)


# --- a DuckDB-shaped connection answered by Spark ----------------------------------------------


class _Result:
    def __init__(self, frame: DataFrame) -> None:
        self._frame = frame
        self._rows: list[tuple] | None = None

    def pl(self) -> pl.DataFrame:
        return pl.from_arrow(self._frame.toArrow())

    def arrow(self):
        return self._frame.toArrow()

    def fetchall(self) -> list[tuple]:
        if self._rows is None:
            self._rows = [tuple(r) for r in self._frame.collect()]
        return self._rows

    def fetchmany(self, size: int = 1) -> list[tuple]:
        return self.fetchall()[:size]


class SparkConnection:
    """What `finops.pricing.costing` asks of a DuckDB connection, answered by a Spark session.

    Relations are Spark temporary views named like the store's tables: `usage`,
    `daily_usage`, `catalog_prices`, `catalog_aliases`, `catalog_revisions`, `contract_terms`.
    """

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def sql(self, query: str, params: dict[str, Any] | None = None) -> _Result:
        return _Result(self.spark.sql(to_spark_sql(query, params)))

    def execute(self, query: str, params: dict[str, Any] | None = None) -> _Result:
        return self.sql(query, params)

    def register(self, name: str, table) -> None:
        """A temporary view of an Arrow table (or polars frame), like DuckDB's `register`."""
        import pyarrow as pa

        if isinstance(table, pl.DataFrame):
            table = table.to_arrow()
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        # Spark cannot type an all-NULL column: such key columns are text in the store
        fields = [
            pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
        ]
        table = table.cast(pa.schema(fields))
        from pyspark.sql.pandas.types import from_arrow_schema

        rows = [tuple(r.values()) for r in table.to_pylist()]  # small: owner maps, terms
        frame = self.spark.createDataFrame(rows, schema=from_arrow_schema(table.schema))
        frame.createOrReplaceTempView(name)

    def close(self) -> None:
        """Spark sessions outlive a query; stop them with `spark.stop()`."""


# --- session and data --------------------------------------------------------------------------


def spark_session(master: str | None = None, app_name: str = "finops") -> SparkSession:
    """The active Spark session, or a new one: `master`, else env SPARK_MASTER, else local.

    Under `spark-submit` (or any already configured session) the cluster's master and
    settings are kept; only finops' exactness settings (:data:`SPARK_CONF`) are added.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        msg = "the Spark engine needs pyspark: pip install 'finops[spark]' (and Java 17+)"
        raise RuntimeError(msg) from exc
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        spark = active
    else:
        builder = SparkSession.builder.appName(app_name)
        master = master or os.environ.get("SPARK_MASTER")
        if master:
            builder = builder.master(master)
        elif not any(v in os.environ for v in ("PYSPARK_GATEWAY_PORT", "PYSPARK_SUBMIT_ARGS")):
            # not under spark-submit (which sets the gateway) nor given submit arguments
            builder = builder.master("local[*]").config("spark.ui.enabled", "false")
        spark = builder.getOrCreate()
    for key, value in SPARK_CONF.items():
        spark.conf.set(key, value)
    return spark


def _join(base: str, *parts: str) -> str:
    # paths may be URLs (s3a://, abfss://, hdfs://): join with '/', never with pathlib
    return "/".join([base.rstrip("/"), *parts])


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
    from pyspark.sql import functions as F

    data = str(data)
    manifest = spark.read.option("multiLine", "true").json(_join(data, "manifest.json")).first()
    if manifest is None or manifest["format"] != _EXPORT_FORMAT:
        msg = f"{data} is not a finops Parquet export this release reads (finops export parquet)"
        raise ValueError(msg)
    usage = spark.read.option("basePath", _join(data, "usage")).parquet(_join(data, "usage"))
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
        spark.read.parquet(_join(data, "catalog", f"{name}.parquet")).createOrReplaceTempView(table)
    SparkConnection(spark).register("contract_terms", _contract_terms(contracts))
    return manifest.asDict()


def _contract_terms(contracts: Contracts | None):
    """The contract_terms rows finops.pricing.contracts installs, made by the same code in DuckDB."""
    import duckdb

    from finops.pricing.contracts import install_contracts

    con = duckdb.connect()
    try:
        con.execute(read_sql("contract_terms"))
        install_contracts(con, contracts)
        return con.sql("SELECT * FROM contract_terms").arrow()
    finally:
        con.close()


def build_rollup(
    spark: SparkSession,
    thresholds: list[int],
    *,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> DataFrame:
    """Build `daily_usage` from the `usage` view with the store's own rollup SQL; cache it."""
    sql = f"WITH usage_rows AS ({read_sql('usage_rows')}) {read_sql('daily_usage')}"
    params = {"from_day": from_day, "to_day": to_day, "thresholds": list(thresholds)}
    rollup = spark.sql(to_spark_sql(sql, params)).cache()
    rollup.createOrReplaceTempView("daily_usage")
    return rollup


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
    from finops.pricing.catalog import resolve_revision

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
