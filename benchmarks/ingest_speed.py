"""`finops ingest` speed beside DuckDB's own load of the same file, in the same run.

    python benchmarks/ingest_speed.py --rows 1000000

For canonical Parquet and CSV (time-ordered, as exports come, and shuffled) it times
`ingest_files` into a fresh store and DuckDB's `CREATE TABLE AS SELECT * FROM read_parquet /
read_csv` into a fresh database file, and prints both with their ratio, in wall time and in
CPU time (CPU time is steadier on a shared machine). A Bedrock invocation log (JSON lines,
a provider format parsed record by record) is timed against the 300k rows/s target.
Targets (issue 16.1): Parquet ≥ 1M rows/s and ≤ 3× DuckDB; CSV ≤ 3× DuckDB.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from finops.core.store import connect
from finops.ingest import ingest_files

__all__ = ["Timing", "measure_canonical", "write_canonical"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timing:
    def __init__(self, wall_s: float, cpu_s: float) -> None:
        self.wall_s, self.cpu_s = wall_s, cpu_s


def _timed(work: Callable[[], object]) -> Timing:
    cpu, wall = _cpu(), time.perf_counter()
    work()
    return Timing(time.perf_counter() - wall, _cpu() - cpu)


def write_canonical(folder: Path, rows: int, *, shuffled: bool) -> tuple[Path, Path]:
    """Request-grain canonical rows over six months as Parquet and CSV; returns both paths."""
    order = "hash(i, 9)" if shuffled else "i"
    query = f"""
        SELECT
            TIMESTAMP '2025-07-01' + to_microseconds(CAST(i * (15552000000000 // {rows}) AS BIGINT))
                AS period_start,
            'openai' AS provider,
            CASE i % 3 WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'gpt-4o-mini' ELSE 'gpt-4.1-mini' END
                AS model,
            CAST(hash(i, 2) % 4000 AS BIGINT) + 10 AS input_tokens,
            CAST(hash(i, 3) % 900 AS BIGINT) + 1 AS output_tokens,
            'team-' || CAST(i % 40 AS VARCHAR) AS team,
            'key-' || CAST(i % 400 AS VARCHAR) AS api_key_id,
            'req-' || CAST(i AS VARCHAR) AS request_id
        FROM range({rows}) AS t(i)
        ORDER BY {order}
    """
    name = "shuffled" if shuffled else "ordered"
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    con = duckdb.connect()
    con.execute(f"COPY ({query}) TO '{parquet}' (FORMAT parquet)")
    con.execute(
        f"COPY (SELECT * REPLACE (strftime(period_start, '%Y-%m-%dT%H:%M:%SZ') AS period_start) "
        f"FROM read_parquet('{parquet}')) TO '{csv}' (HEADER, DELIMITER ',')"
    )
    con.close()
    return parquet, csv


def _raw_load(folder: Path, path: Path) -> Timing:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    target = folder / f"raw-{path.stem}-{path.suffix[1:]}.duckdb"
    target.unlink(missing_ok=True)

    def load() -> None:
        con = duckdb.connect(str(target))
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}($p)", {"p": str(path)})
        con.close()

    return _timed(load)


def _finops_load(folder: Path, path: Path) -> Timing:
    target = folder / f"store-{path.stem}-{path.suffix[1:]}.duckdb"
    target.unlink(missing_ok=True)
    con = connect(target)  # creating and migrating the store is not part of an ingest

    def load() -> None:
        ingest_files(con, [path], thresholds=[200_000])
        con.close()  # closing writes the file, as it does for DuckDB's own load

    return _timed(load)


def measure_canonical(folder: Path, path: Path) -> tuple[Timing, Timing]:
    """(DuckDB's own load, finops ingest) of the same file."""
    return _raw_load(folder, path), _finops_load(folder, path)


def _write_bedrock(path: Path, rows: int) -> None:
    with open(path, "w") as fh:
        for i in range(rows):
            record = {
                "schemaType": "ModelInvocationLog",
                "timestamp": f"2025-07-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "accountId": "123456789012",
                "requestId": f"req-{i}",
                "modelId": "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "input": {"inputTokenCount": 100 + i % 900},
                "output": {"outputTokenCount": 10 + i % 90},
            }
            fh.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="finops-ingest-speed-") as tmp:
        folder = Path(tmp)
        print(
            f"{'file':<22}{'rows/s':>12}{'finops s':>10}{'duckdb s':>10}{'ratio':>7}"
            f"{'cpu ratio':>11}"
        )
        for shuffled in (False, True):
            for path in write_canonical(folder, args.rows, shuffled=shuffled):
                raw, ours = measure_canonical(folder, path)
                print(
                    f"{path.name:<22}{args.rows / ours.wall_s:>12,.0f}{ours.wall_s:>10.2f}"
                    f"{raw.wall_s:>10.2f}{ours.wall_s / raw.wall_s:>6.1f}×"
                    f"{ours.cpu_s / raw.cpu_s:>10.1f}×"
                )
        jsonl = folder / "invocations.jsonl"
        _write_bedrock(jsonl, args.json_rows)
        ours = _finops_load(folder, jsonl)
        print(
            f"{jsonl.name:<22}{args.json_rows / ours.wall_s:>12,.0f}{ours.wall_s:>10.2f}"
            f"{'':>10}{'':>7}{'':>11}  (target 300,000 rows/s)"
        )


if __name__ == "__main__":
    main()
