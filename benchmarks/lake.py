"""Spark beside DuckDB on the same usage: `finops spend --engine spark` and `finops lake run`.

    python benchmarks/lake.py                      # 2M request rows, local[2]
    python benchmarks/lake.py --rows 10000000      # as the machine allows

One run, one machine, the commands as a user types them (each a fresh process, so Spark's
start-up is in its figure, as it is for a user), timed with their peak memory (the process
and its children: the JVM):

  duckdb ingest        `finops ingest` of the rows (monthly Parquet files) into a store
  duckdb spend         `finops spend --by day,team` on that store
  export parquet       `finops export parquet` (what --engine spark runs first without --data)
  spark spend          `finops spend --engine spark --data EXPORT --by day,team`
  lake run             `finops lake run` over the same rows partitioned by day
  lake rerun           the same command again (nothing changed: nothing recomputed)

The spend by day and team from the lake run is checked against `finops spend` on the store, to
the cent, before any figure is written. Results go to benchmarks/results_lake.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import FIRST_DAY, _month_start, _rows_sql  # the scale benchmark's generator

MONTHS = 3


def generate(workdir: Path, rows: int) -> tuple[Path, Path]:
    """The same rows twice: monthly Parquet files (for ingest) and a day-partitioned lake."""
    flat, lake = workdir / "files", workdir / "lake"
    if flat.exists() and lake.exists():
        return flat, lake
    flat.mkdir(parents=True)
    total_days = (_month_start(MONTHS) - FIRST_DAY).days
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    first = 0
    for index in range(MONTHS):
        start, end = _month_start(index), _month_start(index + 1)
        count = round(rows * (end - FIRST_DAY).days / total_days) - first
        sql = _rows_sql(first, count, start, (end - start).days)
        con.execute(f"COPY ({sql}) TO '{flat}/usage-{start:%Y-%m}.parquet' (FORMAT parquet)")
        con.execute(
            f"COPY (SELECT *, CAST(period_start AS DATE) AS day FROM ({sql})) TO '{lake}' "
            "(FORMAT parquet, PARTITION_BY (day), APPEND)"
        )
        first += count
    con.close()
    return flat, lake


def timed(name: str, args: list[str], env: dict) -> dict:
    """Run a finops command under /usr/bin/time: seconds and peak RSS (largest process)."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "finops.cli", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        print(done.stdout, done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{name} failed")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    result = {"step": name, "seconds": seconds, "peak_gib": int(peak.group(1)) / 2**20}
    print(f"{name:<16} {seconds:8.1f} s  {result['peak_gib']:.2f} GiB", flush=True)
    result["stdout"] = done.stdout
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/finops-bench-lake"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--no-spark-spend",
        action="store_true",
        help="skip `export parquet` and `spend --engine spark` (at 100M rows they add ~30 min)",
    )
    args = parser.parse_args()
    work = args.workdir / f"{args.rows}"
    work.mkdir(parents=True, exist_ok=True)
    flat, lake = generate(work, args.rows)
    db, export, out = work / "store.duckdb", work / "export", work / "out"
    for path in (db, export, out):  # the store is a file, the others folders
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    env = {**os.environ, "FINOPS_DB": str(db), "SPARK_MASTER": args.master}
    steps = [
        timed("duckdb ingest", ["ingest", str(flat)], env),
        timed("duckdb spend", ["spend", "--by", "day,team", "--format", "json"], env),
    ]
    if not args.no_spark_spend:
        steps += [
            timed("export parquet", ["export", "parquet", "--out", str(export)], env),
            timed(
                "spark spend",
                ["spend", "--engine", "spark", "--data", str(export), "--by", "day,team"],
                env,
            ),
        ]
    steps += [
        timed("lake run", ["lake", "run", "--usage", str(lake), "--out", str(out)], env),
        timed("lake rerun", ["lake", "run", "--usage", str(lake), "--out", str(out)], env),
    ]
    expected = {
        (r["day"], r["team"]): Decimal(str(r["cost_usd"]))
        for r in json.loads(steps[1]["stdout"])
        if r["cost_usd"] is not None
    }
    con = duckdb.connect()
    got = {
        (f"{d}", t): Decimal(c)
        for d, t, c in con.execute(
            f"SELECT day, team, CAST(cost_usd AS VARCHAR) FROM read_parquet('{out}/spend/*/*.parquet', "
            "hive_partitioning = true) WHERE cost_usd IS NOT NULL"
        ).fetchall()
    }
    assert got == expected, "the lake run's spend differs from finops spend"
    total = sum(expected.values())
    write(args, steps, total, len(expected))


def write(args, steps: list[dict], total: Decimal, groups: int) -> None:
    load = os.getloadavg()
    lines = [
        f"## {args.rows:,} request rows, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        (
            f"`python benchmarks/lake.py --rows {args.rows}"
            f"{' --no-spark-spend' if args.no_spark_spend else ''}` — Spark master `{args.master}`, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average at the "
            f"end {load[0]:.1f} (a shared machine: other sessions were running)."
        ),
        "",
        "| step | seconds | peak memory (GiB) |",
        "|---|---:|---:|",
        *[f"| {s['step']} | {s['seconds']:.1f} | {s['peak_gib']:.2f} |" for s in steps],
        "",
        (
            f"Spend by day and team from the lake run equals `finops spend` on the store in "
            f"all {groups:,} groups, to the cent (${total:,.2f} in all)."
        ),
        "",
    ]
    results = HERE / "results_lake.md"
    head = "" if results.exists() else "# Spark beside DuckDB (benchmarks/lake.py)\n\n"
    with results.open("a") as fh:
        fh.write(head + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
