"""Render time of every app page on a store of N request rows (default 10 million).

    python benchmarks/app_pages.py                 # 10M rows, kept in benchmarks/_data/
    python benchmarks/app_pages.py --rows 1000000 --skip-apptest

Two measurements, side by side in one run:

  library  the library calls a page makes when its cached results are missing (a filter
           changed, or new data arrived): opening the session (read-only, as the app does)
           and the page's one call per action. Best of 3, after one warm-up run (process,
           imports, DuckDB's file cache and the process's priced rollup warm). This is the
           time a user waits after changing a filter. The "(new data)" rows are what a store
           change adds once, for all pages: pricing the rollup again (costing.priced_source),
           and, timed once from cold, the store forecast and the savings search, which the
           Overview, Forecast, Budgets, Savings and review pages then share.
  apptest  the whole page script rendered by Streamlit's AppTest once its results are cached
           (st.cache_data warm): what every rerun and every return to the page costs. Best of 3.

The rows are generated the way benchmarks/pricing_rollup.py does (request grain, 8 models,
40 teams, 400 keys, 2025-07-01 .. 2025-12-31) and rolled up once, as ingest would.
Target (issue): each page ≤ 1 s once warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pricing_rollup import generate

from finops.core.store import connect, fetch_one
from finops.pricing import costing
from finops.pricing.catalog import sync_catalog

MONTH = dt.date(2025, 12, 1)


def build_store(db: Path, rows: int) -> float:
    """Generate `rows` request rows and the daily rollup; reuse a store that already has them."""
    if db.exists():
        con = connect(db)
        try:
            have = fetch_one(con, "SELECT count(*) FROM usage")[0]
            rolled = fetch_one(con, "SELECT count(*) FROM daily_usage")[0]
        finally:
            con.close()
        if have == rows and rolled:
            return 0.0
        db.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    con = connect(db)
    try:
        catalog, _ = sync_catalog(con)
        generate(con, rows)
        costing.refresh_daily_usage(con, catalog.thresholds)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - start


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def library_timings(db: Path) -> list[tuple[str, str, float]]:
    """(page, what it calls, seconds) for the calls each page makes on a cache miss."""
    from finops.analysis import simulate as sim
    from finops.analysis.filters import SpendFilter, filter_options
    from finops.analysis.forecast import state as forecast_state
    from finops.analysis.forecast.state import store_forecast
    from finops.session.session import open_session
    from finops.views import savings
    from finops.views.anomalies import find_for_filter
    from finops.views.budgets import budget_view
    from finops.views.catalog import catalog_overview
    from finops.views.forecast import build_forecast
    from finops.views.overview import build_overview
    from finops.views.review import build_review
    from finops.views.savings import store_opportunities
    from finops.views.teams import team_detail, teams_overview

    everything = SpendFilter()
    one_team = SpendFilter(teams=("team-7",))

    with open_session(db):  # a writer records the catalog and brings the rollup up to date
        pass

    def session_only():
        with open_session(db, read_only=True):
            pass

    def with_session(call):
        # read-only, as the app opens the store (finops.app.support)
        def run():
            with open_session(db, read_only=True) as s:
                return call(s)

        return run

    def new_data(s):
        # what new data (or another catalog) costs once, shared by every page and filter
        costing.clear_priced_cache()
        return s.spend([])

    def once(call):
        # made once per store state and shared by every page after it: timed once, cold
        def run():
            forecast_state._MEMO.clear()
            savings._MEMO.clear()
            return with_session(call)()

        return run

    last = dt.date(2025, 12, 31)
    scenario = sim.Scenario(
        moves=(sim.Move("gpt-4o", to=sim.ModelRef("gpt-4o-mini", "openai")),),
        scope=sim.Scope(teams=("team-7",), first_day=dt.date(2025, 10, 1)),
    )
    plan = [
        ("(every page)", "open_session (catalog load + revision check)", session_only),
        ("(new data)", "pricing the rollup once (first spend read)", with_session(new_data)),
        ("(every page)", "filter_options: the filter bar", with_session(filter_options)),
        (
            "Overview",
            "build_overview",
            with_session(lambda s: build_overview(s, filters=everything)),
        ),
        (
            "Overview, one team",
            "build_overview(team filter)",
            with_session(lambda s: build_overview(s, filters=one_team)),
        ),
        ("Teams", "teams_overview", with_session(lambda s: teams_overview(s, everything))),
        ("Teams", "team_detail", with_session(lambda s: team_detail(s, "team-7", everything))),
        (
            "(new data)",
            "the store forecast (every series, once per state)",
            once(lambda s: store_forecast(s)),
        ),
        (
            "(new data)",
            "the savings search (once per state)",
            once(lambda s: store_opportunities(s)),
        ),
        (
            "Monthly review",
            "build_review (forecast and savings made)",
            with_session(lambda s: build_review(s, MONTH)),
        ),
        ("Price catalog", "catalog_overview", with_session(catalog_overview)),
        (
            "Forecast",
            "build_forecast (total, to the end of next month)",
            with_session(lambda s: build_forecast(s, everything)),
        ),
        (
            "Budgets & alerts",
            "budget_view (status + alerts)",
            with_session(lambda s: budget_view(s, MONTH)),
        ),
        (
            "Anomalies",
            "find_for_filter (last 7 days)",
            with_session(
                lambda s: find_for_filter(
                    s, everything, first_day=last - dt.timedelta(days=6), last_day=last
                )
            ),
        ),
        (
            "Simulator",
            "simulate (one move, one team)",
            with_session(lambda s: sim.simulate(s, scenario)),
        ),
    ]
    out = []
    for page, what, fn in plan:
        if page == "(new data)" and "once per state" in what:
            start = time.perf_counter()
            fn()
            seconds = time.perf_counter() - start
        else:
            seconds, _ = best_of(fn)
        out.append((page, what, seconds))
        print(f"  library  {page:22s} {what:48s} {seconds:7.2f}s", flush=True)
    return out


PAGES = [
    ("Overview", None, {}),
    ("Teams", "teams.py", {}),
    ("Monthly review", "review.py", {}),
    ("Price catalog", "catalog.py", {}),
    ("Forecast", "forecast.py", {}),
    ("Anomalies", "anomalies.py", {}),
    ("Simulator", "simulator.py", {}),
    ("Budgets & alerts", "budgets.py", {}),
    ("Upload", "upload.py", {}),
]


def apptest_timings(db: Path) -> list[tuple[str, float, float]]:
    """(page, first render with cold caches, best warm rerun) through Streamlit's AppTest."""
    from streamlit.testing.v1 import AppTest

    os.environ["FINOPS_DB"] = str(db)
    app = HERE.parent / "app.py"
    out = []
    for title, page, _ in PAGES:
        at = AppTest.from_file(str(app), default_timeout=900)
        if page:
            at.run()
            at.switch_page(f"finops/app/pages/{page}")
        start = time.perf_counter()
        at.run()
        cold = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"{title}: {at.exception}")
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        out.append((title, cold, min(warm)))
        print(f"  apptest  {title:22s} first {cold:7.2f}s   warm {min(warm):6.2f}s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, default=None, help="store to build or reuse")
    parser.add_argument("--skip-apptest", action="store_true")
    parser.add_argument("--skip-library", action="store_true")
    args = parser.parse_args()
    db = args.db or HERE / "_data" / f"app_pages_{args.rows}.duckdb"
    for name in ("FINOPS_PRICING", "FINOPS_TEAMS", "FINOPS_CONTRACTS"):
        os.environ.pop(name, None)
    built = build_store(db, args.rows)
    con = connect(db, read_only=True)
    rollup = fetch_one(con, "SELECT count(*) FROM daily_usage")[0]
    con.close()
    print(
        f"rows: {args.rows:,} (rollup {rollup:,} rows; "
        f"{'built in ' + format(built, '.0f') + 's' if built else 'reused'}) "
        f"duckdb {duckdb.__version__}, {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    results = {}
    if not args.skip_library:
        results["library"] = library_timings(db)
    if not args.skip_apptest:
        results["apptest"] = apptest_timings(db)
    if "apptest" in results:
        warm = [w for _, _, w in results["apptest"]]
        print(f"  apptest warm: median {statistics.median(warm):.2f}s, max {max(warm):.2f}s")


if __name__ == "__main__":
    main()
