from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from finops.session.session import open_session

FIXTURES = Path(__file__).parent / "fixtures"
PRICING = FIXTURES / "pricing"
HAND_PRICED = FIXTURES / "usage" / "hand_priced.csv"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def pricing_dir(tmp_path: Path) -> Path:
    """A private copy of the test catalog, safe to edit."""
    target = tmp_path / "pricing"
    shutil.copytree(PRICING, target)
    return target


@pytest.fixture
def loaded(db: Path, pricing_dir: Path):
    """A store holding the hand-priced fixture; yields (db, pricing_dir)."""
    with open_session(db, pricing_dir) as s:
        from finops.session.session import ingest

        ingest(s, [HAND_PRICED])
    return db, pricing_dir


def query_store(db: Path, sql: str) -> list[tuple]:
    """The rows of one query on a store file, opened read-only and closed again."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# With FINOPS_NO_SKIPS=1 (`make test`, and so CI) a skipped test is a failure: a browser,
# Spark or data test that cannot run must not pass the suite silently.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("FINOPS_NO_SKIPS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, which FINOPS_NO_SKIPS=1 makes a failure: {reason}"


# ... and so is a whole module skipped at collection (a module-level importorskip or
# pytest.skip(allow_module_level=True)), which the report hook above never sees
@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("FINOPS_NO_SKIPS") == "1" and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"skipped at collection, which FINOPS_NO_SKIPS=1 makes a failure: {reason}"
        )
