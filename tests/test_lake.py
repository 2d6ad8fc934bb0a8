"""`finops lake run` on Spark (local mode) gives what `finops ingest` + `finops spend` give.

The lake is the hand-priced fixture (tests/fixtures/usage/hand_priced.csv, $9.01 in all, worked
out in tests/test_costing.py) written as Parquet, Hive-partitioned by day, plus a re-export
file for 2025-03-20 holding r2 again unchanged (a duplicate) and r5 with 20,000 output tokens
instead of 10,000 (a replacement: the later file wins). By hand: r5 is acme/alpha, standard,
after the 2025-03-15 cut, with a 300,000-token prompt (250,000 input + 50,000 cache read), so
in the long-context band ($6 per Mtok output): the replacement adds 10,000 × $6 / 1M = $0.06,
$9.07 in all, and team ads on 2025-03-20 goes from $0.57 to $0.63.

The independent oracle for every other number is DuckDB: the same files ingested with
`finops ingest` into a store, and `finops spend --by day,team` on it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, HAND_PRICED, PRICING

from finops.ingest import IngestError
from finops.session.session import ingest, open_session

TEAMS = FIXTURES / "teams" / "teams.yaml"
CONTRACTS = FIXTURES / "contracts" / "contracts.yaml"
_COUNTS = (
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "web_search_requests",
)


def _why_no_spark() -> str | None:
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("sqlglot") is None:
        return "the lake pipeline needs pyspark and sqlglot: pip install -e '.[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and os.path.exists(f"{java_home}/bin/java")):
        return "the lake pipeline needs Java 17+: no java on PATH or in JAVA_HOME"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_why_no_spark() is not None, reason=str(_why_no_spark())),
]


@pytest.fixture(scope="module")
def spark():
    from finops.lake.spark import spark_session

    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")  # tiny data: few tasks
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _hand_priced() -> pl.DataFrame:
    """The fixture's rows, typed as a lake would hold them (timestamps in UTC)."""
    frame = pl.read_csv(HAND_PRICED, infer_schema_length=0)
    return frame.with_columns(
        *[
            pl.col(c).str.to_datetime(time_zone="UTC").dt.replace_time_zone(None)
            for c in ("period_start", "period_end")
        ],
        *[pl.col(c).cast(pl.Int64) for c in _COUNTS],
        pl.when(pl.col("long_context").is_null())
        .then(None)
        .otherwise(pl.col("long_context") == "true")
        .alias("long_context"),
    )


def _write(lake: Path, day: str, name: str, rows: pl.DataFrame) -> Path:
    folder = lake / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    rows.write_parquet(folder / name)
    return folder / name


def _make_lake(root: Path) -> Path:
    lake = root / "usage"
    rows = _hand_priced()
    for (day,), part in rows.group_by(pl.col("period_start").dt.date(), maintain_order=True):
        _write(lake, f"{day}", "part-0.parquet", part)
    again = rows.filter(pl.col("request_id").is_in(["r2", "r5"])).with_columns(
        pl.when(pl.col("request_id") == "r5")
        .then(20000)
        .otherwise(pl.col("output_tokens"))
        .alias("output_tokens")
    )
    _write(lake, "2025-03-20", "part-1.parquet", again)
    return lake


def _ingested(lake: Path, db: Path, pricing: Path = PRICING) -> Path:
    """The lake's files ingested by `finops ingest`, in the lake's path order, into `db`."""
    flat = db.parent / f"{db.stem}-files"
    flat.mkdir()
    for file in sorted(lake.rglob("*.parquet")):
        shutil.copy(file, flat / f"{file.parent.name}__{file.name}")
    with open_session(db, pricing) as s:
        ingest(s, [flat])
    return db


def _duckdb_spend(db: Path, pricing: Path = PRICING) -> list[dict]:
    with open_session(db, pricing, TEAMS, CONTRACTS, read_only=True) as s:
        return s.spend(["day", "team"]).to_dicts()


def _lake_spend(out: Path) -> list[dict]:
    frame = pl.read_parquet(out / "spend" / "*" / "*.parquet", hive_partitioning=True)
    return frame.drop("month").sort("day", "team").to_dicts()


