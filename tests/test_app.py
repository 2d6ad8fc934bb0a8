"""Every page runs headless on a real store and shows the library's numbers."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from finops.overview import build_overview
from finops.session import open_session

from conftest import REPO


@pytest.fixture
def app_env(loaded, monkeypatch):
    db, pricing = loaded
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    return db, pricing


def test_overview_headline_equals_the_library(app_env):
    db, pricing = app_env
    with open_session(db, pricing) as s:
        ov = build_overview(s)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spend March 2025 to date"] == f"${ov.month_to_date_usd:,.2f}" == "$9.01"
    assert any("Unpriced usage: 2 rows / 3,500 tokens" in w.value for w in at.warning)


def test_overview_on_an_empty_store_says_how_to_load_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "finops demo" in at.info[0].value
