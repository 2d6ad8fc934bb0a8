"""The analyst notebooks run top to bottom on the demo store (nbclient, a fresh kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from finops.session.session import load_demo, open_session

nbformat = pytest.importorskip("nbformat", reason="notebook tests need nbformat (test extra)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need nbclient (test extra)")
pytest.importorskip("ipykernel", reason="notebook tests need ipykernel (test extra)")

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("notebooks") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s)
    return db


def test_there_are_three_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore_spend.ipynb",
        "02_forecast_and_budgets.ipynb",
        "03_model_swap_scenario.ipynb",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, demo_db, monkeypatch, tmp_path):
    for name in ("FINOPS_PRICING", "FINOPS_TEAMS", "FINOPS_CONTRACTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FINOPS_DB", str(demo_db))
    book = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in book.cells if c.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    client = nbclient.NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    errors = [
        o
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors


@pytest.mark.slow
def test_the_explore_notebook_prints_the_golden_months_hand_computed_numbers(monkeypatch, tmp_path):
    """The golden month (tests/test_golden_month.py's docstring): June 2025 to date $17.806 over
    27 days, May $4.30, per day (17.806 / 27) / (4.30 / 31) → +375.4%; 2 rows / 18,000 tokens
    unpriced; the review's default month is the last complete one, May, $4.30, with no April."""
    from test_golden_month import CONTRACTS, GOLDEN, PRICING, TEAMS

    db = tmp_path / "golden.duckdb"
    with open_session(db, PRICING, TEAMS, CONTRACTS) as s:
        from finops.session.session import ingest

        ingest(s, [GOLDEN / "usage.csv"])
    for name, value in {
        "FINOPS_DB": db,
        "FINOPS_PRICING": PRICING,
        "FINOPS_TEAMS": TEAMS,
        "FINOPS_CONTRACTS": CONTRACTS,
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("FINOPS_TODAY", raising=False)
    book = nbformat.read(REPO / "notebooks" / "01_explore_spend.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    printed = "".join(
        o.get("text", "")
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )
    assert "June 2025 to date: $17.81 over 27 days" in printed
    assert "May 2025: $4.30; per-day change +375.4%" in printed
    assert "unpriced usage: 2 rows / 18,000 tokens" in printed
    assert "May 2025: $4.30 (— on April)" in printed  # nothing in April: no percentage
