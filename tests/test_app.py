"""Every page runs headless on the demo store and shows what the library computes for it.

These tests check the wiring on a large store (filters, state carried across pages, one
library call per page); the dollars themselves are checked against hand-computed values in
tests/test_golden_app.py, on the golden month, as an admin and as a restricted viewer."""

from __future__ import annotations

import datetime as dt
import sys

import polars as pl
import pytest
from conftest import FIXTURES, REPO
from streamlit.testing.v1 import AppTest

from finops.analysis import simulate as sim
from finops.analysis.filters import SpendFilter
from finops.analysis.opportunities import find_opportunities
from finops.core import format as fmt
from finops.core.demo import DEMO_TEAMS
from finops.core.store import fetch_one
from finops.session.session import load_demo, open_session
from finops.views.anomalies import find_for_filter
from finops.views.budgets import budget_view
from finops.views.catalog import catalog_overview
from finops.views.forecast import build_forecast
from finops.views.overview import build_overview
from finops.views.review import build_review, review_sections
from finops.views.teams import team_detail, teams_overview

PAGES = "finops/app/pages"


@pytest.fixture
def app_env(loaded, monkeypatch):
    db, pricing = loaded
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    return db, pricing


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The demo history (Aug–Dec 2025, 8 teams, 4 providers) priced by the bundled catalog."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=153)
    return db


@pytest.fixture
def demo_env(demo_store, monkeypatch):
    for name in ("FINOPS_PRICING", "FINOPS_TEAMS", "FINOPS_CONTRACTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FINOPS_DB", str(demo_store))
    return demo_store


def _app() -> AppTest:
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120)


def _open(page: str, *, state: dict | None = None) -> AppTest:
    at = _app().run()
    assert not at.exception, at.exception
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(f"{PAGES}/{page}").run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _deltas(at: AppTest) -> dict[str, str]:
    return {m.label: m.delta for m in at.metric}


# --- Overview ---------------------------------------------------------------------------------


def test_overview_headline_equals_the_library(app_env):
    db, pricing = app_env
    with open_session(db, pricing) as s:
        ov = build_overview(s)
    at = _app().run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Spend March 2025 to date"] == f"${ov.month_to_date_usd:,.2f}" == "$9.01"
    assert any("Unpriced usage: 2 rows / 3,500 tokens" in w.value for w in at.warning)


def test_overview_shows_effective_cost_beside_list_cost(app_env, monkeypatch):
    monkeypatch.setenv("FINOPS_CONTRACTS", str(FIXTURES / "contracts" / "contracts.yaml"))
    at = _app().run()
    assert not at.exception
    assert _metrics(at)["Spend March 2025 to date"] == "$9.01"
    # contracts fixture: effective March cost is $7.616 (tests/test_contracts.py)
    assert any(
        "Effective cost after your contracts: $7.62 March to date" in c.value for c in at.caption
    )


def test_overview_on_an_empty_store_says_how_to_load_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_DB", str(tmp_path / "none.duckdb"))
    at = _app().run()
    assert not at.exception
    assert "finops demo" in at.info[0].value


def test_overview_on_the_demo_equals_the_library(demo_env):
    with open_session(demo_env) as s:
        ov = build_overview(s)
    at = _app().run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Spend December 2025 to date"] == fmt.usd(ov.month_to_date_usd)
    assert metrics["Spend November 2025"] == fmt.usd(ov.last_month_usd)
    # the month is complete: the second card is what contracts make of it, not its total again
    assert "Month total (complete)" not in metrics
    assert metrics["Effective cost December"] == fmt.usd(ov.month_to_date_effective_usd)
    assert at.subheader[0].value == f"Spend over time: {fmt.usd(ov.period_usd)}"


def test_overview_filters_and_projection_equal_the_library(demo_env):
    """A team filter and a date range ending mid-month: the page projects the month end."""
    flt = SpendFilter(to_day=dt.date(2025, 12, 16), teams=("support", "search"))
    with open_session(demo_env) as s:
        ov = build_overview(s, filters=flt)
    assert ov.projection.available and ov.projection.days_forecast == 16
    at = _app()
    at.session_state["filter_teams"] = ["support", "search"]
    at.session_state["filter_range"] = (dt.date(2025, 8, 1), dt.date(2025, 12, 15))
    at.run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Spend December 2025 to date"] == fmt.usd(ov.month_to_date_usd)
    assert metrics["Projected month end"] == fmt.usd(ov.projection.mean)
    assert ov.projection.lo80 <= ov.projection.mean <= ov.projection.hi80
    # every view of spend over time splits the same total
    for dimension in ("team", "model", "provider"):
        at.radio(key="overview_split").set_value(dimension).run()
        assert not at.exception
        assert at.subheader[0].value == f"Spend over time: {fmt.usd(ov.period_usd)}"


