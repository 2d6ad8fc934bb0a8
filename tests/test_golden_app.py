"""Every app page on the golden month, as an admin and as the restricted viewer of ads.

The expected values are the hand computation in tests/test_golden_month.py's docstring; a page
is never compared with the library call that drew it. Extra arithmetic for the pages:

- Teams page, no date filter (May and June): all teams 4.30 + 17.806 = 22.106 ($22.11);
  search 2.30 + 10.312 = 12.612 ($12.61); ads 2.00 + 7.494 = 9.494. The viewer: ads' own
  rows only, 2.00 + 7.169 = 9.169 ($9.17).
- Tables show the cents `finops` prints: rows footing to their total's cents, the spare
  cents to the largest remainders. Teams: 12.612 + 9.494 floor to 12.61 + 9.49 = 22.10, and
  $22.11's spare cent goes to ads (.004 against .002): $12.61, $9.50. June alone: 10.31 +
  7.49 = 17.80, the spare cent of $17.81 to ads: $10.31, $7.50. Search's months: 2.30 and
  10.312 foot to $12.61 as 2.30 + 10.31. Search's projects: 11.637 + 0.975 floor to 11.63 +
  0.97 = 12.60, $12.61's spare cent to web (.007 against .005): $11.64, $0.97.
- Price catalog page, spend of the last 30 days of data (05-29..06-27): alpha b1 1.20 + June
  11.856 = 13.056; thinker 5.95; mystery has no price, so no cost (never $0).
- Anomalies page, last 7 days of data (06-21..06-27): t2 on 06-24 is search's first use of
  thinker, impact its spend since, $1.40.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import REPO
from streamlit.testing.v1 import AppTest
from test_golden_month import (
    CONTRACTS,
    GOLDEN,
    PRICING,
    TEAMS,
)

from finops.session.access import Identification
from finops.session.session import ingest, open_session

PAGES = REPO / "finops" / "app" / "pages"
ADMIN, VIEWER = "lead@finops.example.com", "bo@example.com"
JUNE_RANGE = (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
# what only search's data (or everything) would show, and a restricted viewer must never see
NOT_FOR_THE_VIEWER = ("search", "$10.31", "$12.61", "$17.81", "$22.11", "$16.62", "$4.30")


@pytest.fixture(scope="module")
def golden_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("golden-app") / "golden.duckdb"
    with open_session(db, PRICING, TEAMS, CONTRACTS) as s:
        ingest(s, [GOLDEN / "usage.csv"])
    return db


@pytest.fixture
def app_as(golden_store, monkeypatch):
    """open(page, who, state) → the AppTest after switching to the page as that identity."""
    import finops.app.support as ui

    monkeypatch.setenv("FINOPS_DB", str(golden_store))
    monkeypatch.setenv("FINOPS_PRICING", str(PRICING))
    monkeypatch.setenv("FINOPS_TEAMS", str(TEAMS))
    monkeypatch.setenv("FINOPS_CONTRACTS", str(CONTRACTS))
    monkeypatch.delenv("FINOPS_TODAY", raising=False)

    def open_page(page: str, who: str, state: dict | None = None) -> AppTest:
        monkeypatch.setattr(ui, "viewer_identity", lambda policy: Identification(who))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
        assert not at.exception, at.exception
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.switch_page(str(PAGES / f"{page}.py")).run()
        assert not at.exception, at.exception
        return at

    return open_page


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(at: AppTest) -> str:
    """Everything a person can read on the page, as one string."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text"):
        parts += [e.value for e in getattr(at, kind)]
    for kind in ("info", "warning", "error", "success"):
        parts += [e.value for e in getattr(at, kind)]
    for m in at.metric:
        parts += [m.label, m.value, str(m.delta)]
    for d in at.dataframe:
        parts.append(d.value.to_string())
    for w in list(at.selectbox) + list(at.multiselect) + list(at.radio):
        parts += [str(o) for o in w.options]
    return "\n".join(parts).replace("\\$", "$")


def _column(at: AppTest, index: int, key: str, value: str) -> dict:
    frame = at.dataframe[index].value
    return {r[key]: r[value] for r in frame.to_dict("records")}


# --- the admin sees the whole month -----------------------------------------------------------


