"""Spark plumbing shared by the lake pipeline and the Spark engine: DuckDB SQL on Spark.

Nothing of the costing logic is written twice. `finops.pricing.costing` (pricing, allocation, spend,
totals) runs unchanged against :class:`SparkConnection`, which answers the few calls it makes
of a DuckDB connection (`sql`, `execute`, `register`) with Spark: each SQL text, read from
the same `finops/sql/*.sql` files, is translated from DuckDB's dialect to Spark's by sqlglot,
with its `$name` parameters written in as typed literals (they are dates, numbers and lists
that finops makes, never user text).

Exactness: Spark would round a product of DECIMAL(38,12) values to 6 places by default; every
session finops uses is set not to (`spark.sql.decimalOperations.allowPrecisionLoss=false`), so
every cost keeps the 12 places DuckDB keeps and totals agree to the cent (and beyond).

Needs the `spark` extra (pyspark, sqlglot) and Java 17 or newer.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import warnings
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from finops.core.store import read_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from finops.pricing.contracts import Contracts

__all__ = [
    "SPARK_CONF",
    "SparkConnection",
    "build_rollup",
    "contract_terms",
    "hadoop_fs",
    "join_path",
    "spark_session",
    "to_spark_sql",
]

#: Settings every finops Spark session needs, whatever the cluster.
SPARK_CONF: dict[str, str] = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}


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


# --- paths, local or in object storage ------------------------------------------------------


def join_path(base: str, *parts: str) -> str:
    """`base/part/...`: paths may be URLs (s3a://, abfss://, hdfs://), so '/' and never pathlib."""
    return "/".join([base.rstrip("/"), *parts])


def hadoop_fs(spark: SparkSession, path: str):
    """Hadoop's FileSystem for `path` and the path as Hadoop's `Path` (local or object storage)."""
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


# --- session and data --------------------------------------------------------------------------


def _local_partitions() -> int:
    """Shuffle partitions for a local master: FINOPS_SPARK_PARTITIONS, else 4 per core."""
    value = os.environ.get("FINOPS_SPARK_PARTITIONS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return 4 * (os.cpu_count() or 2)


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
            master = "local[*]"
            builder = builder.master(master).config("spark.ui.enabled", "false")
        if master and master.startswith("local"):
            # Spark's 200 shuffle partitions are sized for a cluster: on one machine each
            # stage then runs 200 tiny tasks (the test lake: 16 s at 200, 8 s at 4). A few
            # per core, split further by adaptive execution where data is skewed
            builder = builder.config("spark.sql.shuffle.partitions", str(_local_partitions()))
            # a local master's Python workers run this interpreter: PySpark's default is the
            # `python3` on PATH, which outside an activated venv lacks polars and finops
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = builder.getOrCreate()
    for key, value in SPARK_CONF.items():
        spark.conf.set(key, value)
    # PySpark warns on pandas 3 at every pandas UDF; the lake's results are checked equal to
    # the local run to the cent (tests/test_lake.py), so the warning is noise to a user
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    return spark


def contract_terms(contracts: Contracts | None):
    """The contract_terms rows finops.pricing.contracts installs, made by the same code in DuckDB."""
    from finops.session.scratch import contract_terms_table

    return contract_terms_table(contracts)


def build_rollup(
    spark: SparkSession,
    thresholds: list[int],
    *,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> DataFrame:
    """Build `daily_usage` from the `usage` view with the store's own rollup SQL; cache it."""
    sql = f"WITH usage_rows AS ({read_sql('usage_rows')}) {read_sql('daily_usage')}"
    # no hour kept: time-of-day rows are priced at the peak rate, as daily rows are
    params = {
        "from_day": from_day,
        "to_day": to_day,
        "thresholds": list(thresholds),
        "hourly_providers": [],
    }
    rollup = spark.sql(to_spark_sql(sql, params)).cache()
    rollup.createOrReplaceTempView("daily_usage")
    return rollup