def test_filters_carry_across_pages(demo_env):
    at = _app().run()
    at.sidebar.multiselect[0].select("support").run()  # Teams
    assert not at.exception
    at.switch_page(f"{PAGES}/teams.py").run()
    assert not at.exception
    assert at.sidebar.multiselect[0].value == ["support"]
    with open_session(demo_env) as s:
        summary = teams_overview(s, SpendFilter(teams=("support",)))
    assert _metrics(at)["Spend, all teams shown"] == fmt.usd(summary.total_usd)
    assert summary.teams["team"].to_list() == ["support"]


# --- Teams ------------------------------------------------------------------------------------


def test_teams_page_drill_down_equals_the_library(demo_env):
    at = _open("teams.py")
    with open_session(demo_env) as s:
        summary = teams_overview(s, SpendFilter())
        top = summary.teams["team"][0]
        detail = team_detail(s, top, SpendFilter())
        other = summary.teams["team"][1]
        detail_other = team_detail(s, other, SpendFilter())
    metrics = _metrics(at)
    assert metrics["Spend, all teams shown"] == fmt.usd(summary.total_usd)
    assert metrics[f"Spend ({top})"] == fmt.usd(detail.cost_usd)
    assert metrics["Cost per 1M tokens"] == fmt.rate(detail.usd_per_mtok)
    assert metrics["Cache-hit rate"] == fmt.share(detail.cache_hit_rate)
    # the models, keys and users of a team add up to the team
    assert sum(detail.models["cost_usd"].drop_nulls()) == detail.cost_usd
    assert sum(detail.keys["cost_usd"].drop_nulls()) == detail.cost_usd
    at.selectbox(key="teams_team").set_value(other).run()
    assert not at.exception
    assert _metrics(at)[f"Spend ({other})"] == fmt.usd(detail_other.cost_usd)


def test_team_users_add_up_to_the_team(demo_env):
    with open_session(demo_env) as s:
        detail = team_detail(s, "search", SpendFilter(from_day=dt.date(2025, 11, 1)))
    assert detail.users.height > 10  # the gateway logs carry user ids
    assert sum(detail.users["cost_usd"].drop_nulls()) == detail.cost_usd


# --- Monthly review ---------------------------------------------------------------------------


def test_review_page_equals_the_library(demo_env):
    at = _open("review.py")
    with open_session(demo_env) as s:
        review = build_review(s, dt.date(2025, 12, 1))
    sections = review_sections(review)
    expected = {m.label: m.value for section in sections for m in section.metrics}
    assert _metrics(at) == expected
    b = review.bridge_cents()
    assert expected["Total December 2025"] == fmt.usd(review.total_usd)
    assert expected["Volume effect"] == fmt.signed_usd(b["volume_usd"])
    assert [s.value for s in at.subheader] == [s.title for s in sections]


def test_review_present_mode_shows_one_section_per_screen(demo_env):
    at = _open("review.py")
    at.toggle(key="review_present").set_value(True).run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Summary"]
    next_button = next(b for b in at.button if b.label == "Next ▶")
    next_button.click().run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["What to act on"]


def test_review_page_for_another_month(demo_env):
    at = _open("review.py")
    at.selectbox(key="review_month").set_value(dt.date(2025, 10, 1)).run()
    assert not at.exception
    with open_session(demo_env) as s:
        review = build_review(s, dt.date(2025, 10, 1))
    assert _metrics(at)["Total October 2025"] == fmt.usd(review.total_usd)


# --- Price catalog ----------------------------------------------------------------------------


def test_catalog_page_equals_the_library(demo_env):
    at = _open("catalog.py")
    with open_session(demo_env) as s:
        overview = catalog_overview(s)
    metrics = _metrics(at)
    assert metrics["Models in the catalog"] == f"{overview.models:,}"
    assert metrics["Catalog revision in use"] == str(overview.revision_id)
    everything = at.selectbox(key="catalog_model").options
    at.text_input(key="catalog_query").input("sonnet").run()
    assert not at.exception
    found = at.selectbox(key="catalog_model").options
    # the search narrows the list to models whose id (or an alias) holds the text
    assert "anthropic / claude-sonnet-4-5" in found
    assert not any("gpt" in o or "gemini" in o for o in found)
    assert set(found) < set(everything)
    assert all("sonnet" in o for o in found if "claude" in o)