def _run(spark, lake: Path, out: Path, pricing: Path = PRICING, since: dt.date | None = None):
    from finops.lake.run import run_lake
    from finops.lake.source import LakeInput
    from finops.pricing.allocation import load_allocation
    from finops.pricing.contracts import load_contracts

    return run_lake(
        spark,
        LakeInput(str(lake)),
        str(out),
        pricing=str(pricing),
        allocation=load_allocation(TEAMS),
        contracts=load_contracts(CONTRACTS),
        since=since,
    )


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*.parquet")}


@pytest.fixture(scope="module")
def lake_run(spark, tmp_path_factory):
    """One lake and its first run, shared by the tests below (they run in this order)."""
    root = tmp_path_factory.mktemp("lake")
    pricing = root / "pricing"
    shutil.copytree(PRICING, pricing)
    lake, out = _make_lake(root), root / "out"
    return root, lake, out, pricing, _run(spark, lake, out, pricing)


def test_lake_run_equals_ingest_and_spend_and_attaches_into_a_store(lake_run, tmp_path):
    from finops.cli import main

    _root, lake, out, _pricing, report = lake_run
    assert report.partitions_read == ["2025-03-10", "2025-03-12", "2025-03-20", "2025-03-21"]
    assert report.usage_rows == 10  # r2 once (a duplicate), r5 once (replaced)
    assert report.cost_usd == Decimal("9.07")
    assert report.unpriced_rows == 2

    db = _ingested(lake, tmp_path / "ingested.duckdb")
    expected = _duckdb_spend(db)
    assert _lake_spend(out) == expected  # every day × team, every measure, to 1e-12 USD
    ads_20 = next(r for r in expected if r["team"] == "ads" and r["day"] == dt.date(2025, 3, 20))
    assert ads_20["cost_usd"] == Decimal("0.63")
    assert sum(r["cost_usd"] or 0 for r in expected) == Decimal("9.07")

    # the rollup is the store's rollup, row for row
    keys = ["day", "provider", "model", "service_tier", "prompt_band", "team", "tags"]
    lake_rollup = pl.read_parquet(out / "rollup" / "*" / "*.parquet", hive_partitioning=True)
    with open_session(db, PRICING, read_only=True) as s:
        store_rollup = s.con.sql("SELECT * FROM daily_usage").pl()
    cols = [c for c in store_rollup.columns]
    assert (
        lake_rollup.select(cols).cast(store_rollup.schema).sort(keys).to_dicts()
        == store_rollup.sort(keys).to_dicts()
    )
    unpriced = pl.read_parquet(out / "unpriced" / "*" / "*.parquet", hive_partitioning=True)
    assert sorted(unpriced.select("model", "reason", "rows", "tokens").rows()) == [
        ("alpha", "no priority price in force that day", 1, 2000),  # r8: alpha has no
        ("mystery", "unknown model", 1, 1500),  # priority rate after the cut; r7: unknown
    ]
    state = json.loads((out / "_finops_lake.json").read_text())
    prices = pl.read_parquet(out / "catalog" / "prices" / "*" / "*.parquet", hive_partitioning=True)
    assert prices["content_hash"].unique().to_list() == [state["catalog_hash"]]

    # attach the rollup into an empty store: `finops spend` there equals the ingested store
    runner = CliRunner()
    attached_db = tmp_path / "attached.duckdb"
    common = ["--db", str(attached_db), "--pricing", str(PRICING)]
    done = runner.invoke(main, ["lake", "attach", "--rollup", str(out), *common])
    assert done.exit_code == 0, done.output
    assert (
        "attached 10 rollup rows (10 usage rows, 4 days: 2025-03-10 .. 2025-03-21)" in done.output
    )
    spent = runner.invoke(
        main,
        [
            "spend",
            "--by",
            "day,team",
            "--format",
            "json",
            "--teams",
            str(TEAMS),
            "--contracts",
            str(CONTRACTS),
            *common,
        ],
    )
    assert spent.exit_code == 0, spent.output
    rows = json.loads(spent.output, parse_float=Decimal)
    assert [(r["day"], r["team"], r["cost_usd"]) for r in rows] == [
        (f"{r['day']}", r["team"], r["cost_usd"]) for r in expected
    ]
    with open_session(attached_db, PRICING, read_only=True) as s:
        from finops.views.overview import build_overview

        overview = build_overview(s, project=False)
    assert overview.source.startswith(
        "Data source: 10 usage rows from 10 Mar 2025 to 21 Mar 2025 were rolled up on Spark"
    )
    # the attached days cannot be rebuilt from request rows: an upload on them is refused
    refused = runner.invoke(main, ["ingest", str(HAND_PRICED), *common])
    assert refused.exit_code == 1
    assert "hold a rollup attached from the lake" in refused.output


