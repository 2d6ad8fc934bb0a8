"""Readers and a writer in separate processes on one store: nothing fails, lost or doubled.

The writer is the real `finops ingest` command, run once per file (and once more on a file
already loaded); the readers are processes that open read-only sessions over and over and
note the totals they see. Every total a reader saw must be one the writer committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import HAND_PRICED, REPO

from finops.core.store import StoreError, connect
from finops.pricing import costing
from finops.session.session import ingest, open_session

FINOPS = Path(sys.executable).with_name("finops")
HEADER = "period_start,provider,model,input_tokens,output_tokens,team,request_id"
READERS = 2
ROW_COST = Decimal("0.003")  # acme alpha after 2025-03-15: 1000 in × $1/M + 500 out × $4/M

READER = r"""
import json, sys, time
from pathlib import Path
from finops.pricing import costing
from finops.session.session import open_session

db, pricing, out, stop = sys.argv[1:5]
with open(out, "w") as fh:
    while True:
        stopping = Path(stop).exists()  # read once more after the writer is done
        try:
            with open_session(db, pricing, read_only=True) as s:
                totals = costing.spend_totals(s.con, revision_id=s.revision_id)
                by_day = s.spend(["day"])
                usage_rows = s.con.execute("SELECT count(*) FROM usage").fetchall()[0][0]
            seen = {
                "usage_rows": usage_rows,
                "rollup_rows": totals.usage_rows,
                "cost_usd": str(totals.cost_usd),
                "by_day_cost_usd": str(sum(by_day["cost_usd"].drop_nulls(), 0)),
            }
        except Exception as exc:  # the test fails on any
            seen = {"error": f"{type(exc).__name__}: {exc}"}
        fh.write(json.dumps(seen) + "\n")
        fh.flush()
        if stopping:
            break
        time.sleep(0.02)
