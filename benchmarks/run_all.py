"""Run the benchmarks and write `benchmarks/RESULTS.md` from what they print, nothing else.

    make bench                                  # the default sizes below (about an hour)
    python benchmarks/run_all.py --size small   # 1M-row sizes, for a quick look (~15 min)
    python benchmarks/run_all.py --only app_pages,pricing_rollup
    python benchmarks/run_all.py --size huge    # full, and the scale line up to 100M rows (hours)

Every figure in RESULTS.md comes from one script's output in this run, under a header
saying the exact command, the commit it ran on (and whether the tree was clean), the load
average before and after, and how long it took. Each script times its own comparisons side
by side in one process (finops beside the raw engine), so ratios hold on a busy machine even
where seconds do not. Nothing is copied in by hand: to change RESULTS.md, rerun.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: script → arguments per size; each script prints Markdown (tables and notes) on stdout
RUNS: dict[str, dict[str, list[str]]] = {
    "ingest_speed": {"small": ["--rows", "1000000"], "full": ["--rows", "5000000"]},
    "pricing_rollup": {"small": ["--rows", "1000000"], "full": ["--rows", "10000000"]},
    "app_pages": {
        "small": ["--rows", "1000000", "--skip-apptest"],
        "full": ["--rows", "10000000"],
    },
    "forecast_accuracy": {"small": [], "full": []},
    "forecast_scale": {"small": ["--series", "200"], "full": ["--series", "1000"]},
    "anomaly_eval": {"small": ["--trials", "5"], "full": []},
    "lake": {"small": ["--rows", "500000"], "full": ["--rows", "2000000"]},
    "scale": {
        "small": ["--rows", "1000000", "--out", "/tmp/finops-scale.md"],
        "full": ["--rows", "1000000", "10000000", "--out", "/tmp/finops-scale.md"],
        "huge": ["--rows", "1000000", "10000000", "100000000", "--out", "/tmp/finops-scale.md"],
    },
}


def _git(*args: str) -> str:
    run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return run.stdout.strip() if run.returncode == 0 else "unknown"


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _versions() -> str:
    import duckdb
    import polars

    return (
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, "
        f"polars {polars.__version__}, {os.cpu_count()} cores ({platform.machine()})"
    )


def run(name: str, args: list[str]) -> tuple[str, bool]:
    """One script's section of RESULTS.md: provenance header, then its own output."""
    command = " ".join(["python", f"benchmarks/{name}.py", *args])
    print(f"=== {command}", file=sys.stderr, flush=True)
    load_before, start = _load(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    ok = proc.returncode == 0
    lines = [
        f"## {name}",
        "",
        f"- command: `{command}`",
        (
            f"- ran: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {took:,.0f} s; load average "
            f"(1/5/15 min) {load_before} before, {_load()} after"
        ),
        ""
        if ok
        else f"- **exit {proc.returncode}** (the script failed or its own target check did not hold); its output ends:",
        "",
    ]
    body = proc.stdout.strip() if ok else (proc.stdout + proc.stderr).strip()[-3000:]
    if not ok or not any(line.startswith("|") for line in body.splitlines()):
        body = f"```\n{body}\n```"  # plain text keeps its columns
    return "\n".join([*lines, body or "(no output)", ""]), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "full", "huge"), default="full")
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    opts = parser.parse_args()
    names = [n for n in RUNS if not opts.only or n in opts.only.split(",")]
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    sections, failed = [], []
    for name in names:
        if not (HERE / f"{name}.py").exists():
            failed.append(name)
            sections.append(f"## {name}\n\n**missing**: benchmarks/{name}.py\n")
            continue
        sizes = RUNS[name]
        text, ok = run(name, sizes.get(opts.size, sizes["full"]))
        sections.append(text)
        if not ok:
            failed.append(name)
    header = [
        "# Benchmark results",
        "",
        (
            f"Written by `python benchmarks/run_all.py --size {opts.size}"
            f"{' --only ' + opts.only if opts.only else ''}`"
            f"{' (what `make bench` runs)' if opts.size == 'full' and not opts.only else ''} on commit "
            f"`{commit}`, {'a clean tree' if not dirty else 'a tree with uncommitted changes'}; "
            f"{_versions()}. The machine is shared: compare the ratios each script measures "
            "side by side in one run, not seconds across sections. Do not edit by hand: rerun."
        ),
        "",
    ]
    if failed:
        header += [f"**Failed or missing:** {', '.join(failed)}.", ""]
    header += [
        (
            "Spark beside DuckDB at 10M and 100M request rows (`finops lake run`, `finops spend "
            "--engine spark`, each equal to DuckDB to the cent) takes hours at those sizes, so it "
            "is not part of this run: `benchmarks/lake.py` appends each of its runs, with its "
            "command, to `benchmarks/results_lake.md`."
        ),
        "",
    ]
    opts.out.write_text("\n".join(header + sections))
    print(f"wrote {opts.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
