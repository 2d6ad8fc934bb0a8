from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest
from conftest import HAND_PRICED

from finops.core.store import MIGRATIONS, StoreError, connect
from finops.ingest import IngestError
from finops.session.session import ingest, open_session


def _counts(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("usage", "daily_usage", "ingests")
        }
    finally:
        con.close()


def test_reuploading_the_same_file_never_double_counts(loaded):
    db, pricing = loaded
    before = _counts(db)
    with open_session(db, pricing) as s:
        report = ingest(s, [HAND_PRICED])
    assert (report.rows_new, report.rows_duplicate, report.rows_replaced) == (0, 10, 0)
    after = _counts(db)
    assert after["usage"] == before["usage"] == 10
    assert after["daily_usage"] == before["daily_usage"]


def test_a_changed_bucket_replaces_the_old_one(loaded, tmp_path):
    db, pricing = loaded
    text = HAND_PRICED.read_text().replace(
        "2025-03-12T00:00:00Z,2025-03-13T00:00:00Z,beta,beta/small,100,2000000",
        "2025-03-12T00:00:00Z,2025-03-13T00:00:00Z,beta,beta/small,100,4000000",
    )
    revised = tmp_path / "revised.csv"
    revised.write_text(text)
    with open_session(db, pricing) as s:
        report = ingest(s, [revised])
        from finops.pricing import costing

        total = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
    assert (report.rows_new, report.rows_duplicate, report.rows_replaced) == (0, 9, 1)
    # the bucket's input doubled: +2M × $0.15/M = +$0.30 on the hand total of $9.01
    from decimal import Decimal

    assert total == Decimal("9.31")


def test_a_failed_ingest_leaves_the_store_exactly_as_it_was(loaded, tmp_path):
    db, pricing = loaded
    lines = HAND_PRICED.read_text().splitlines()
    lines[3] = lines[3].replace("150000", "15x000")  # row 3 of the data
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    good = tmp_path / "good.csv"
    good.write_text(HAND_PRICED.read_text().replace(",r1\n", ",other-r1\n"))
    before = _counts(db)
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [good, bad])  # one upload: the good file must not land either
    assert str(info.value) == (
        f"{bad}, row 3, field input_tokens: '15x000' is not a count; token and request counts "
        "are whole numbers ≥ 0"
    )
    assert _counts(db) == before


def test_a_store_written_by_one_process_is_read_by_another(loaded):
    db, pricing = loaded
    code = (
        "import sys; from finops.session.session import open_session; from finops.pricing import costing;"
        f"s_cm = open_session({str(db)!r}, {str(pricing)!r}); s = s_cm.__enter__();"
        "print(costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "9.010000000000"


def test_store_is_versioned_and_refuses_a_newer_one(db):
    con = connect(db)
    assert con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] == len(
        MIGRATIONS
    )
    con.execute("INSERT INTO schema_version VALUES (999, 'future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(StoreError, match="newer than this release"):
        connect(db)


def test_reopening_a_store_applies_no_migration_twice(db):
    connect(db).close()
    con = connect(db)
    assert con.execute("SELECT count(*) FROM schema_version").fetchall()[0][0] == len(MIGRATIONS)
    con.close()


def test_a_store_from_an_older_release_is_migrated_forward_with_its_data(loaded, monkeypatch):
    """Stand in for a future release: one more migration than the store was made with."""
    from finops.core import store

    db, _pricing = loaded
    newer = [*store.MIGRATIONS, ("999_test.sql", "ALTER TABLE usage ADD COLUMN region VARCHAR;")]
    monkeypatch.setattr(store, "MIGRATIONS", newer)
    con = connect(db)
    try:
        assert con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] == len(newer)
        assert con.execute("SELECT count(*), count(region) FROM usage").fetchall()[0] == (10, 0)
    finally:
        con.close()