"""


def _write_upload(path: Path, day: int, rows: int) -> None:
    lines = [HEADER] + [
        f"2025-04-{day:02d}T{i % 24:02d}:00:00Z,acme,alpha,1000,500,search,req-{day}-{i}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_readers_see_only_committed_states_while_finops_ingest_runs(tmp_path, pricing_dir):
    db = tmp_path / "store.duckdb"
    with open_session(db, pricing_dir):
        pass  # an empty store, so readers can open it from the start
    sizes = [400, 800, 1200, 1600, 2000, 2400]
    uploads = []
    for day, rows in enumerate(sizes, start=1):
        path = tmp_path / f"usage-2025-04-{day:02d}.csv"
        _write_upload(path, day, rows)
        uploads.append(path)
    # committed states: after k uploads; the last upload repeats one (must change nothing)
    committed = {(0, Decimal(0))}
    total_rows = 0
    for rows in sizes:
        total_rows += rows
        committed.add((total_rows, total_rows * ROW_COST))
    stop = tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(db),
                str(pricing_dir),
                str(tmp_path / f"r{i}"),
                str(stop),
            ],
            env=env,
        )
        for i in range(READERS)
    ]
    try:
        time.sleep(1.5)  # readers are reading the empty store when the writer starts
        for path in [*uploads, uploads[2]]:
            result = subprocess.run(
                [str(FINOPS), "ingest", str(path), "--db", str(db), "--pricing", str(pricing_dir)],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            time.sleep(0.3)
        assert "0 new, 1,200 duplicate" in result.stdout
    finally:
        stop.touch()
        for proc in readers:
            proc.wait(timeout=60)

    seen = [
        json.loads(line)
        for i in range(READERS)
        for line in (tmp_path / f"r{i}").read_text().splitlines()
    ]
    errors = [s["error"] for s in seen if "error" in s]
    assert not errors, errors[:3]
    states = set()
    for s in seen:
        # one committed state per session: the rollup agrees with the rows, spend with totals
        assert s["usage_rows"] == s["rollup_rows"], s
        assert Decimal(s["by_day_cost_usd"]) == Decimal(s["cost_usd"]), s
        states.add((s["usage_rows"], Decimal(s["cost_usd"])))
    assert states <= committed, states - committed
    assert len(states) >= 3, f"readers saw too few states ({states}) to show they ran alongside"
    assert (total_rows, total_rows * ROW_COST) in states  # the final read sees everything
    with open_session(db, pricing_dir, read_only=True) as s:
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
        ingests = s.con.execute("SELECT count(*), sum(rows_new) FROM ingests").fetchall()[0]
    assert (totals.usage_rows, totals.cost_usd) == (total_rows, total_rows * ROW_COST)
    assert ingests == (len(sizes) + 1, total_rows)


def test_a_read_only_session_prices_with_a_catalog_the_store_has_not_recorded(loaded):
    db, pricing = loaded
    yaml_file = pricing / "acme.yaml"
    # a price correction: alpha's output after the March cut goes from $4 to $5 per Mtok
    text = yaml_file.read_text()
    corrected = text.replace(
        "usd_per_mtok: {input: 1, cache_read: 0.1, cache_write_5m: 1.25, cache_write_1h: 2, output: 4}",
        "usd_per_mtok: {input: 1, cache_read: 0.1, cache_write_5m: 1.25, cache_write_1h: 2, output: 5}",
    )
    assert corrected != text
    yaml_file.write_text(corrected)
    with open_session(db, pricing, read_only=True) as s:
        read_only_total = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
        old_total = costing.spend_totals(s.con, revision_id=1).cost_usd
    assert old_total == Decimal("9.01")
    # the store did not record the new revision: the read-only session kept it to itself
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM catalog_revisions").fetchall()[0][0] == 1
    con.close()
    with open_session(db, pricing) as s:
        written_total = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
    # only r2 is priced at period 2's standard output rate: 30,000 tokens × $1/M more = $0.03
    assert read_only_total == written_total == Decimal("9.04")


def test_a_read_only_session_rebuilds_a_rollup_whose_thresholds_moved(loaded):
    db, pricing = loaded
    yaml_file = pricing / "acme.yaml"
    # lower alpha's long-context threshold: the 180k-token prompts (r1, r2) become long
    yaml_file.write_text(
        yaml_file.read_text().replace("above_tokens: 200000", "above_tokens: 150000")
    )
    with open_session(db, pricing, read_only=True) as s:
        read_only_total = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT thresholds FROM rollup_state").fetchall()[0][0] == [200000]
    con.close()
    with open_session(db, pricing) as s:
        assert s.con.execute("SELECT thresholds FROM rollup_state").fetchall()[0][0] == [150000]
        written_total = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
    # by hand, from test_costing's rows: r1 (180k prompt) at March 10's long-context rates
    # .1M×4 + .05M×.4 + .02M×5 + .01M×8 + .03M×12 = 0.96 (+0.42); r2 (180k) at the cut's
    # .1M×2 + .05M×.2 + .02M×2.5 + .01M×4 + .03M×6 = 0.48 (+0.21); r4's 200k priority prompt
    # has no long-context priority price: unpriced (−0.60). r3's 150k prompt is not above.
    assert read_only_total == written_total == Decimal("9.04")


def test_a_writer_waits_for_a_reader_and_a_reader_for_a_writer(loaded):
    db, _pricing = loaded
    hold = (
        "import sys, time; from finops.core.store import connect;"
        "con = connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); print('open', flush=True);"
        "time.sleep(2); con.close()"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for holder_mode, read_only in (("ro", False), ("rw", True)):
        holder = subprocess.Popen(
            [sys.executable, "-c", hold, str(db), holder_mode],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert holder.stdout.readline().strip() == "open"
        started = time.monotonic()
        con = connect(db, read_only=read_only, wait_seconds=30)
        waited = time.monotonic() - started
        con.close()
        holder.wait(timeout=30)
        assert 0.5 < waited < 30, (holder_mode, waited)
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(db), "rw"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert holder.stdout.readline().strip() == "open"
    with pytest.raises(StoreError, match="FINOPS_LOCK_WAIT_SECONDS"):
        connect(db, read_only=True, wait_seconds=0.3)
    holder.wait(timeout=30)


def test_the_hand_priced_total_is_the_same_read_only(loaded):
    db, pricing = loaded
    with open_session(db, pricing, read_only=True) as s:
        assert s.read_only
        assert costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd == Decimal("9.01")
        with pytest.raises(duckdb.Error):
            ingest(s, [HAND_PRICED])


def test_a_read_only_session_beside_a_writing_one_in_the_same_process(loaded):
    """The app's upload writes while its pages read: DuckDB shares one instance per process."""
    db, pricing = loaded
    with (
        open_session(db, pricing) as writer,
        open_session(db, pricing, read_only=True) as reader,
    ):
        read = costing.spend_totals(reader.con, revision_id=reader.revision_id)
        written = costing.spend_totals(writer.con, revision_id=writer.revision_id)
    assert read == written
    assert read.cost_usd == Decimal("9.01")
    # and a writer waits for this process's reader to close (here: gives up after 0.3 s)
    with (
        open_session(db, pricing, read_only=True),
        pytest.raises(StoreError, match="this process reads it"),
    ):
        connect(db, wait_seconds=0.3)