def test_a_rerun_changes_nothing_and_late_data_rewrites_only_its_days(spark, lake_run, tmp_path):
    _root, lake, out, pricing, _report = lake_run
    before = _files(out)
    again = _run(spark, lake, out, pricing)
    assert again.partitions_read == [] and again.days_written == []
    assert {k: v for k, v in _files(out).items() if "catalog" not in k} == {
        k: v for k, v in before.items() if "catalog" not in k
    }

    # late data: one more request on 2025-03-12, and a new day 2025-03-25
    late = _hand_priced().filter(pl.col("request_id") == "r1")
    _write(
        lake,
        "2025-03-12",
        "part-late.parquet",
        late.with_columns(
            pl.lit(dt.datetime(2025, 3, 12, 18)).alias("period_start"),
            pl.lit("r9").alias("request_id"),
        ),
    )
    _write(
        lake,
        "2025-03-25",
        "part-0.parquet",
        late.with_columns(
            pl.lit(dt.datetime(2025, 3, 25, 8)).alias("period_start"),
            pl.lit("r10").alias("request_id"),
        ),
    )
    # --since 2025-03-20 looks only at partitions from that day: the new day, not the late one
    recent = _run(spark, lake, out, pricing, since=dt.date(2025, 3, 20))
    assert recent.partitions_read == ["2025-03-25"]
    assert recent.days_written == [dt.date(2025, 3, 25)]
    third = _run(spark, lake, out, pricing)
    assert third.partitions_read == ["2025-03-12"]
    assert third.days_written == [dt.date(2025, 3, 12)]
    after = _files(out)
    untouched = [k for k in before if k.startswith("rollup/day=2025-03-2") or "03-10" in k]
    assert untouched and all(after[k] == before[k] for k in untouched)
    db = _ingested(lake, tmp_path / "ingested.duckdb", pricing)
    assert _lake_spend(out) == _duckdb_spend(db, pricing)


def test_a_catalog_change_reprices_only_the_days_it_touches(spark, lake_run, tmp_path):
    """The price cut moves from 2025-03-15 to 2025-03-21: of the lake's days (10, 12, 20, 21, 25
    March) only the 20th has alpha usage between the old and the new date."""
    _root, lake, out, pricing, _report = lake_run
    before = _files(out)
    acme = pricing / "acme.yaml"
    acme.write_text(acme.read_text().replace("valid_from: 2025-03-15", "valid_from: 2025-03-21"))
    report = _run(spark, lake, out, pricing)
    assert report.partitions_read == []
    assert report.days_repriced == [dt.date(2025, 3, 20)]
    after = _files(out)
    for day in ("2025-03-10", "2025-03-12", "2025-03-21", "2025-03-25"):
        kept = [k for k in before if k.startswith(f"rollup/day={day}")]
        assert kept and all(after[k] == before[k] for k in kept), day
    db = _ingested(lake, tmp_path / "ingested.duckdb", pricing)
    assert _lake_spend(out) == _duckdb_spend(db, pricing)


def test_bad_values_are_named_by_file_row_and_field(spark, tmp_path):
    from finops.lake.run import run_lake
    from finops.lake.source import LakeInput

    lake = _make_lake(tmp_path)
    bad = _hand_priced().filter(pl.col("request_id") == "r1")
    bad = pl.concat([bad, bad.with_columns(pl.lit(-5, dtype=pl.Int64).alias("output_tokens"))])
    file = _write(lake, "2025-03-10", "part-9.parquet", bad)
    with pytest.raises(IngestError) as caught:
        run_lake(spark, LakeInput(str(lake)), str(tmp_path / "out"), pricing=str(PRICING))
    assert str(caught.value) == (
        f"{file}, row 2, field output_tokens: '-5' is not a count; token and request counts "
        "are whole numbers ≥ 0"
    )
    assert not (tmp_path / "out").exists()  # nothing written
    file.unlink()
    elsewhere = _write(lake, "2025-03-11", "part-0.parquet", bad.head(1))
    with pytest.raises(IngestError) as caught:
        run_lake(spark, LakeInput(str(lake)), str(tmp_path / "out"), pricing=str(PRICING))
    assert str(caught.value).startswith(
        f"{elsewhere}, row 1, field period_start: '2025-03-10 09:00:00' is outside its partition"
    )