def test_overview_as_admin(app_as):
    at = app_as("overview", ADMIN)
    m = _metrics(at)
    assert m["Spend June 2025 to date"] == "$17.81"
    assert m["Spend May 2025"] == "$4.30"
    assert m["Budget June"] == "$40.00"
    deltas = {x.label: x.delta for x in at.metric}
    assert deltas["Spend June 2025 to date"] == "+474.4% vs same days last month"
    assert deltas["Spend May 2025"] == "+375.4% per day this month"
    text = _texts(at)
    assert "Effective cost after your contracts: $16.62 June to date, $3.90 in May." in text
    assert "2 rows / 18,000 tokens have no catalog price" in text
    by_model = _column(at, 0, "model", "cost_usd")
    # alpha 11.856, thinker 5.95; mystery is unpriced: a dash, never $0
    assert by_model == {"alpha": "$11.86", "thinker": "$5.95", "mystery": "—"}


def test_teams_page_as_admin(app_as):
    at = app_as("teams", ADMIN)
    m = _metrics(at)
    assert m["Spend, all teams shown"] == "$22.11"
    assert m["Spend (search)"] == "$12.61"
    assert _column(at, 0, "team", "cost_usd") == {"search": 12.61, "ads": 9.50}
    monthly = _column(at, 1, "month", "cost_usd")
    assert list(monthly.values()) == [2.30, 10.31]
    assert _column(at, 3, "project_id", "cost_usd") == {"web": 11.64, "shared": 0.97}


def test_teams_page_for_june_only(app_as):
    at = app_as("teams", ADMIN, {"filter_range": JUNE_RANGE})
    assert _metrics(at)["Spend, all teams shown"] == "$17.81"
    assert _column(at, 0, "team", "cost_usd") == {"search": 10.31, "ads": 7.50}


def test_review_page_for_june_as_admin(app_as):
    at = app_as("review", ADMIN)
    at.selectbox(key="review_month").set_value(dt.date(2025, 6, 1)).run()
    assert not at.exception, at.exception
    m = _metrics(at)
    assert m["Total June 2025 to date"] == "$17.81"
    assert m["Total May 2025"] == "$4.30"
    assert m["Change"] == "+$13.51"
    assert (m["Unpriced rows"], m["Unpriced tokens"]) == ("2", "18,000")
    assert m["Cost per 1K requests"] == "$147.16"
    by_team = _column(at, 0, "team", "this month")
    assert by_team == {"search": "$10.31", "ads": "$7.50"}  # cents allocated to foot to $17.81


def test_forecast_page_as_admin(app_as):
    at = app_as("forecast", ADMIN)
    months = _column(at, 0, "month", "actual_to_date")
    assert months[next(iter(months))] == 17.81  # 17.806 to the cent
    assert "through 2025-06-27" in _texts(at)


def test_budgets_page_as_admin(app_as):
    at = app_as("budgets", ADMIN)
    m = _metrics(at)
    # budgets judge effective cost: 16.616 ($16.62); search 10.032, ads 6.584, shown in the
    # cents `finops budgets` prints, footing to $16.62: search $10.03, ads $6.59 (the spare
    # cent to the larger remainder, ads' .004); at list ads 7.494 → $7.50 the same way
    assert (m["Spend June 2025 to date"], m["Budget (total)"]) == ("$16.62", "$40.00")
    actual = _column(at, 0, "team", "actual_usd")
    assert {"total" if k == "—" else k: v for k, v in actual.items()} == {
        "ads": 6.59,
        "search": 10.03,
        "total": 16.62,
    }
    text = _texts(at)
    assert (
        "team ads: $6.59 spent (effective cost; $7.50 at list) in June 2025 to 2025-06-27" in text
    )
    assert "82% of its $8.00 budget" in text
    assert "2 usage rows / 18,000 tokens in June 2025 have no price" in text


def test_anomalies_page_as_admin(app_as):
    at = app_as("anomalies", ADMIN)
    frame = at.dataframe[0].value
    found = {
        (r["day"].date(), r["check"], r["key"], r["impact_usd"]) for r in frame.to_dict("records")
    }
    assert found == {(dt.date(2025, 6, 24), "new_model", "search", 1.4)}


def test_catalog_page_as_admin(app_as):
    at = app_as("catalog", ADMIN)
    in_use = next(d.value for d in at.dataframe if "last_used" in d.value.columns)
    cost = next(c for c in in_use.columns if c.startswith("cost"))  # spend of the last 30 days
    costs = {r["model"]: r[cost] for r in in_use.to_dict("records")}
    assert (costs["alpha"], costs["thinker"]) == ("$13.06", "$5.95")  # 13.056, 5.95
    assert costs["mystery"] == "—", "an unpriced model shows no cost, never $0"


