"""A folder of thousands of small files is one upload that loads in bounded memory.

Each file used to be staged inside the upload's transaction, and DuckDB keeps every table a
transaction drops until it commits: 2,000 one-row files held 516 MB and 10,000 ran out of
memory. Small files are now prepared before the transaction; what stays with the upload is
their rows, not their staging tables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import query_store

REPO = Path(__file__).resolve().parent.parent

# a real `finops ingest` in its own process, reporting its peak resident memory
_RUN = """
import json, resource, sys
from finops.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _folder(root: Path, files: int) -> Path:
    folder = root / f"files{files}"
    folder.mkdir()
    for i in range(files):
        (folder / f"u{i:05d}.csv").write_text(
            "period_start,provider,model,input_tokens,output_tokens,request_id,team\n"
            f"2025-06-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,openai,gpt-4o,{100 + i},{10 + i},"
            f"req-{i},t{i % 7}\n"
        )
    return folder


def _ingest(root: Path, files: int) -> tuple[float, Path]:
    db = root / f"store{files}.duckdb"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "ingest", "--db", str(db), str(_folder(root, files))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        check=False,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, None), done.stderr[-2000:]
    return result["rss_mb"], db


@pytest.mark.slow
def test_a_thousand_one_row_files_cost_their_rows_not_their_staging(tmp_path):
    small_rss, _ = _ingest(tmp_path, 100)
    big_rss, db = _ingest(tmp_path, 1100)
    # every row landed, once, in the one upload: input tokens 100 + i and output 10 + i for
    # i = 0 .. 1,099 sum to 1,100 × 100 + 1,099 × 1,100 / 2 = 714,450 and 615,450
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT count(*), count(DISTINCT request_id), sum(input_tokens), "
            "sum(output_tokens), count(DISTINCT ingest_id) FROM usage"
        ).fetchall()[0]
        daily = con.execute("SELECT sum(input_tokens) FROM daily_usage").fetchall()[0][0]
    finally:
        con.close()
    assert rows == (1100, 1100, 714_450, 615_450, 1)
    assert daily == 714_450
    # 1,000 more files staged inside the transaction held ~180 kB each (≈ 180 MB here); now
    # they cost their rows and the store's pages
    assert big_rss - small_rss < 60, (small_rss, big_rss)


# --- many small files merged in one pass: the same outcome as one by one ---------------------

HEADER = "period_start,period_end,provider,model,input_tokens,output_tokens,request_id\n"


def _file(folder: Path, name: str, *rows: str) -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows))
    return path


def _counts(report) -> list[tuple[str, int, int, int, int]]:
    return [
        (Path(f.file).name, f.rows_read, f.rows_new, f.rows_duplicate, f.rows_replaced)
        for f in report.files
    ]


def _stored(db: Path) -> list[tuple]:
    return query_store(
        db,
        "SELECT request_id, input_tokens, output_tokens, source_file, ingest_id FROM usage "
        "ORDER BY request_id, period_start",
    )


