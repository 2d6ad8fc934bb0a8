"""Planned migrations in the forecast: `finops forecast --plan` shows "as planned" = "as is"
minus the simulated saving per month, from the plan's start, to the cent.

Fixture: 60 days (2025-03-01 .. 2025-04-29) of one daily bucket of research's thinker traffic,
1M input and 0.1M output tokens over 100 requests: 1M × $10 + 0.1M × $40 = $14.00 a day.
Plan: from 2025-06-01, move it to alpha (prices in force then: input $1, output $4 per MTok)
with token ratios 1: 1M × 1 + 0.1M × 4 = $1.40 a day.
Forward window: the last 28 days; per month 28 × 14 × 30.4375 / 28 = 426.125 → $426.12
(half-even), on alpha 28 × 1.4 × 30.4375 / 28 = 42.6125 → $42.61: saving $383.51 a month.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from finops.analysis.simulate import ScenarioError, plans
from finops.cli import main
from finops.session.session import ingest, open_session

SAVING = Decimal("383.51")


@pytest.fixture
def steady(db: Path, pricing_dir: Path, tmp_path: Path):
    lines = ["period_start,period_end,provider,model,requests,input_tokens,output_tokens,team"]
    day = dt.date(2025, 3, 1)
    while day <= dt.date(2025, 4, 29):
        lines.append(
            f"{day}T00:00:00Z,{day + dt.timedelta(days=1)}T00:00:00Z,acme,thinker,100,"
            "1000000,100000,research"
        )
        day += dt.timedelta(days=1)
    csv = tmp_path / "steady.csv"
    csv.write_text("\n".join(lines) + "\n")
    with open_session(db, pricing_dir) as s:
        ingest(s, [csv])
    plan = tmp_path / "plans.yaml"
    plan.write_text(
        "plans:\n"
        "  - name: research on alpha\n"
        "    scope: {teams: [research]}\n"
        "    moves: [{from: thinker, to: alpha}]\n"
        "    assumptions: {input_token_ratio: 1, output_token_ratio: 1}\n"
        "    start: 2025-06-01\n"
        "    ramp_days: 0\n"
    )
    return db, pricing_dir, plan


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_as_planned_is_as_is_minus_the_simulated_monthly_saving_from_the_start(steady):
    db, pricing, plan = steady
    common = ["--db", str(db), "--pricing", str(pricing), "--format", "json"]
    simulated = _cli(
        "simulate", "--from", "thinker", "--to", "alpha", "--scope", "team=research",
        "--assume", "input_token_ratio=1", "--assume", "output_token_ratio=1",
        "--pricing-day", "2025-06-01", *common,
    )  # fmt: skip
    assert simulated.exit_code == 0, simulated.output
    (result,) = json.loads(simulated.output, parse_float=Decimal)
    assert Decimal(str(result["monthly"]["savings_usd"])) == SAVING
    out = _cli("forecast", "--plan", str(plan), "--horizon", "92", *common)
    assert out.exit_code == 0, out.output
    months = {row["month"]: row for row in json.loads(out.output, parse_float=Decimal)}
    assert sorted(months) == ["2025-04-01", "2025-05-01", "2025-06-01", "2025-07-01"]
    for month in ("2025-04-01", "2025-05-01"):  # before the start: nothing changes
        row = months[month]
        assert Decimal(str(row["saving_usd"])) == 0
        assert Decimal(str(row["as_planned_usd"])) == Decimal(str(row["as_is_usd"]))
    june = months["2025-06-01"]  # wholly after the start
    assert Decimal(str(june["saving_usd"])) == SAVING
    assert Decimal(str(june["as_planned_usd"])) == Decimal(str(june["as_is_usd"])) - SAVING
    # July is forecast for 30 of its 31 days: 383.51 × 30 / 31 = 371.1387… → $371.14
    july = months["2025-07-01"]
    assert july["forecast_days"] == 30
    assert Decimal(str(july["saving_usd"])) == Decimal("371.14")


def test_a_ramp_moves_a_growing_share_day_by_day(steady):
    """Start 2025-06-01 with a 4-day ramp: June's shares are 1/4, 2/4, 3/4, then 27 days of 1:
    (0.25 + 0.5 + 0.75 + 27) / 30 = 28.5 / 30 = 0.95 of the month; 383.51 × 0.95 = 364.3345
    → $364.33."""
    db, pricing, plan = steady
    plan.write_text(plan.read_text().replace("ramp_days: 0", "ramp_days: 4"))
    with open_session(db, pricing, read_only=True) as s:
        (saving,) = plans.plan_savings(s, plans.load_plans(plan))
    assert saving.monthly() == SAVING
    days = [dt.date(2025, 6, d) for d in range(1, 31)]
    daily = pl.DataFrame({"day": days, "mean": [14.0] * 30})
    (june,) = plans.planned_months(daily, [saving]).to_dicts()
    assert june["as_is_usd"] == Decimal("420.00")
    assert june["saving_usd"] == Decimal("364.33")
    assert june["as_planned_usd"] == Decimal("55.67")


def test_plan_file_errors_name_the_file_and_field(tmp_path):
    bad = tmp_path / "plans.yaml"
    bad.write_text("plans:\n  - moves: [{from: a, to: b}]\n    start: June\n")
    with pytest.raises(ScenarioError) as err:
        plans.load_plans(bad)
    assert str(err.value) == f"{bad}, plans[0].start: 'June' is not a date (YYYY-MM-DD)"


def test_forecast_page_shows_the_same_as_planned_cents_as_the_command(steady, monkeypatch):
    """A plans.yaml beside the store: the Forecast page's "As is and as planned" table holds
    June's $383.51 saving and the command's cents, month by month."""
    from streamlit.testing.v1 import AppTest

    db, pricing, plan = steady
    (db.parent / "plans.yaml").write_text(plan.read_text())
    monkeypatch.setenv("FINOPS_DB", str(db))
    monkeypatch.setenv("FINOPS_PRICING", str(pricing))
    common = ["--db", str(db), "--pricing", str(pricing), "--format", "json"]
    out = _cli("forecast", "--plan", str(plan), *common)
    assert out.exit_code == 0, out.output
    by_cli = {r["month"]: r for r in json.loads(out.output, parse_float=Decimal)}
    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=180).run()
    at.switch_page("finops/app/pages/forecast.py").run()
    assert not at.exception, at.exception
    assert "As is and as planned" in [h.value for h in at.subheader]
    # the frame under the table (its headers and $ formats are column_config)
    (table,) = [t.value for t in at.dataframe if "as_planned_usd" in list(t.value.columns)]
    shown = {str(m)[:7]: row for m, row in zip(table["month"], table.to_dict("records"))}
    assert Decimal(str(shown["2025-06"]["saving_usd"])).quantize(Decimal("0.01")) == SAVING
    assert sorted(shown) == sorted(m[:7] for m in by_cli)
    for month, row in by_cli.items():
        got = shown[month[:7]]
        for column in ("as_is_usd", "saving_usd", "as_planned_usd"):
            cents = Decimal(str(got[column])).quantize(Decimal("0.01"))
            assert cents == Decimal(str(row[column])), (month, column)


def test_the_review_shows_next_months_planned_saving(steady):
    """Plan moved to start 2025-05-01: the April review's next month (May) is wholly after it,
    so it saves the whole $383.51 and shows as planned = as is − $383.51, as the command does."""
    from finops.views.review import build_review, review_sections

    db, pricing, plan = steady
    (db.parent / "plans.yaml").write_text(plan.read_text().replace("2025-06-01", "2025-05-01"))
    out = _cli(
        "forecast", "--plan", str(db.parent / "plans.yaml"),
        "--db", str(db), "--pricing", str(pricing), "--format", "json",
    )  # fmt: skip
    may = {r["month"]: r for r in json.loads(out.output, parse_float=Decimal)}["2025-05-01"]
    assert Decimal(str(may["saving_usd"])) == SAVING
    with open_session(db, pricing, read_only=True) as s:
        review = build_review(s, dt.date(2025, 4, 1), opportunities=False)
    (outlook,) = [x for x in review_sections(review) if x.id == "outlook"]
    metrics = {m.label: m.value for m in outlook.metrics}
    as_planned = Decimal(str(may["as_planned_usd"]))
    assert metrics["As planned May 2025"] == f"${as_planned:,.2f}"
    assert any(
        "save $383.51 in May" in line and f"${Decimal(str(may['as_is_usd'])):,.2f} as is" in line
        for line in outlook.text
    ), outlook.text


def test_as_is_is_the_month_forecast_the_command_prints_on_the_demo(tmp_path):
    """On the demo, `forecast --plan`'s "as is" is, month by month, the cents
    `forecast --period month` prints: one month's forecast, one number (the daily means
    added up, then rounded once; rounding each day first moved January by 2 cents)."""
    db = tmp_path / "demo.duckdb"
    assert _cli("demo", "--db", str(db)).exit_code == 0
    plan = tmp_path / "plans.yaml"
    plan.write_text(
        "plans:\n"
        "  - name: finance-ops off gpt-4.1\n"
        "    scope: {teams: [finance-ops]}\n"
        "    moves: [{from: gpt-4.1, to: gpt-4.1-mini}]\n"
        "    start: 2026-02-01\n"
        "    ramp_days: 14\n"
    )
    planned = _cli("forecast", "--db", str(db), "--plan", str(plan), "--format", "csv")
    monthly = _cli("forecast", "--db", str(db), "--period", "month", "--format", "csv")
    as_is = {r["month"]: r["as_is_usd"] for r in pl.read_csv(planned.output.encode()).to_dicts()}
    printed = {r["month"]: r["mean"] for r in pl.read_csv(monthly.output.encode()).to_dicts()}
    assert len(as_is) >= 3
    assert {m: f"{v:.2f}" for m, v in as_is.items()} == {m: f"{v:.2f}" for m, v in printed.items()}
