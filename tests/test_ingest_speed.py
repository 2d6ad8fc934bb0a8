"""Ingest speed as a ratio to DuckDB's own load of the same file (issue 16.1), small size.

CPU time, not wall time: the ratio stays put on a busy machine. The bound is a regression
guard: the set-based ingest measures about 5-7× DuckDB's CPU on a narrow 200k-row file here
(every row still gets a natural key and 31 stored columns), the per-row path it replaced
about 11×. benchmarks/ingest_speed.py prints the full-size figures.
"""

from __future__ import annotations

import resource

import duckdb
import pytest

from finops.core.store import connect
from finops.ingest import ingest_files

ROWS = 200_000
MAX_CPU_RATIO = 9.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _write(folder):
    parquet, csv = folder / "usage.parquet", folder / "usage.csv"
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            SELECT
                TIMESTAMP '2025-07-01' + INTERVAL (i * 60) SECOND AS period_start,
                'openai' AS provider,
                CASE i % 3 WHEN 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END AS model,
                CAST(hash(i, 2) % 4000 AS BIGINT) + 10 AS input_tokens,
                CAST(hash(i, 3) % 900 AS BIGINT) + 1 AS output_tokens,
                'team-' || CAST(i % 40 AS VARCHAR) AS team,
                'req-' || CAST(i AS VARCHAR) AS request_id
            FROM range({ROWS}) AS t(i)
        ) TO '{parquet}' (FORMAT parquet)
    """)
    con.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}' (HEADER)")
    con.close()
    return parquet, csv


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_ingest_stays_within_a_small_multiple_of_duckdbs_own_load(tmp_path, kind):
    parquet, csv = _write(tmp_path)
    path, reader = (parquet, "read_parquet") if kind == "parquet" else (csv, "read_csv")
    raw_cpu = ours_cpu = float("inf")
    for run in range(2):  # the better of two: the first also warms caches
        raw = duckdb.connect(str(tmp_path / f"raw-{run}.duckdb"))
        start = _cpu()
        raw.execute(f"CREATE TABLE t AS SELECT * FROM {reader}($p)", {"p": str(path)})
        raw.close()
        raw_cpu = min(raw_cpu, _cpu() - start)

        store = connect(tmp_path / f"store-{run}.duckdb")  # creating a store is not ingest
        start = _cpu()
        report = ingest_files(store, [path], thresholds=[])
        store.close()  # closing writes the store's file, as closing does for DuckDB's load
        ours_cpu = min(ours_cpu, _cpu() - start)
        assert report.rows_new == ROWS
    print(f"{kind}: ingest {ours_cpu:.2f}s CPU, DuckDB {raw_cpu:.2f}s: {ours_cpu / raw_cpu:.1f}×")
    assert ours_cpu / raw_cpu <= MAX_CPU_RATIO, (ours_cpu, raw_cpu)