def test_an_upload_of_small_files_keeps_each_files_report_and_refusals(db, pricing_dir, tmp_path):
    from finops.ingest import IngestError
    from finops.session.session import ingest, open_session

    day = "2025-03-01T{:02d}:00:00Z"
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    for folder in (a, b, c):
        folder.mkdir()
    first = [
        _file(a, f"r{i}.csv", f"{day.format(i)},,acme,alpha,{10 * (i + 1)},{i + 1},req-{i}")
        for i in range(4)
    ]
    with open_session(db, pricing_dir) as s:
        # four new rows: input 10 + 20 + 30 + 40 = 100, output 1 + 2 + 3 + 4 = 10
        assert _counts(ingest(s, first)) == [(f"r{i}.csv", 1, 1, 0, 0) for i in range(4)]
        # the same four again beside a fifth: duplicates, and one new row
        again = [*first, _file(b, "r4.csv", f"{day.format(4)},,acme,alpha,50,5,req-4")]
        assert _counts(ingest(s, again)) == [
            *[(f"r{i}.csv", 1, 0, 1, 0) for i in range(4)],
            ("r4.csv", 1, 1, 0, 0),
        ]
        # req-0 again with other counts (a corrected export) replaces the stored row
        fixed = _file(c, "fix0.csv", f"{day.format(0)},,acme,alpha,11,1,req-0")
        new5 = _file(c, "r5.csv", f"{day.format(5)},,acme,alpha,60,6,req-5")
        assert _counts(ingest(s, [fixed, new5])) == [
            ("fix0.csv", 1, 0, 0, 1),
            ("r5.csv", 1, 1, 0, 0),
        ]
        # one request in two files of one upload: stored once, the second file's a duplicate
        twice = [_file(c, f"dup{k}.csv", f"{day.format(6)},,acme,alpha,70,7,req-6") for k in (1, 2)]
        assert _counts(ingest(s, twice)) == [("dup1.csv", 1, 1, 0, 0), ("dup2.csv", 1, 0, 1, 0)]
        # an hourly and a daily file of the same provider-day in one upload: refused, naming
        # the second, and nothing of the upload stored
        hourly = _file(c, "hourly.csv", "2025-03-02T00:00:00Z,2025-03-02T01:00:00Z,acme,alpha,5,1,")
        daily = _file(c, "daily.csv", "2025-03-02T00:00:00Z,2025-03-03T00:00:00Z,acme,alpha,9,1,")
        with pytest.raises(IngestError) as info:
            ingest(s, [hourly, daily])
        assert info.value.file == str(daily)
        assert "counted twice" in str(info.value) or "count that usage twice" in str(info.value)
    stored = _stored(db)
    assert [(r[0], r[1], r[2]) for r in stored] == [
        ("req-0", 11, 1),
        ("req-1", 20, 2),
        ("req-2", 30, 3),
        ("req-3", 40, 4),
        ("req-4", 50, 5),
        ("req-5", 60, 6),
        ("req-6", 70, 7),
    ]
    # each row names the file it came from and its upload
    assert [(Path(r[3]).name, r[4]) for r in stored] == [
        ("fix0.csv", 3),
        ("r1.csv", 1),
        ("r2.csv", 1),
        ("r3.csv", 1),
        ("r4.csv", 2),
        ("r5.csv", 3),
        ("dup1.csv", 4),
    ]


def test_the_first_bad_value_of_the_first_bad_file_is_named(db, pricing_dir, tmp_path):
    from finops.ingest import IngestError
    from finops.session.session import ingest, open_session

    good = _file(tmp_path, "a_good.csv", "2025-03-01T00:00:00Z,,acme,alpha,10,1,req-a")
    bad_late = _file(
        tmp_path,
        "b_bad.csv",
        "2025-03-01T01:00:00Z,,acme,alpha,10,1,req-b",
        "2025-03-01T02:00:00Z,,acme,alpha,ten,1,req-c",
        "2025-03-01T03:00:00Z,,acme,,10,1,req-d",
    )
    bad_too = _file(tmp_path, "c_bad.csv", "2025-03-01T04:00:00Z,,acme,alpha,-1,1,req-e")
    with open_session(db, pricing_dir) as s, pytest.raises(IngestError) as info:
        ingest(s, [good, bad_late, bad_too])
    assert (info.value.file, info.value.row, info.value.field) == (
        str(bad_late),
        2,
        "input_tokens",
    )
    assert _stored(db) == []


def test_the_command_lists_ten_files_and_sums_the_rest(tmp_path):
    from click.testing import CliRunner

    from finops.cli import main

    folder = _folder(tmp_path, 14)
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(main, ["ingest", "--db", str(db), str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum(line.startswith(str(folder)) for line in lines) == 10
    # files 10..13 are days 11..14 of June 2025, one row each
    assert (
        "… and 4 more files: 4 rows read — 4 new, 0 duplicate, 0 replaced\n"
        "  days: 2025-06-11 .. 2025-06-14\n"
    ) in result.output
    assert lines[-1] == "ingest 1: 14 new, 0 duplicate, 0 replaced"
