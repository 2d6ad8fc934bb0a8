"""The monthly review: price-volume-mix adds up exactly, and `finops review` writes every
section with the numbers the app's Monthly review page shows."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import html
import json
import re
from decimal import Decimal

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import HAND_PRICED, REPO
from plotly.offline import get_plotlyjs
from streamlit.testing.v1 import AppTest

from finops.analysis.filters import SpendFilter
from finops.analysis.pvm import price_volume_mix
from finops.cli import main
from finops.core.demo import DEMO_TEAMS
from finops.core.format import allocate_cents
from finops.session.session import ingest, load_demo, open_session
from finops.views.overview import build_overview
from finops.views.review import SECTIONS, build_review, review_sections

D = Decimal


def _cells(rows):
    return pl.DataFrame(
        rows,
        schema={
            "model": pl.Utf8,
            "base_usd": pl.Decimal(38, 12),
            "current_usd": pl.Decimal(38, 12),
            "base_tokens": pl.Int64,
            "current_tokens": pl.Int64,
        },
        orient="row",
    )


def test_price_volume_mix_by_hand():
    """Q0 = 24, Q1 = 33 tokens: growth 1.375; every effect computed by hand."""
    cells = _cells(
        [
            ("a", D(10), D(30), 10, 20),  # dearer per token, and grew faster than the total
            ("b", D(10), D(10), 10, 10),  # flat while the total grew: loses mix
            ("c", D(0), D(6), 0, 3),  # new: all mix, at its own price
            ("d", D(4), D(0), 4, 0),  # retired: no price effect
            ("e", D(1), D(2), 0, 0),  # fees only, no tokens
        ]
    )
    out = {r["model"]: r for r in price_volume_mix(cells, keys=["model"]).iter_rows(named=True)}
    expected = {
        "a": (D("3.75"), D("6.25"), D("10")),
        "b": (D("3.75"), D("-3.75"), D("0")),
        "c": (D("0"), D("6"), D("0")),
        "d": (D("1.5"), D("-5.5"), D("0")),
        "e": (D("0.375"), D("0"), D("0.625")),
    }
    for model, (volume, mix, price) in expected.items():
        row = out[model]
        assert (row["volume_usd"], row["mix_usd"], row["price_usd"]) == (volume, mix, price)
        assert row["volume_usd"] + row["mix_usd"] + row["price_usd"] == row["change_usd"]
    assert sum(r["change_usd"] for r in out.values()) == D(23)
    # the price effect is q1 · (p1 − p0)
    assert out["a"]["price_usd"] == 20 * (D(30) / 20 - D(10) / 10)


def test_price_volume_mix_without_a_base_period_is_all_volume():
    out = price_volume_mix(_cells([("a", D(0), D(5), 0, 7)]), keys=["model"]).row(0, named=True)
    assert (out["volume_usd"], out["mix_usd"], out["price_usd"]) == (D(5), D(0), D(0))


def test_cents_foot_to_the_rounded_totals():
    values = [D("1.004"), D("1.004"), D("1.004"), D("-0.333")]
    cents = allocate_cents(values)
    assert sum(cents) == sum(values).quantize(D("0.01"))
    assert all(abs(c - v) < D("0.01") for c, v in zip(cents, values, strict=True))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("review") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=153)
    return db


@pytest.fixture
def demo_env(demo_db, monkeypatch):
    for name in ("FINOPS_PRICING", "FINOPS_TEAMS", "FINOPS_CONTRACTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FINOPS_DB", str(demo_db))
    return demo_db


@pytest.mark.parametrize(
    "month", [dt.date(2025, 10, 1), dt.date(2025, 11, 1), dt.date(2025, 12, 1)]
)
def test_effects_add_up_exactly_on_the_demo(demo_env, month):
    with open_session(demo_env) as s:
        r = build_review(s, month)
    assert r.volume_usd + r.mix_usd + r.price_usd == r.change_usd  # Decimal: exact
    cells = r.effects
    assert (
        cells["volume_usd"] + cells["mix_usd"] + cells["price_usd"] == cells["change_usd"]
    ).all()
    for frame in (r.by_team, r.by_model):
        assert sum(frame["change_usd"]) == r.change_usd
        assert sum(frame["volume_usd"]) == r.volume_usd
        assert sum(frame["price_usd"]) == r.price_usd
    # what the page and the exports show, in cents, foots both ways
    b = r.bridge_cents()
    assert b["prev_total_usd"] + b["volume_usd"] + b["mix_usd"] + b["price_usd"] == b["total_usd"]
    for by in ("team", "model"):
        table = r.effects_table(by)
        for column in ("change_usd", "volume_usd", "mix_usd", "price_usd"):
            assert sum(table[column]) == b[column]
        rows = table["volume_usd"] + table["mix_usd"] + table["price_usd"]
        assert (rows == table["change_usd"]).all()
        assert (table["current_usd"] - table["base_usd"] == table["change_usd"]).all()


def test_review_of_the_demo_finds_the_migration(demo_env):
    """Support moved from claude-sonnet-4 to claude-sonnet-4-5 during October 2025."""
    with open_session(demo_env) as s:
        nov = build_review(s, dt.date(2025, 11, 1))
    assert nov.retired_models.filter(pl.col("model") == "claude-sonnet-4").height == 1
    down = nov.movers_down.row(0, named=True)
    assert (down["team"], down["model"]) == ("support", "claude-sonnet-4")
    assert down["current_usd"] == 0 and down["change_usd"] == -down["base_usd"]
    assert nov.movers_up.row(0, named=True)["model"] == "claude-sonnet-4-5"
    # the fine-tuned model prices as its base model's ft: rates (issue 14): nothing unpriced
    assert nov.unpriced_rows == 0
    assert nov.forecast.available and nov.forecast.period_start == dt.date(2025, 12, 1)
    assert nov.per_day_usd == nov.total_usd / 30


def test_review_hand_priced_new_models_and_unpriced(tmp_path, pricing_dir):
    """February (nothing) → March (the hand-priced fixture): everything is new."""
    db = tmp_path / "hand.duckdb"
    with open_session(db, pricing_dir) as s:
        ingest(s, [HAND_PRICED])
        r = build_review(s, dt.date(2025, 3, 1))
    # March by hand (tests/test_costing.py): r1..r6 and the two buckets, $9.01; February nothing
    assert (r.total_usd, r.prev_total_usd, r.change_usd) == (D("9.01"), 0, D("9.01"))
    assert (r.volume_usd, r.mix_usd, r.price_usd) == (D("9.01"), 0, 0)
    assert set(r.new_models["model"]) == {"alpha", "thinker", "small", "mystery"}
    assert r.unpriced_rows == 2 and r.unpriced_tokens == 3_500
    # the price cut of alpha starts on 2025-03-15: a catalog change effective that month
    change = r.catalog_changes.filter(pl.col("model") == "alpha").row(0, named=True)
    assert change["valid_from"] == dt.date(2025, 3, 15)
    assert (change["input_before"], change["input_after"]) == (D(2), D(1))
    assert not r.complete and r.days_covered == 21


def test_review_budget_comes_from_the_teams_map(demo_db, tmp_path):
    teams = tmp_path / "teams.yaml"
    lines = ["monthly_budget_usd: 2000", "teams:"]
    lines += [f"  - {{name: {t}, monthly_budget_usd: 250}}" for t in DEMO_TEAMS]
    lines += ["rules:"] + [f"  - {{team: {t}, match: {{team: {t}}}}}" for t in DEMO_TEAMS]
    teams.write_text("\n".join(lines) + "\n")
    with open_session(demo_db, teams=teams) as s:
        whole = build_review(s, dt.date(2025, 12, 1))
        two = build_review(s, dt.date(2025, 12, 1), filters=SpendFilter(teams=("search", "growth")))
        overview = build_overview(s, filters=SpendFilter(teams=("search",)))
        sliced = build_review(s, dt.date(2025, 12, 1), filters=SpendFilter(providers=("openai",)))
    assert whole.budget_usd == 2000 and two.budget_usd == 500
    assert overview.budget_usd == 250  # the Overview compares with the same budgets
    assert sliced.budget_usd is None  # a budget is per team, not per provider
    outlook = next(x for x in review_sections(whole) if x.id == "outlook")
    assert any(m.label == "Monthly budget" and m.value == "$2,000.00" for m in outlook.metrics)
    assert any(t.startswith("Against the budget:") for t in outlook.text)


def test_review_of_a_month_without_data_says_what_the_store_holds(demo_env):
    out = CliRunner().invoke(main, ["review", "--month", "2024-01", "--out", "x.md"])
    assert out.exit_code == 1
    assert "no usage in 2024-01 in the store (it holds 2025-08-01 to 2025-12-31)" in out.output


def _page_metrics(month: dt.date) -> tuple[list[tuple[str, str, str]], list[str]]:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("finops/app/pages/review.py").run()
    at.selectbox(key="review_month").set_value(month).run()
    assert not at.exception
    metrics = [(m.label, m.value, m.delta or "") for m in at.metric]
    paragraphs = [m.value for m in at.markdown]
    return metrics, paragraphs


def test_cli_markdown_holds_every_section_with_the_pages_numbers(demo_env, tmp_path):
    out_file = tmp_path / "review.md"
    result = CliRunner().invoke(
        main, ["review", "--month", "2025-11", "--out", str(out_file)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = out_file.read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == [title for _, title in SECTIONS]
    metrics, paragraphs = _page_metrics(dt.date(2025, 11, 1))
    assert len(metrics) > 20
    rows = set(re.findall(r"^\| (.+?) \| (.+?) \| (.*?) \|$", text, flags=re.MULTILINE))
    for label, value, delta in metrics:
        assert (label, value, delta) in rows, (label, value, delta)
    summary = text.split("## Summary\n\n", 1)[1].split("\n\n## ", 1)[0]
    for line in summary.strip().split("\n\n"):
        assert line.replace("$", "\\$") in paragraphs
    # the review's dollars themselves are checked by hand in tests/test_golden_month.py


def test_cli_html_is_one_self_contained_file_with_the_pages_numbers(demo_env, tmp_path):
    out_file = tmp_path / "review.html"
    result = CliRunner().invoke(
        main, ["review", "--month", "2025-12", "--out", str(out_file)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    page = out_file.read_text()
    assert not re.search(r"<script[^>]+src=", page)  # nothing loaded from elsewhere
    assert not re.search(r"<link[^>]+href=", page)
    # the plotly.js bundle (4.8 MB) is inline once, gzip-compressed: the file is under 2.5 MB
    assert "Plotly.newPlot" in page and 1_000_000 < len(page) < 2_500_000
    packed = re.search(r"<script type='text/plain' id='plotly-gz'>([^<]+)</script>", page)
    bundle = gzip.decompress(base64.b64decode(packed.group(1))).decode()
    assert bundle == get_plotlyjs()
    for section_id, title in SECTIONS:
        assert f"<section id='{section_id}'><h2>{html.escape(title)}</h2>" in page
    charts = re.findall(r"<div id='([a-z_]+-chart-\d+)' class='chart'", page)
    assert {"total-chart-0", "drivers-chart-0", "drivers-chart-1", "outlook-chart-0"} <= set(charts)
    for chart in charts:  # each chart's figure, as JSON, beside its div
        figure = re.search(
            rf"<script type='application/json' class='figure' data-div='{chart}'>(.+?)</script>",
            page,
        )
        assert json.loads(figure.group(1))["data"]
    metrics, _ = _page_metrics(dt.date(2025, 12, 1))
    for label, value, delta in metrics:
        block = (
            f"<div class='label'>{html.escape(label)}</div>"
            f"<div class='value'>{html.escape(value)}</div>"
        )
        assert block in page, (label, value)
        if delta:
            assert f"<div class='delta'>{html.escape(delta)}</div>" in page


def test_cli_rejects_other_output_types(demo_env, tmp_path):
    result = CliRunner().invoke(main, ["review", "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2
    assert "write to a .html or .md file" in result.output