def test_formulas_are_refused_as_ingest_refuses_them(spark, tmp_path):
    """The lake judges text as `finops ingest` does: the export guard's rule after trimming."""
    from finops.lake.run import run_lake
    from finops.lake.source import LakeInput

    row = _hand_priced().filter(pl.col("request_id") == "r1")
    for k, value in enumerate((" =1+1", "-1+cmd|' /C calc'!A0")):
        lake = _make_lake(tmp_path / str(k))
        file = _write(lake, "2025-03-10", "part-9.parquet", row.with_columns(team=pl.lit(value)))
        with pytest.raises(IngestError) as caught:
            run_lake(spark, LakeInput(str(lake)), str(tmp_path / f"out{k}"), pricing=str(PRICING))
        assert str(caught.value).startswith(f"{file}, row 1, field team: {value!r} looks like")


def test_forecasts_on_spark_equal_the_local_run_to_the_cent(spark):
    """Three teams × 120 days (a weekly shape, a trend, seeded noise): the hierarchy forecast
    with every node forecast on a Spark executor equals the local run, reconciliation and
    all, on every day, every node and every bound, to the cent."""
    import numpy as np

    from finops.analysis.forecast.api import forecast_hierarchy
    from finops.lake.forecast import spark_forecast_hierarchy

    rng = np.random.default_rng(19)
    start = dt.date(2025, 1, 1)
    rows = []
    for t, (team, level) in enumerate((("ads", 120.0), ("search", 80.0), ("research", 30.0))):
        for i in range(120):
            weekly = 0.6 if (start + dt.timedelta(days=i)).weekday() >= 5 else 1.0
            value = level * weekly * (1 + 0.002 * i * (t + 1)) + rng.normal(0, level * 0.05)
            rows.append({"day": start + dt.timedelta(days=i), "team": team, "value": value})
    frame = pl.DataFrame(rows)
    options = {"levels_keys": ["team"], "horizon": 14}
    local = forecast_hierarchy(frame, workers=1, **options)
    remote = spark_forecast_hierarchy(spark, frame, **options)
    money = [c for c in local.columns if local.schema[c] == pl.Float64]
    assert len(money) >= 5 and local.height == 4 * 14  # total + 3 teams, 14 days each
    cents = [pl.col(c).round(2) for c in money]
    assert remote.with_columns(cents).to_dicts() == local.with_columns(cents).to_dicts()
    total = local.filter(pl.col("level") == "total")["mean"].sum()
    teams = local.filter(pl.col("level") == "team")["mean"].sum()
    assert abs(total - teams) < 1e-6  # reconciled: the teams add up to the total


def test_a_column_mapping_reads_the_lake_as_ingest_reads_the_csv(spark, tmp_path):
    """tests/fixtures/exports/generic_usage.csv as a lake (its text columns as Parquet, by day),
    read through its mapping: the rollup equals `finops ingest --mapping` of the CSV, tags
    text included. By hand, row 1: 1,000 prompt tokens include 400 cached, so 600 uncached
    input; its Env column becomes the tag {"Env": "prod"}."""
    from finops.ingest.mapping import load_mapping, register_mapping
    from finops.lake.run import ROLLUP_COLUMNS, run_lake
    from finops.lake.source import LakeInput

    exports = FIXTURES / "exports"
    csv = pl.read_csv(exports / "generic_usage.csv", separator=";", infer_schema_length=0)
    lake = tmp_path / "usage"
    for date in csv["Date"].to_list():
        day = dt.datetime.strptime(date, "%m/%d/%Y").date()
        _write(lake, f"{day}", "part-0.parquet", csv.filter(pl.col("Date") == date))
    mapping = exports / "generic_usage_map.yaml"
    out = tmp_path / "out"
    run_lake(spark, LakeInput(str(lake), mapping=load_mapping(mapping)), str(out))
    db = tmp_path / "mapped.duckdb"
    with open_session(db) as s:
        ingest(s, [exports / "generic_usage.csv"], format_name=register_mapping(mapping).name)
        stored = s.con.sql("SELECT * FROM daily_usage ORDER BY day").pl()
    rollup = pl.read_parquet(out / "rollup" / "*" / "*.parquet", hive_partitioning=True)
    rollup = rollup.select(ROLLUP_COLUMNS).cast(stored.select(ROLLUP_COLUMNS).schema).sort("day")
    assert rollup.to_dicts() == stored.select(ROLLUP_COLUMNS).to_dicts()
    first = rollup.row(0, named=True)
    assert (first["input_tokens"], first["cache_read_tokens"], first["tags"]) == (
        600,
        400,
        '{"Env": "prod"}',
    )