def test_simulator_and_upload_pages_as_admin(app_as):
    at = app_as("simulator", ADMIN)
    # the last 28 days of data, 05-31..06-27: alpha b1 1.20 + June 11.856 = 13.056; thinker
    # t1 + t2 = 5.95; mystery has no price, so no amount (never $0)
    assert at.selectbox(key="sim_from").options == [
        "alpha ($13.06 in the last 28 days)",
        "thinker ($5.95 in the last 28 days)",
        "mystery",
    ]
    at = app_as("upload", ADMIN)
    assert not any("Uploading is for finops admins" in i.value for i in at.info)


# --- the restricted viewer sees ads' own rows and nothing else --------------------------------


def test_overview_as_the_viewer(app_as):
    at = app_as("overview", VIEWER)
    m = _metrics(at)
    assert m["Spend June 2025 to date"] == "$7.17"
    assert m["Spend May 2025"] == "$2.00"
    assert {x.label: x.delta for x in at.metric}["Spend June 2025 to date"] == (
        "+258.4% vs same days last month"
    )
    text = _texts(at)
    assert "$6.26 June to date, $1.60 in May" in text
    assert "1 row / 12,000 tokens have no catalog price" in text
    by_model = _column(at, 0, "model", "cost_usd")
    assert by_model == {"thinker": "$4.55", "alpha": "$2.62", "mystery": "—"}  # alpha 2.619


def test_teams_page_as_the_viewer(app_as):
    at = app_as("teams", VIEWER)
    m = _metrics(at)
    assert (m["Spend, all teams shown"], m["Spend (ads)"]) == ("$9.17", "$9.17")
    assert at.selectbox(key="teams_team").options == ["ads"]
    assert list(_column(at, 1, "month", "cost_usd").values()) == [2.00, 7.17]  # 7.169


def test_review_page_for_june_as_the_viewer(app_as):
    at = app_as("review", VIEWER)
    at.selectbox(key="review_month").set_value(dt.date(2025, 6, 1)).run()
    assert not at.exception, at.exception
    m = _metrics(at)
    assert m["Total June 2025 to date"] == "$7.17"
    assert m["Total May 2025"] == "$2.00"
    assert (m["Unpriced rows"], m["Unpriced tokens"]) == ("1", "12,000")


def test_forecast_and_budget_pages_as_the_viewer(app_as):
    at = app_as("forecast", VIEWER)
    months = _column(at, 0, "month", "actual_to_date")
    assert months[next(iter(months))] == 7.17  # 7.169 to the cent
    at = app_as("budgets", VIEWER)
    # effective 6.259 ($6.26) is 78.2% of ads' $8.00: under the 80% threshold, no budget alert
    assert _metrics(at)["Spend June 2025 to date"] == "$6.26"
    text = _texts(at)
    assert "1 usage row / 12,000 tokens in June 2025 have no price" in text
    assert "% of its $8.00 budget" not in text


def test_the_viewer_may_not_upload(app_as):
    at = app_as("upload", VIEWER)
    assert any("Uploading is for finops admins" in i.value for i in at.info)


@pytest.mark.parametrize(
    "page",
    ["overview", "teams", "review", "forecast", "simulator", "budgets", "anomalies", "catalog"],
)
def test_no_page_shows_the_viewer_another_teams_spend(app_as, page):
    text = _texts(app_as(page, VIEWER))
    leaks = [s for s in NOT_FOR_THE_VIEWER if s in text]
    assert not leaks, f"{page} shows {leaks}"


def test_the_budgets_page_shows_the_viewer_only_ads_budget(app_as):
    at = app_as("budgets", VIEWER)
    teams = at.dataframe[0].value["team"].tolist()
    assert teams == ["ads", "—"]  # ads, then the total of the viewer's teams
    assert "$40.00" not in _texts(at)  # the organisation's budget is not the viewer's


def test_the_overview_and_review_compare_the_viewer_with_ads_budget(app_as):
    """The organisation's $40.00 is not the viewer's: ads' own budget is $8.00."""
    assert _metrics(app_as("overview", VIEWER))["Budget June"] == "$8.00"
    assert _metrics(app_as("review", VIEWER))["Monthly budget"] == "$8.00"
