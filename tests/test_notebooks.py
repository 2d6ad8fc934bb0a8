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
