"""Adding a day costs time for that day's rows, not for the store; a full rebuild shows progress."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import duckdb
import pytest
from click.testing import CliRunner

from finops.core.store import connect
from finops.pricing import costing
from finops.pricing.rollup import rebuild_rollup
from finops.session.session import ingest, open_session

HEADER = "period_start,provider,model,input_tokens,output_tokens,team,request_id"


def _day_file(path, day: dt.date, rows: int, prefix: str = "req") -> None:
    lines = [HEADER] + [
        f"{day.isoformat()}T{i % 24:02d}:{i % 60:02d}:00Z,acme,alpha,1000,500,search,{prefix}-{day}-{i}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")


def _fill(db, rows: int, pricing) -> None:
    """`rows` request rows over 2025-01-01 .. 2025-03-31 (generated in SQL, then rolled up)."""
    with open_session(db, pricing) as s:
        s.con.execute(
            """
            INSERT INTO usage BY NAME
            SELECT TIMESTAMP '2025-01-01' + to_microseconds(CAST(hash(i) % 7776000000000 AS BIGINT))
                       AS period_start,
                   'acme' AS provider, 'alpha' AS model, 1 AS requests,
                   1000 AS input_tokens, 500 AS output_tokens, 'standard' AS service_tier,
                   'team-' || CAST(i % 7 AS VARCHAR) AS team, 'old-' || CAST(i AS VARCHAR) AS request_id,
                   'request' AS grain, 'canonical' AS source_kind, 'generated' AS source_file,
                   i AS source_row, 0 AS ingest_id, md5(CAST(i AS VARCHAR)) AS row_key
            FROM range($n) AS t(i) ORDER BY period_start
            """,
            {"n": rows},
        )
        s.con.execute("BEGIN TRANSACTION")
        costing.refresh_daily_usage(s.con, s.catalog.thresholds)
        s.con.execute("COMMIT")


def test_adding_a_day_rebuilds_only_that_days_rollup(tmp_path, pricing_dir):
    db = tmp_path / "store.duckdb"
    _fill(db, 20_000, pricing_dir)
    con = duckdb.connect(str(db))
    # mark every rollup row: a refresh of a day replaces that day's rows, marks and all
    con.execute("UPDATE daily_usage SET reasoning_tokens = -1")
    con.close()
    upload = tmp_path / "day.csv"
    _day_file(upload, dt.date(2025, 2, 10), 300)
    with open_session(db, pricing_dir) as s:
        report = ingest(s, [upload])
        refreshed = s.con.execute(
            "SELECT DISTINCT day FROM daily_usage WHERE reasoning_tokens IS DISTINCT FROM -1"
        ).fetchall()
        day_rows = s.con.execute(
            "SELECT sum(usage_rows) FROM daily_usage WHERE day = DATE '2025-02-10'"
        ).fetchall()[0][0]
        stored = s.con.execute(
            "SELECT count(*) FROM usage WHERE CAST(period_start AS DATE) = DATE '2025-02-10'"
        ).fetchall()[0][0]
    assert report.rows_new == 300
    assert refreshed == [(dt.date(2025, 2, 10),)]
    assert day_rows == stored > 300  # the day's old rows and the new ones, rolled up again


@pytest.mark.slow
def test_a_day_costs_the_same_in_a_small_and_a_ten_times_larger_store(tmp_path, pricing_dir):
    timings = {}
    for rows in (100_000, 1_000_000):
        db = tmp_path / f"store-{rows}.duckdb"
        _fill(db, rows, pricing_dir)
        best = []
        for attempt in range(2):  # a new day each time; the better of two (the machine is shared)
            upload = tmp_path / f"day-{rows}-{attempt}.csv"
            _day_file(upload, dt.date(2025, 4, 1) + dt.timedelta(days=attempt), 20_000)
            started = time.perf_counter()
            with open_session(db, pricing_dir) as s:
                assert ingest(s, [upload]).rows_new == 20_000
            best.append(time.perf_counter() - started)
        timings[rows] = min(best)
    # proportional to the store would be 10×; to the new rows, about 1× (noise allowed)
    assert timings[1_000_000] < 2.5 * timings[100_000] + 0.5, timings


def test_a_full_rebuild_reports_progress_month_by_month_and_matches_a_refresh(
    tmp_path, pricing_dir
):
    db = tmp_path / "store.duckdb"
    _fill(db, 30_000, pricing_dir)
    con = connect(db)
    try:
        expected = con.execute("SELECT * FROM daily_usage ORDER BY ALL").fetchall()
        seen = []
        report = rebuild_rollup(
            con,
            [200000],
            progress=lambda month, done, total, secs: seen.append((month, done, total)),
        )
        rebuilt = con.execute("SELECT * FROM daily_usage ORDER BY ALL").fetchall()
        days = [r[0] for r in con.execute("SELECT day FROM daily_usage ORDER BY rowid").fetchall()]
    finally:
        con.close()
    assert seen == [
        (dt.date(2025, 1, 1), 1, 3),
        (dt.date(2025, 2, 1), 2, 3),
        (dt.date(2025, 3, 1), 3, 3),
    ]
    assert rebuilt == expected
    assert (report.months, report.usage_rows, report.rollup_rows) == (3, 30_000, len(expected))
    # months are written in order: a month's dashboard reads a run of the table
    assert [d.month for d in days] == sorted(d.month for d in days)


def test_moving_a_threshold_and_rebuilding_from_the_command_line(loaded):
    from finops.cli import main

    db, pricing = loaded
    acme = pricing / "acme.yaml"
    acme.write_text(acme.read_text().replace("above_tokens: 200000", "above_tokens: 150000"))
    result = CliRunner().invoke(
        main, ["rollup", "rebuild", "--db", str(db), "--pricing", str(pricing)]
    )
    assert result.exit_code == 0, result.output
    assert "rollup rebuilt: 10 usage rows in 1 month → " in result.output
    assert "(long-context thresholds [150000])" in result.output
    with open_session(db, pricing) as s:
        assert costing.rollup_is_current(s.con, s.catalog)
        total = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
    # r1 and r2 (180k prompts) are long-context now: 0.54 → 0.96, 0.27 → 0.48; r4's 200k
    # priority prompt has no long-context priority price and drops out (−0.60, unpriced)
    assert total == Decimal("9.01") + Decimal("0.42") + Decimal("0.21") - Decimal("0.60")
