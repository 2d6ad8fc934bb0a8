"""The costing pipeline on Spark (local mode) gives DuckDB's results, to the cent and beyond.

The store is exported as Parquet (`finops export parquet`), Spark prices the export, and every
frame and total is compared with the same call on the DuckDB store.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from finops.export.parquet import export_parquet
from finops.pricing import costing
from finops.pricing.allocation import load_allocation
from finops.pricing.contracts import load_contracts
from finops.session.session import open_session

TEAMS = FIXTURES / "teams" / "teams.yaml"
CONTRACTS = FIXTURES / "contracts" / "contracts.yaml"


def _why_no_spark() -> str | None:
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("sqlglot") is None:
        return "the Spark engine needs pyspark and sqlglot: pip install -e '.[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and os.path.exists(f"{java_home}/bin/java")):
        return "the Spark engine needs Java 17+: no java on PATH or in JAVA_HOME"
    return None


needs_spark = pytest.mark.skipif(_why_no_spark() is not None, reason=str(_why_no_spark()))


@pytest.fixture(scope="module")
def spark():
    from finops.export.spark_engine import spark_session

    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")  # tiny data: few tasks
    yield session
    session.stop()


@pytest.fixture
def exported(loaded, tmp_path):
    db, pricing = loaded
    out = tmp_path / "export"
    with open_session(db, pricing, read_only=True) as s:
        export_parquet(s, out)
    return db, pricing, out


@needs_spark
def test_spark_prices_the_hand_priced_fixture_exactly_like_duckdb(exported, spark):
    from finops.export.spark_engine import spark_spend

    db, pricing, out = exported
    by = ["day", "provider", "model", "service_tier", "team"]
    result = spark_spend(out, by=by, spark=spark)
    with open_session(db, pricing, read_only=True) as s:
        expected = s.spend(by)
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
    assert result.totals.cost_usd == totals.cost_usd == Decimal("9.01")
    assert result.totals == totals  # unpriced rows and tokens, row count, first and last day
    assert result.frame.schema == expected.schema
    assert result.frame.to_dicts() == expected.to_dicts()


@needs_spark
def test_spark_allocates_and_applies_contracts_like_duckdb(exported, spark):
    from finops.export.spark_engine import spark_spend

    db, pricing, out = exported
    allocation, contracts = load_allocation(TEAMS), load_contracts(CONTRACTS)
    for by in (["month", "team"], ["team", "model"]):
        result = spark_spend(out, by=by, allocation=allocation, contracts=contracts, spark=spark)
        with open_session(db, pricing, TEAMS, CONTRACTS, read_only=True) as s:
            expected = s.spend(by)
        assert result.frame.to_dicts() == expected.to_dicts(), by
    assert sum(result.frame["cost_usd"].drop_nulls()) == Decimal("9.01")
    assert result.totals.effective_cost_usd == Decimal("7.616")


@needs_spark
def test_spark_reads_only_the_days_asked_and_prices_at_an_older_revision(exported, spark):
    from finops.export.spark_engine import spark_spend

    db, pricing, out = exported
    # a second catalog revision: alpha's March price cut is undone
    acme = pricing / "acme.yaml"
    acme.write_text(acme.read_text().replace("valid_from: 2025-03-15", "valid_from: 2025-04-15"))
    later = out.with_name("export-rev2")
    with open_session(db, pricing, read_only=True) as s:
        export_parquet(s, later)
        assert s.revision_id == 2
        days = {"from_day": dt.date(2025, 3, 15), "to_day": dt.date(2025, 3, 21)}
        for revision in (1, 2):
            expected = s.spend(["day", "model"], revision_id=revision, **days)
            result = spark_spend(later, by=["day", "model"], revision=revision, spark=spark, **days)
            assert result.revision_id == revision
            assert result.frame.to_dicts() == expected.to_dicts(), revision
        rev1 = costing.spend_totals(s.con, revision_id=1, **days)
    assert result.totals.cost_usd > rev1.cost_usd  # the undone cut costs more at revision 2


def test_the_export_is_hive_partitioned_by_month_with_a_manifest(exported):
    _db, _pricing, out = exported
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["usage_rows"] == 10
    assert manifest["months"] == ["2025-03"]
    assert manifest["thresholds"] == [200000]
    assert [p.name for p in (out / "usage").iterdir()] == ["month=2025-03"]
    assert sorted(p.name for p in (out / "catalog").iterdir()) == [
        "aliases.parquet",
        "models.parquet",
        "prices.parquet",
        "revisions.parquet",
    ]


@needs_spark
def test_the_commands_export_and_spend_on_spark(loaded, tmp_path, spark):
    from finops.cli import main

    db, pricing = loaded
    out = tmp_path / "exchange"
    runner = CliRunner()
    common = ["--db", str(db), "--pricing", str(pricing)]
    exported = runner.invoke(main, ["export", "parquet", "--out", str(out), *common])
    assert exported.exit_code == 0, exported.output
    assert "10 usage rows in 1 month" in exported.output
    again = runner.invoke(main, ["export", "parquet", "--out", str(out), *common])
    assert again.exit_code == 1 and "--overwrite" in again.output
    spent = runner.invoke(
        main, ["spark", "spend", "--data", str(out), "--by", "team", "--format", "json"]
    )
    assert spent.exit_code == 0, spent.output
    rows = json.loads(spent.output)
    assert sum(Decimal(str(r["cost_usd"])) for r in rows if r["cost_usd"] is not None) == Decimal(
        "9.01"
    )
    table = runner.invoke(main, ["spark", "spend", "--data", str(out), "--by", "month"])
    assert "total: $9.01 list, $9.01 effective" in table.output
    assert "unpriced usage: 2 rows / 3,500 tokens" in table.output
