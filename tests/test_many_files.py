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
