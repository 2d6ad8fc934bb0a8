"""Production scale: ingest, pricing, dashboards, forecasts and incremental uploads at N rows.

    python benchmarks/scale.py                                  # 1M, 10M and 100M rows
    python benchmarks/scale.py --rows 1000000 10000000          # just these sizes
    python benchmarks/scale.py --rows 100000000 --memory-limit 12GB --workdir /var/tmp/x

For each size, in one run, side by side on the same machine:
  ingest      a year of request-grain usage in 12 monthly files, each one `finops ingest`
              upload (finops.session.session.ingest in its own session, as the command runs it):
              odd months from canonical CSV, even months from Parquet; rows/s per format
  pricing     finops' full rollup rebuild (what a long-context threshold change costs) plus
              pricing and spend by day, team and model, next to a plain DuckDB GROUP BY of the
              same rows by day and owner keys (target: finops ≤ 1.5 × plain)
  dashboard   a read-only session (what the app opens) and spend by day × team for a month
  forecast    28-day forecasts of daily spend for every team (finops.analysis.forecast.api)
  incremental one more day of usage added to the store: a new day, the same file again (all
              duplicates), and a late file for a day already loaded; with the time in each
              step, which must not grow with the store
Peak memory is the process's peak RSS in each step (/proc/self/status VmHWM, reset between
steps). Results are appended to benchmarks/results_scale.md with the machine's details.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
FIRST_DAY = dt.date(2025, 7, 1)
MONTHS = 12
MODELS = [  # (provider, model as exported): all in the bundled catalog
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "o3"),
    ("openai", "gpt-4.1-mini"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("anthropic", "claude-3-5-haiku-20241022"),
    ("google", "gemini-2.5-pro"),
    ("google", "gemini-2.5-flash"),
]
PLAIN_SQL = (
    "SELECT CAST(period_start AS DATE) AS day, provider, model, service_tier, project_id, "
    "api_key_id, team, user_id, count(*) AS n, sum(requests), sum(input_tokens), "
    "sum(cache_read_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), "
    "sum(output_tokens), sum(input_audio_tokens), sum(output_audio_tokens), "
    "sum(input_image_tokens), sum(output_image_tokens), sum(reasoning_tokens), "
    "sum(web_search_requests), sum(reported_cost_usd) FROM usage GROUP BY ALL"
)


# --- measuring ---------------------------------------------------------------------------------


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_gib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


@contextmanager
def step(results: dict, name: str):
    """Time a step and note its peak RSS (GiB) in results[name]."""
    gc.collect()
    _reset_peak()
    started = time.perf_counter()
    yield
    results[name] = (time.perf_counter() - started, _peak_gib())


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- data --------------------------------------------------------------------------------------


def _month_start(index: int) -> dt.date:
    year, month = divmod(FIRST_DAY.month - 1 + index, 12)
    return dt.date(FIRST_DAY.year + year, month + 1, 1)


def _rows_sql(first: int, count: int, start: dt.date, days: int) -> str:
    """Request rows first..first+count spread over `days` days from `start` (deterministic)."""
    models = ", ".join(f"({i}, '{p}', '{m}')" for i, (p, m) in enumerate(MODELS))
    span_us = days * 86_400_000_000
    return f"""
        WITH models(idx, provider, model) AS (VALUES {models})
        SELECT
            TIMESTAMP '{start.isoformat()}'
                + to_microseconds(CAST(hash(i, 1) % {span_us} AS BIGINT)) AS period_start,
            m.provider,
            m.model,
            CAST(hash(i, 2) % 4000 AS BIGINT) + 10 AS input_tokens,
            CASE WHEN i % 3 = 0 THEN CAST(hash(i, 3) % 3000 AS BIGINT) END AS cache_read_tokens,
            CAST(hash(i, 4) % 900 AS BIGINT) + 1 AS output_tokens,
            CASE WHEN i % 10 = 0 THEN 'batch' ELSE 'standard' END AS service_tier,
            'proj-' || CAST(i % 20 AS VARCHAR) AS project_id,
            'key-' || CAST(i % 400 AS VARCHAR) AS api_key_id,
            'svc-' || CAST(i % 400 AS VARCHAR) AS user_id,
            'team-' || CAST(i % 40 AS VARCHAR) AS team,
            'req-' || CAST(i AS VARCHAR) AS request_id
        FROM range({first}, {first + count}) AS t(i)
        JOIN models AS m ON m.idx = CAST(hash(i, 5) % {len(MODELS)} AS INTEGER)
    """


def write_file(path: Path, first: int, count: int, start: dt.date, days: int) -> None:
    fmt = "(FORMAT parquet)" if path.suffix == ".parquet" else "(FORMAT csv, HEADER true)"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY ({_rows_sql(first, count, start, days)}) TO '{path}' {fmt}")
    con.close()


def monthly_files(folder: Path, rows: int) -> list[tuple[Path, int]]:
    """12 monthly files, odd months CSV and even months Parquet; (path, rows) each."""
    folder.mkdir(parents=True, exist_ok=True)
    total_days = (_month_start(MONTHS) - FIRST_DAY).days
    out, first = [], 0
    for index in range(MONTHS):
        start, end = _month_start(index), _month_start(index + 1)
        days = (end - start).days
        count = round(rows * ((start - FIRST_DAY).days + days) / total_days) - first
        suffix = "csv" if index % 2 == 0 else "parquet"
        path = folder / f"usage-{start:%Y-%m}.{suffix}"
        if not path.exists():
            write_file(path, first, count, start, days)
        out.append((path, count))
        first += count
    return out


# --- the steps ---------------------------------------------------------------------------------


def ingest_year(db: Path, files: list[tuple[Path, int]], report) -> dict:
    from finops.session.session import ingest, open_session

    per_format: dict[str, list[float]] = {"csv": [0.0, 0], "parquet": [0.0, 0]}
    uploads = []
    gc.collect()
    _reset_peak()
    for path, count in files:
        started = time.perf_counter()
        with open_session(db) as s:
            result = ingest(s, [path])
        seconds = time.perf_counter() - started
        assert result.rows_new == count, (path, result.rows_new, count)
        fmt = path.suffix.lstrip(".")
        per_format[fmt][0] += seconds
        per_format[fmt][1] += count
        uploads.append((path.name, count, seconds))
        report(
            f"  ingest {path.name}: {count:,} rows in {seconds:.1f}s ({count / seconds:,.0f} rows/s)"
        )
    return {"per_format": per_format, "uploads": uploads, "peak_gib": _peak_gib()}


def pricing_vs_plain(db: Path, rounds: int, report) -> dict:
    from finops.pricing import costing
    from finops.session.session import open_session

    out: dict = {"plain": [], "plain_persisted": [], "finops": [], "spend": []}
    with open_session(db) as s:
        con, thresholds, revision = s.con, s.catalog.thresholds, s.revision_id
        con.execute("SELECT count(*), sum(input_tokens) FROM usage").fetchall()  # warm the cache

        def plain() -> None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE plain_out AS {PLAIN_SQL}")

        def plain_persisted() -> None:
            con.execute(f"CREATE OR REPLACE TABLE plain_out_persisted AS {PLAIN_SQL}")

        def full() -> None:
            con.execute("BEGIN TRANSACTION")
            costing.refresh_daily_usage(con, thresholds)
            con.execute("COMMIT")
            out["result"] = costing.spend(con, by=["day", "team", "model"], revision_id=revision)

        def spend_only() -> None:
            costing.spend(con, by=["day", "team", "model"], revision_id=revision)

        gc.collect()
        _reset_peak()
        for _ in range(rounds):  # interleaved, so a busy neighbour slows both sides alike
            out["plain"].append(timed(plain))
            out["plain_persisted"].append(timed(plain_persisted))
            out["finops"].append(timed(full))
            out["spend"].append(timed(spend_only))
        out["peak_gib"] = _peak_gib()
        con.execute("DROP TABLE plain_out_persisted")
        out["rollup_rows"] = con.execute("SELECT count(*) FROM daily_usage").fetchall()[0][0]
    frame = out.pop("result")
    out["total_usd"] = sum(frame["cost_usd"].drop_nulls(), 0)
    out["unpriced_rows"] = int(frame["unpriced_rows"].sum())
    report(
        f"  plain {min(out['plain']):.2f}s, plain persisted {min(out['plain_persisted']):.2f}s, "
        f"finops rebuild+price {min(out['finops']):.2f}s, spend {min(out['spend']):.2f}s"
    )
    return out


def dashboard(db: Path, repeats: int, report) -> dict:
    from finops.pricing import costing
    from finops.session.session import open_session

    month = _month_start(MONTHS - 1)
    opens, queries = [], []
    gc.collect()
    _reset_peak()
    for _ in range(repeats):
        started = time.perf_counter()
        with open_session(db, read_only=True) as s:
            opened = time.perf_counter()
            frame = s.spend(["day", "team"], from_day=month, to_day=_month_start(MONTHS))
            costing.spend_totals(
                s.con, revision_id=s.revision_id, from_day=month, to_day=_month_start(MONTHS)
            )
            queries.append(time.perf_counter() - opened)
        opens.append(opened - started)
    out = {"open": opens, "query": queries, "rows": frame.height, "peak_gib": _peak_gib()}
    report(
        f"  dashboard: open {statistics.median(opens):.3f}s, query {statistics.median(queries):.3f}s"
    )
    return out


def forecast(db: Path, report) -> dict | None:
    try:
        from finops.analysis.forecast.api import forecast_frame
    except ImportError:
        return None
    import polars as pl

    from finops.session.session import open_session

    gc.collect()
    _reset_peak()
    started = time.perf_counter()
    with open_session(db, read_only=True) as s:
        daily = s.spend(["day", "team"])
    frame = daily.select(
        "day", "team", pl.col("cost_usd").cast(pl.Float64).fill_null(0).alias("value")
    )
    try:
        fc = forecast_frame(frame, keys=["team"], horizon=28)
    except Exception as exc:  # noqa: BLE001 - a failing forecast is noted, the run goes on
        report(f"  forecast failed: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - started
    teams = frame["team"].n_unique()
    report(f"  forecast: {teams} teams × 28 days in {seconds:.1f}s")
    return {"seconds": seconds, "series": teams, "rows": fc.height, "peak_gib": _peak_gib()}


@contextmanager
def _phase_timers(phases: dict[str, float]):
    """Time the upload's steps (validate, key, merge, rollup refresh) by wrapping them."""
    from finops.ingest import _upload

    names = {
        "first_problem": "validate",
        "first_problem_by_file": "validate",
        "write_keyed": "key",
        "_merge": "merge",
        "_merge_together": "merge",
        "refresh_daily_usage": "refresh",
    }
    saved = {n: getattr(_upload, n) for n in names}

    def wrap(name: str, fn):
        def timed_fn(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[names[name]] = phases.get(names[name], 0.0) + time.perf_counter() - started

        return timed_fn

    for n, fn in saved.items():
        setattr(_upload, n, wrap(n, fn))
    try:
        yield
    finally:
        for n, fn in saved.items():
            setattr(_upload, n, fn)


def incremental(
    db: Path, folder: Path, day_rows: int, offset: int, report, attempt: int = 0
) -> list[dict]:
    """Add a new day, the same day again, and a late day inside the loaded year."""
    from finops.session.session import ingest, open_session

    new_day = folder / f"day-new-{attempt}.parquet"
    late_day = folder / f"day-late-{attempt}.parquet"
    if not new_day.exists():
        write_file(new_day, offset, day_rows, _month_start(MONTHS) + dt.timedelta(days=attempt), 1)
        write_file(
            late_day,
            offset + day_rows,
            day_rows,
            _month_start(MONTHS - 3) + dt.timedelta(days=14 + attempt),
            1,
        )
    out = []
    for label, path in (("new day", new_day), ("same day again", new_day), ("late day", late_day)):
        phases: dict[str, float] = {}
        gc.collect()
        _reset_peak()
        started = time.perf_counter()
        with _phase_timers(phases), open_session(db) as s:
            phases["open"] = time.perf_counter() - started
            ingest_started = time.perf_counter()
            result = ingest(s, [path])
            phases["ingest"] = time.perf_counter() - ingest_started
            closing = time.perf_counter()
        phases["close"] = time.perf_counter() - closing
        total = time.perf_counter() - started
        phases["stage"] = phases["ingest"] - sum(
            phases.get(k, 0.0) for k in ("validate", "key", "merge", "refresh")
        )
        row = {
            "label": label,
            "rows": day_rows,
            "seconds": total,
            "new": result.rows_new,
            "duplicate": result.rows_duplicate,
            "phases": phases,
            "peak_gib": _peak_gib(),
        }
        out.append(row)
        detail = ", ".join(
            f"{k} {phases.get(k, 0):.2f}s"
            for k in ("open", "stage", "validate", "key", "merge", "refresh", "close")
        )
        report(f"  incremental {label}: {day_rows:,} rows in {total:.2f}s ({detail})")
    return out


# --- report ------------------------------------------------------------------------------------


def _commit() -> str:
    import subprocess

    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "unknown"


def incremental_side_by_side(dbs: list[Path], day_rows: int, rounds: int, report) -> str:
    """One more day into each loaded store, interleaved, best of `rounds`; a markdown table."""
    best: dict[tuple[str, str], dict] = {}
    sizes = {}
    for attempt in range(1, rounds + 1):
        for db in dbs:
            con = duckdb.connect(str(db), read_only=True)
            sizes[db] = con.execute("SELECT count(*) FROM usage").fetchall()[0][0]
            con.close()
            offset = 10_000_000_000 + attempt * 10 * day_rows  # request ids never seen before
            for row in incremental(db, db.parent / "files", day_rows, offset, report, attempt):
                key = (str(db), row["label"])
                if key not in best or row["seconds"] < best[key]["seconds"]:
                    best[key] = row
    lines = [
        (
            f"Incremental uploads side by side (best of {rounds}, interleaved; "
            f"`python benchmarks/scale.py --incremental {' '.join(str(d) for d in dbs)}`):"
        ),
        "",
        (
            "| rows in store | upload | rows | total | open | stage | validate | key | merge | "
            "refresh | close |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (db, label), row in best.items():
        ph = row["phases"]
        lines.append(
            f"| {sizes[Path(db)]:,} | {label} | {row['rows']:,} | {row['seconds']:.2f} s | "
            + " | ".join(
                f"{ph.get(k, 0):.2f}"
                for k in ("open", "stage", "validate", "key", "merge", "refresh", "close")
            )
            + " |"
        )
    return "\n".join(lines)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import polars

    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, polars {polars.__version__}"
    )


def run_size(result: dict, workdir: Path, rounds: int, day_rows: int, report, checkpoint) -> None:
    """Run every step for result["rows"] rows, filling `result` and checkpointing after each."""
    rows = result["rows"]
    folder = workdir / f"rows-{rows}"
    db = folder / "store.duckdb"
    for stale in folder.glob("store.duckdb*"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    started = time.perf_counter()
    files = monthly_files(folder / "files", rows)
    result["generate_seconds"] = time.perf_counter() - started
    result["file_gib"] = {
        fmt: sum(p.stat().st_size for p, _ in files if p.suffix == f".{fmt}") / 1024**3
        for fmt in ("csv", "parquet")
    }
    report(f"{rows:,} rows: files ready ({result['generate_seconds']:.0f}s)")
    result["ingest"] = ingest_year(db, files, report)
    result["store_gib"] = db.stat().st_size / 1024**3
    checkpoint()
    result["pricing"] = pricing_vs_plain(db, rounds, report)
    checkpoint()
    result["dashboard"] = dashboard(db, 5, report)
    result["forecast"] = forecast(db, report)
    checkpoint()
    result["incremental"] = incremental(db, folder / "files", day_rows, rows, report)
    checkpoint()


def markdown(results: list[dict], args, started: dt.datetime, total_seconds: float) -> str:
    sizes = ", ".join(f"{r['rows']:,}" for r in results)
    lines = [
        f"## Scale run {started:%Y-%m-%d %H:%M} UTC — {sizes} rows",
        "",
        f"`python benchmarks/scale.py --rows {' '.join(str(r['rows']) for r in results)}"
        + (f" --memory-limit {args.memory_limit}" if args.memory_limit else "")
        + (f" --ingest-memory {args.ingest_memory}" if args.ingest_memory else "")
        + f"` ({total_seconds / 60:.0f} min in all)",
        "",
        (
            f"Machine: {machine()}. DuckDB memory_limit "
            f"{args.memory_limit or 'default (80% of RAM)'} (during uploads "
            f"{os.environ.get('FINOPS_INGEST_MEMORY', '1GB')}), threads {os.cpu_count()}; "
            f"code at commit {_commit()} plus the working tree. Shared "
            "with other jobs: ratios come from timings taken side by side in this run."
        ),
        "",
        (
            "| rows | ingest CSV rows/s | ingest Parquet rows/s | first / last upload | "
            "peak RSS ingest | store | plain GROUP BY | finops rebuild + price | ratio | "
            "spend (kept rollup) | rollup rows | peak RSS pricing |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "pricing" not in r:
            lines.append(f"| {r['rows']:,} | (not measured: the run stopped before this step) |")
            continue
        ing = r["ingest"]
        pf = ing["per_format"]
        ups = ing["uploads"]
        p = r["pricing"]
        plain = min(p["plain_persisted"])
        full = min(p["finops"])
        lines.append(
            f"| {r['rows']:,} | {pf['csv'][1] / pf['csv'][0]:,.0f} | {pf['parquet'][1] / pf['parquet'][0]:,.0f} | "
            f"{ups[0][2]:.1f} s / {ups[-1][2]:.1f} s | {ing['peak_gib']:.1f} GiB | {r['store_gib']:.1f} GiB | "
            f"{plain:.2f} s ({min(p['plain']):.2f} s temp) | {full:.2f} s | **{full / plain:.2f}×** "
            f"({full / min(p['plain']):.2f}× temp) | {min(p['spend']):.2f} s | {p['rollup_rows']:,} | {p['peak_gib']:.1f} GiB |"
        )
    lines += [
        "",
        (
            "| rows | dashboard: open read-only session | spend day × team, 1 month + totals | "
            "forecast 28 d, every team | peak RSS forecast |"
        ),
        "|---|---|---|---|---|",
    ]
    for r in results:
        if "forecast" not in r:
            continue
        d = r["dashboard"]
        f = r["forecast"]
        if f is None:
            fc, peak = "finops.analysis.forecast.api not importable", "—"
        elif "error" in f:
            fc, peak = f"failed: {f['error'][:80]}", "—"
        else:
            fc, peak = f"{f['seconds']:.1f} s ({f['series']} series)", f"{f['peak_gib']:.1f} GiB"
        lines.append(
            f"| {r['rows']:,} | {statistics.median(d['open']) * 1000:.0f} ms | "
            f"{statistics.median(d['query']) * 1000:.0f} ms | {fc} | {peak} |"
        )
    lines += [
        "",
        (
            "Incremental upload of one day into the loaded store (one `finops ingest` each: "
            "open, stage, validate, key, merge, rollup refresh, close):"
        ),
        "",
        "| rows in store | upload | rows | total | open | stage | validate | key | merge | refresh | close | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for inc in r.get("incremental", []):
            ph = inc["phases"]
            lines.append(
                f"| {r['rows']:,} | {inc['label']} | {inc['rows']:,} | {inc['seconds']:.2f} s | "
                + " | ".join(
                    f"{ph.get(k, 0):.2f}"
                    for k in ("open", "stage", "validate", "key", "merge", "refresh", "close")
                )
                + f" | {inc['peak_gib']:.1f} GiB |"
            )
    lines += [
        "",
        "Per-upload ingest times (s): "
        + "; ".join(
            f"{r['rows']:,} rows: " + ", ".join(f"{u[2]:.1f}" for u in r["ingest"]["uploads"])
            for r in results
            if "ingest" in r
        ),
        "",
        "Totals priced (spend by day, team, model): "
        + "; ".join(
            f"{r['rows']:,} rows ${r['pricing']['total_usd']:,.2f} ({r['pricing']['unpriced_rows']:,} unpriced rows)"
            for r in results
            if "pricing" in r
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000, 100_000_000])
    parser.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "finops-scale"
    )
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 12GB")
    parser.add_argument(
        "--ingest-memory", default=None, help="FINOPS_INGEST_MEMORY during uploads (default 1GB)"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="timing rounds (default 3; 2 from 100M rows)"
    )
    parser.add_argument("--day-rows", type=int, default=250_000, help="rows in the incremental day")
    parser.add_argument("--out", type=Path, default=HERE / "results_scale.md")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and stores")
    parser.add_argument(
        "--incremental",
        type=Path,
        nargs="+",
        default=None,
        help="only add a day to these stores (kept with --keep), side by side",
    )
    args = parser.parse_args()
    if args.incremental:
        text = incremental_side_by_side(args.incremental, args.day_rows, 2, print)
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(f"{text}\n\nMachine: {machine()}; code at commit {_commit()}.\n\n")
        print(text)
        return
    if args.memory_limit:
        os.environ["FINOPS_MEMORY_LIMIT"] = args.memory_limit
    if args.ingest_memory:
        os.environ["FINOPS_INGEST_MEMORY"] = args.ingest_memory
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FINOPS_TEMP_DIRECTORY", str(args.workdir / "spill"))

    def report(text: str) -> None:
        print(text, flush=True)

    report(machine())
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    earlier = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    results: list[dict] = []

    def checkpoint() -> None:
        """Rewrite this run's section of --out: a long run that stops still leaves its figures."""
        text = markdown(results, args, started, time.perf_counter() - clock)
        args.out.write_text(earlier + text + "\n", encoding="utf-8")

    for rows in args.rows:
        rounds = args.rounds or (2 if rows >= 100_000_000 else 3)
        results.append({"rows": rows})
        run_size(results[-1], args.workdir, rounds, args.day_rows, report, checkpoint)
        if not args.keep:
            shutil.rmtree(args.workdir / f"rows-{rows}", ignore_errors=True)
    checkpoint()
    print(markdown(results, args, started, time.perf_counter() - clock))


if __name__ == "__main__":
    sys.exit(main())