def test_catalog_page_shows_a_revisions_dollar_impact(tmp_path, monkeypatch):
    """A corrected price recorded as a second revision: the page shows what it moves."""
    import shutil

    from conftest import HAND_PRICED, PRICING

    pricing = tmp_path / "pricing"
    shutil.copytree(PRICING, pricing)
    db = tmp_path / "store.duckdb"
    with open_session(db, pricing) as s:
        from finops.session.session import ingest

        ingest(s, [HAND_PRICED])
    # beta/small doubles its prices: 2M input × $0.15 + 0.5M output × $0.6 = $0.60 → $1.20
    text = (
        (pricing / "beta.yaml")
        .read_text()
        .replace("input: 0.15, output: 0.6", "input: 0.3, output: 1.2")
    )
    (pricing / "beta.yaml").write_text(text)
    with open_session(db, pricing) as s:
        assert s.revision_id == 2
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    at = _open("catalog.py")
    label = "Stored history priced by revision 2 instead of 1"
    assert _deltas(at)[label] == "+$0.60"


# --- Upload -----------------------------------------------------------------------------------

GOOD = (
    "period_start,provider,model,input_tokens,output_tokens,team\n"
    "2026-01-02T10:00:00Z,openai,gpt-4o-mini,1000000,100000,growth\n"
    "2026-01-02T11:00:00Z,openai,gpt-4o-mini,1000000,100000,growth\n"
    "2026-01-02T12:00:00Z,openai,no-such-model-x,5000,500,growth\n"
)
BAD = (
    "period_start,provider,model,input_tokens,output_tokens,team\n"
    "2026-01-02T10:00:00Z,openai,gpt-4o-mini,1000,100,growth\n"
    "2026-01-02T11:00:00Z,openai,gpt-4o-mini,lots,100,growth\n"
)


def _usage_rows(db) -> int:
    with open_session(db) as s:
        return fetch_one(s.con, "SELECT count(*) FROM usage")[0]


@pytest.fixture
def fresh_demo(tmp_path, monkeypatch):
    for name in ("FINOPS_PRICING", "FINOPS_TEAMS", "FINOPS_CONTRACTS"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=30)
    monkeypatch.setenv("FINOPS_DB", str(db))
    return db


def test_upload_previews_then_loads_several_files(fresh_demo):
    before = _usage_rows(fresh_demo)
    at = _open("upload.py")
    at.file_uploader[0].set_value(
        [
            ("a.csv", GOOD.encode(), "text/csv"),
            ("b.csv", GOOD.replace("growth", "mobile").encode(), "text/csv"),
        ]
    ).run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert any(
        lbl.startswith("✅ a.csv — finops canonical usage") and "3 rows" in lbl for lbl in labels
    )
    assert any("no-such-model-x" in w.value for w in at.warning)
    assert _usage_rows(fresh_demo) == before  # a preview writes nothing
    load = next(b for b in at.button if b.label.startswith("Load 2 files, 6 rows"))
    load.click().run()
    assert not at.exception
    assert at.success, [e.value for e in at.error] + [w.value for w in at.warning]
    assert "6 new, 0 duplicate, 0 replaced rows from 2 files" in at.success[0].value
    assert _usage_rows(fresh_demo) == before + 6
    result = at.dataframe[0].value
    assert list(result["file"]) == ["a.csv", "b.csv"]
    assert list(result["new"]) == [3, 3]
    # the same file again: duplicates, nothing doubled
    at.file_uploader[0].set_value(("a.csv", GOOD.encode(), "text/csv")).run()
    next(b for b in at.button if b.label.startswith("Load 1 file,")).click().run()
    assert "0 new, 3 duplicate" in at.success[0].value
    assert _usage_rows(fresh_demo) == before + 6


def test_upload_error_names_file_row_and_field_and_leaves_the_store_untouched(fresh_demo):
    before = _usage_rows(fresh_demo)
    at = _open("upload.py")
    at.file_uploader[0].set_value(
        [("good.csv", GOOD.encode(), "text/csv"), ("bad.csv", BAD.encode(), "text/csv")]
    ).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("bad.csv, row 2, field input_tokens:") for e in errors), errors
    assert any("Nothing has been written to the store" in e for e in errors)
    assert not [b for b in at.button if b.label.startswith("Load")]
    assert _usage_rows(fresh_demo) == before


