"""Access control: a restricted viewer never sees another team's spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from conftest import FIXTURES

from finops.export.focus import export_focus
from finops.pricing import costing
from finops.session.access import Identification, load_access, restrict_to_teams, visible_teams
from finops.session.session import open_session

ACCESS = """
access:
  admins: ["*@finops.example.com"]
  header: X-Forwarded-Email
"""


@pytest.fixture
def teams_with_access(tmp_path):
    text = (FIXTURES / "teams" / "teams.yaml").read_text()
    text = text.replace("cost_center: CC-202}", "cost_center: CC-202, viewers: [bo@example.com]}")
    path = tmp_path / "teams.yaml"
    path.write_text(text + ACCESS)
    return path


def test_who_sees_what(teams_with_access):
    policy = load_access(teams_with_access)
    assert policy.header == "X-Forwarded-Email"
    assert visible_teams(policy, "bo@example.com") == ["ads"]
    assert visible_teams(policy, "lead@finops.example.com") is None  # admin: everything
    assert visible_teams(policy, "stranger@example.com") == []
    assert visible_teams(policy, None) == []
    assert visible_teams(None, "anyone") is None  # access control off


def test_a_restricted_viewer_sees_only_their_teams_everywhere(loaded, teams_with_access, tmp_path):
    db, pricing = loaded
    with open_session(db, pricing, teams_with_access) as s:
        restrict_to_teams(s, ["ads"])
        by_team = s.spend(["team"])
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
        rows = costing.priced_rows(
            s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds
        )
        export = export_focus(s, month=dt.date(2025, 3, 1), out=tmp_path / "ads.parquet")
    # ads' own rows: r4 $0.60 and r5 $0.57 priced, r7 and r8 unpriced; shared splits hidden
    assert by_team["team"].to_list() == ["ads"]
    assert totals.cost_usd == Decimal("1.17")
    assert totals.unpriced_rows == 2
    assert set(rows["request_id"]) == {"r4", "r5", "r7", "r8"}
    assert export.list_cost_usd == Decimal("1.17")
    assert set(pl.read_parquet(tmp_path / "ads.parquet")["x_Team"]) == {"ads"}


def test_restriction_is_per_connection(loaded, teams_with_access):
    db, pricing = loaded
    with open_session(db, pricing, teams_with_access) as s:
        restrict_to_teams(s, [])
        assert costing.spend_totals(s.con, revision_id=s.revision_id).usage_rows == 0
    with open_session(db, pricing, teams_with_access) as s:  # a new session sees all again
        assert costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd == Decimal("9.01")


def test_the_app_shows_a_viewer_only_their_teams(loaded, teams_with_access, monkeypatch):
    from conftest import REPO
    from streamlit.testing.v1 import AppTest

    db, pricing = loaded
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    monkeypatch.setenv("FINOPS_TEAMS", str(teams_with_access))
    import finops.app.support as ui

    monkeypatch.setattr(ui, "viewer_identity", lambda policy: Identification("bo@example.com"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Spend March 2025 to date"] == "$1.17"
    at.switch_page(str(REPO / "finops" / "app" / "pages" / "upload.py")).run()
    assert any("Uploading is for finops admins" in i.value for i in at.info)
    monkeypatch.setattr(
        ui, "viewer_identity", lambda policy: Identification("stranger@example.com")
    )
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert any("not listed as a viewer" in e.value for e in at.error)
    assert not at.metric
    monkeypatch.setattr(
        ui, "viewer_identity", lambda policy: Identification("lead@finops.example.com")
    )
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert {m.label: m.value for m in at.metric}["Spend March 2025 to date"] == "$9.01"