def test_a_local_master_shuffles_into_a_few_partitions_per_core(monkeypatch):
    """Spark's 200 shuffle partitions are a cluster's; on one machine 4 per core, or
    FINOPS_SPARK_PARTITIONS."""
    from finops.lake.spark import _local_partitions

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.delenv("FINOPS_SPARK_PARTITIONS", raising=False)
    assert _local_partitions() == 8
    monkeypatch.setenv("FINOPS_SPARK_PARTITIONS", "3")
    assert _local_partitions() == 3
    monkeypatch.setenv("FINOPS_SPARK_PARTITIONS", "lots")
    assert _local_partitions() == 8


@pytest.mark.parametrize("table_format", ["delta", "iceberg"])
def test_a_table_source_is_read_through_its_format_and_since_recomputes_from_a_day(
    spark, tmp_path, monkeypatch, table_format
):
    """Delta and Iceberg tables are read with `spark.read.format(...)`, without a file listing:
    every run reads the table, from `--since` on, and a table partitioned by day keeps its
    `day` column out of the usage (as a Parquet lake's `day=` folders). Their Spark connectors
    are jars this machine cannot fetch (no network at run time), so Spark's parquet reader
    stands in for "delta" here: everything finops does with a table — the read, the partition
    column, the day filter — runs as it would on Delta, and must equal `finops ingest` +
    `finops spend` to the cent."""
    from pyspark.sql import DataFrameReader
    from pyspark.sql import functions as F

    from finops.lake.run import run_lake
    from finops.lake.source import LakeInput
    from finops.pricing.allocation import load_allocation
    from finops.pricing.contracts import load_contracts

    asked = []
    original = DataFrameReader.format

    class IcebergLike:
        """Parquet read as an Iceberg table shows it: a row's file and 0-based place in it
        are `_file` and `_pos`, and there is no `_metadata`."""

        def __init__(self, reader):
            self.reader = reader

        def load(self, location):
            frame = original(self.reader, "parquet").load(location)
            return frame.select(
                "*",
                F.col("_metadata.file_path").alias("_file"),
                F.col("_metadata.row_index").alias("_pos"),
            )

    def stand_in(self, source):
        asked.append(source)
        if source == "iceberg":
            return IcebergLike(self)
        return original(self, "parquet" if source == "delta" else source)

    monkeypatch.setattr(DataFrameReader, "format", stand_in)
    lake, out = _make_lake(tmp_path), tmp_path / "out"

    def run(since=None):
        return run_lake(
            spark,
            LakeInput(str(lake), table_format),
            str(out),
            pricing=str(PRICING),
            allocation=load_allocation(TEAMS),
            contracts=load_contracts(CONTRACTS),
            since=since,
        )

    first = run()
    assert table_format in asked
    assert first.partitions_read == ["*"]  # the whole table: there are no files to list
    db = _ingested(lake, tmp_path / "ingested.duckdb")
    assert _lake_spend(out) == _duckdb_spend(db)
    before = _files(out)
    # --since 2025-03-20: the table's days from then on (the 20th and 21st) are read and
    # written again; the earlier days' output is left as it was; the spend is the same
    again = run(since=dt.date(2025, 3, 20))
    assert again.partitions_read == ["*"]
    assert again.days_written == [dt.date(2025, 3, 20), dt.date(2025, 3, 21)]
    after = _files(out)
    for day in ("2025-03-10", "2025-03-12"):
        kept = [k for k in before if k.startswith(f"rollup/day={day}")]
        assert kept and all(after[k] == before[k] for k in kept), day
    assert _lake_spend(out) == _duckdb_spend(db)
