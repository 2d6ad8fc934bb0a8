"""Ingest one large canonical CSV through `finops ingest`; print rows/s and peak memory.

    python benchmarks/ingest_large.py --gb 2

The CSV is generated (request-grain rows, ~120 bytes each); `finops ingest` runs as a child
process so its peak resident memory (ru_maxrss) is measured alone. Target (issue 4): a 2 GB
CSV ingests with peak memory under 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def write_csv(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            SELECT
                strftime(TIMESTAMP '2025-07-01' + to_microseconds(CAST(hash(i, 1) % 15552000000000 AS BIGINT)),
                         '%Y-%m-%dT%H:%M:%SZ') AS period_start,
                'openai' AS provider,
                CASE i % 3 WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'gpt-4o-mini' ELSE 'gpt-4.1-mini' END AS model,
                CAST(hash(i, 2) % 4000 AS BIGINT) + 10 AS input_tokens,
                CAST(hash(i, 3) % 900 AS BIGINT) + 1 AS output_tokens,
                'team-' || CAST(i % 40 AS VARCHAR) AS team,
                'key-' || CAST(i % 400 AS VARCHAR) AS api_key_id,
                'req-' || CAST(i AS VARCHAR) AS request_id
            FROM range({rows}) AS t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
    """)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gb", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="finops-ingest-") as tmp:
        csv = Path(tmp) / "usage.csv"
        rows = int(args.gb * 1e9 / 113)
        start = time.perf_counter()
        write_csv(csv, rows)
        size = csv.stat().st_size
        print(f"generated {rows:,} rows, {size / 1e9:.2f} GB in {time.perf_counter() - start:.0f}s")
        finops = Path(sys.executable).with_name("finops")
        start = time.perf_counter()
        subprocess.run(
            [str(finops), "ingest", str(csv), "--db", str(Path(tmp) / "store.duckdb")],
            check=True,
            env=dict(os.environ),
        )
        elapsed = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"ingest: {elapsed:.1f}s, {rows / elapsed:,.0f} rows/s, {size / elapsed / 1e6:.1f} MB/s"
        )
        print(f"peak memory of finops ingest: {peak_kb / 1e6:.2f} GB (target < 1.5 GB)")


if __name__ == "__main__":
    main()