OVERLAP_HEADER = "period_start,period_end,provider,model,input_tokens,output_tokens\n"
# March 1st 2025 of a provider the demo does not use: two hourly buckets (100 + 200 input
# tokens), then the same day as one daily bucket (300)
HOURLY = (
    OVERLAP_HEADER
    + "2025-03-01T00:00:00Z,2025-03-01T01:00:00Z,mistral,mistral-large-latest,100,10\n"
    + "2025-03-01T01:00:00Z,2025-03-01T02:00:00Z,mistral,mistral-large-latest,200,20\n"
)
DAILY = (
    OVERLAP_HEADER
    + "2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,mistral,mistral-large-latest,300,30\n"
)


def _mistral_input(db) -> tuple:
    with open_session(db) as s:
        return fetch_one(
            s.con, "SELECT count(*), sum(input_tokens) FROM usage WHERE provider = 'mistral'"
        )


def test_upload_refuses_an_overlap_and_replaces_it_when_asked(fresh_demo):
    """The refusal names the page's own choice, not a command-line flag; ticking it keeps the
    daily file's one row for the day in place of the two hourly ones: 1 row, 300 tokens."""
    at = _open("upload.py")
    at.file_uploader[0].set_value(("hourly.csv", HOURLY.encode(), "text/csv")).run()
    next(b for b in at.button if b.label.startswith("Load 1 file,")).click().run()
    assert _mistral_input(fresh_demo) == (2, 300)
    at.file_uploader[0].set_value(("daily.csv", DAILY.encode(), "text/csv")).run()
    next(b for b in at.button if b.label.startswith("Load 1 file,")).click().run()
    errors = [e.value for e in at.error]
    assert any(
        e.startswith("daily.csv: mistral usage on 2025-03-01 is already stored 1-hour buckets")
        and "Tick “Replace overlapping days” and load again to keep this file's rows" in e
        and "--replace-overlap" not in e
        and e.endswith("nothing was loaded.")
        for e in errors
    ), errors
    assert _mistral_input(fresh_demo) == (2, 300)
    next(c for c in at.checkbox if c.label == "Replace overlapping days").check().run()
    next(b for b in at.button if b.label.startswith("Load 1 file,")).click().run()
    assert not at.exception
    assert "1 new, 0 duplicate, 2 replaced rows from 1 file" in at.success[0].value
    assert _mistral_input(fresh_demo) == (1, 300)


# --- all pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "overview.py",
        "teams.py",
        "review.py",
        "forecast.py",
        "simulator.py",
        "savings.py",
        "anomalies.py",
        "budgets.py",
        "upload.py",
        "catalog.py",
    ],
)
def test_every_page_runs_on_an_empty_store(page, tmp_path, monkeypatch):
    db = tmp_path / "empty.duckdb"
    with open_session(db):
        pass
    monkeypatch.setenv("FINOPS_DB", str(db))
    at = _open(page)
    assert not at.error


def test_app_lists_every_page_module():
    """Each page module in finops/app/pages is reachable from the navigation."""
    app = (REPO / "app.py").read_text()
    modules = sorted(p.name for p in (REPO / PAGES).glob("*.py") if p.name != "__init__.py")
    assert modules and all(f'"{m}"' in app for m in modules)


# --- Forecast, Anomalies, Simulator -----------------------------------------------------------


def test_forecast_page_agrees_with_the_review_and_the_library(demo_env):
    """One forecast horizon everywhere: the page's next month is the review's next month."""
    at = _open("forecast.py")
    with open_session(demo_env) as s:
        review = build_review(s, dt.date(2025, 12, 1))
        result = build_forecast(s, SpendFilter())
    january = result.months.filter(pl.col("month") == dt.date(2026, 1, 1)).row(0, named=True)
    metrics = _metrics(at)
    assert metrics["January 2026 (forecast)"] == fmt.usd(january["mean"])
    assert fmt.usd(january["mean"]) == fmt.usd(review.forecast.mean)
    assert metrics["December 2025 (actual)"] == fmt.usd(review.total_usd)


def test_forecast_page_split_by_team_adds_up(demo_env):
    at = _open("forecast.py")
    at.selectbox(key="fc_split").set_value("team").run()
    assert not at.exception
    assert "support" in at.radio(key="fc_series").options
    months = at.dataframe[0].value
    teams = months[months["key"] != "total"]
    assert set(teams["key"]) >= {"support", "search"}
    # every month: the teams' actuals and forecasts add up to the total row, to the cent
    for month, total in months[months["key"] == "total"].groupby("month"):
        parts = teams[teams["month"] == month]
        for column in ("actual_to_date", "mean"):
            assert round(parts[column].sum(), 2) == round(total[column].sum(), 2), (month, column)


def test_anomalies_page_equals_the_library(demo_env):
    at = _open("anomalies.py")
    with open_session(demo_env) as s:
        found = find_for_filter(
            s, SpendFilter(), first_day=dt.date(2025, 12, 25), last_day=dt.date(2025, 12, 31)
        )
    assert _metrics(at)["Findings"] == f"{found.height:,}"


def test_simulator_page_starts_on_the_largest_spender_and_equals_the_library(demo_env):
    """The demo's last 28 days (2025-12-04..31): the largest spender by spend per model; the
    page opens on it with a suggested target, offers no model retired by 2025-12-31, and shows
    the forward saving per month that simulate() gives for the same move."""
    at = _open("simulator.py")
    assert not at.exception and not at.error
    with open_session(demo_env) as s:
        recent = s.spend(["model"], from_day=dt.date(2025, 12, 4), to_day=dt.date(2026, 1, 1))
        top = recent.sort("cost_usd", descending=True, nulls_last=True)["model"][0]
        retired = sorted(
            f"{m.provider} / {m.id}"
            for m in s.catalog.models
            if m.deprecated_on is not None and m.deprecated_on <= dt.date(2025, 12, 31)
        )
        source = at.selectbox(key="sim_from").value
        assert source == top
        target = at.selectbox(key=f"sim_to_{source}")
        assert retired and not set(retired) & set(target.options)
        provider, model = target.value
        result = sim.simulate(
            s,
            sim.Scenario(
                name=f"{source} → {provider} / {model}",
                moves=(sim.Move(source, to=sim.ModelRef(model, provider)),),
            ),
        )
    metrics = _metrics(at)
    assert metrics["Saving"] == f"{fmt.usd(result.monthly['savings_usd'])}/month"
    assert metrics["On the scenario"] == (
        f"{fmt.usd(result.monthly['moved_scenario_cost_usd'])}/month"
    )
    assert len(at.get("plotly_chart")) >= 1


def test_savings_page_lists_the_opportunities_of_the_library(demo_env):
    at = _open("savings.py")
    assert not at.exception and not at.error
    with open_session(demo_env) as s:
        found = find_opportunities(s)
    table = at.dataframe[0].value
    assert list(table["what"]) == [o.title for o in found]
    assert list(table["per month"]) == [fmt.usd(o.savings_usd) for o in found]


def test_budgets_page_equals_the_library(demo_env, tmp_path, monkeypatch):
    teams = tmp_path / "teams.yaml"
    lines = ["monthly_budget_usd: 1000", "teams:"]
    lines += [f"  - {{name: {t}, monthly_budget_usd: 100}}" for t in DEMO_TEAMS]
    lines += ["rules:"] + [f"  - {{team: {t}, match: {{team: {t}}}}}" for t in DEMO_TEAMS]
    teams.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("FINOPS_TEAMS", str(teams))
    at = _open("budgets.py")
    with open_session(demo_env) as s:
        view = budget_view(s, dt.date(2025, 12, 1))
    total = view.status.filter(pl.col("scope") == "total").row(0, named=True)
    metrics = _metrics(at)
    assert metrics["Budget (total)"] == "$1,000.00"
    assert metrics["Spend December 2025 to date"] == fmt.usd(total["actual_usd"])
    assert metrics["Status"] == total["status"] == "over"
    assert any("budget" in e.value for e in at.error)  # over budget: a critical alert


def _table_script():
    from decimal import Decimal

    import polars as pl

    from finops.app import support as ui

    ui.show_table(
        pl.DataFrame(
            {
                "model": ["a", "b", "c", "d"],
                # 3 × 1.004 = 3.012 → $3.01: the rows foot to it as $1.01, $1.00, $1.00; the
                # unpriced row reads "—"
                "cost_usd": [Decimal("1.004"), Decimal("1.004"), Decimal("1.004"), None],
                # prices per 1M tokens do not add up: never footed
                "input": [Decimal("0.075")] * 4,
            },
            schema_overrides={"cost_usd": pl.Decimal(38, 12), "input": pl.Decimal(38, 6)},
        )
    )


def test_a_table_with_an_unpriced_row_still_foots_and_prices_are_not_footed(monkeypatch):
    # AppTest leaves its script as __main__, and a function's script is a temporary file:
    # later process pools (spawn) would start from a file that is gone
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    at = AppTest.from_function(_table_script).run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert list(frame["cost_usd"]) == ["$1.01", "$1.00", "$1.00", "—"]
    assert [float(v) for v in frame["input"]] == [0.075] * 4
