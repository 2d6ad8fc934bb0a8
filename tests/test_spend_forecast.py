from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from click.testing import CliRunner

from finops.analysis.forecast.spend import forecast_spend
from finops.cli import main
from finops.session.session import ingest, open_session

LAST = dt.date(2025, 6, 30)
CUT = dt.date(2025, 7, 10)


@pytest.fixture
def steady(db, pricing_dir, tmp_path):
    """90 days of alpha (standard) and small usage for two teams, with a weekly rhythm."""
    lines = ["period_start,period_end,provider,model,requests,input_tokens,output_tokens,team"]
    day = LAST - dt.timedelta(days=89)
    while day <= LAST:
        weekend = day.weekday() >= 5
        scale = 1 if weekend else 3
        nxt = day + dt.timedelta(days=1)
        lines.append(
            f"{day}T00:00:00Z,{nxt}T00:00:00Z,acme,alpha,{10 * scale},{100_000 * scale},{20_000 * scale},search"
        )
        lines.append(
            f"{day}T00:00:00Z,{nxt}T00:00:00Z,beta,small,{10 * scale},{400_000 * scale},{80_000 * scale},ads"
        )
        day = nxt
    path = tmp_path / "steady.csv"
    path.write_text("\n".join(lines) + "\n")
    with open_session(db, pricing_dir) as s:
        ingest(s, [path])
    return db, pricing_dir


def test_an_announced_price_cut_lowers_dollars_from_its_day_and_leaves_tokens(steady):
    db, pricing = steady
    with open_session(db, pricing) as s:
        before = forecast_spend(s, by="model", horizon=20)
    acme = pricing / "acme.yaml"
    # announce alpha's price halving from 2025-07-10 (a future-dated period)
    acme.write_text(
        acme.read_text().replace(
            "  - id: thinker\n",
            "      - valid_from: 2025-07-10\n"
            "        usd_per_mtok: {input: 0.5, cache_read: 0.05, cache_write_5m: 0.625, cache_write_1h: 1, output: 2}\n"
            "  - id: thinker\n",
        )
    )
    with open_session(db, pricing) as s:
        after = forecast_spend(s, by="model", horizon=20)
    b = {(r["day"], r["model"]): r for r in before.forecast.to_dicts()}
    for r in after.forecast.to_dicts():
        old = b[(r["day"], r["model"])]
        assert r["tokens_mean"] == pytest.approx(old["tokens_mean"])  # volume unchanged
        if r["model"] == "alpha" and r["day"] >= CUT:
            assert r["mean"] == pytest.approx(old["mean"] * 0.5)
            assert r["lo95"] <= r["lo80"] <= r["mean"] <= r["hi80"] <= r["hi95"]
            assert r["hi95"] == pytest.approx(old["hi95"] * 0.5)
        else:
            assert r["mean"] == pytest.approx(old["mean"])


def test_team_forecasts_add_up_to_the_total(steady):
    db, pricing = steady
    with open_session(db, pricing) as s:
        result = forecast_spend(s, by="team", horizon=14)
    sums = result.forecast.group_by("day").agg(pl.col("mean").sum().alias("teams"))
    joined = sums.join(result.total, on="day")
    for r in joined.to_dicts():
        assert r["teams"] == pytest.approx(r["mean"], rel=1e-9)
    # a weekday is forecast well above a weekend day, as in the history (3x)
    alpha = {
        r["day"]: r["mean"]
        for r in result.forecast.filter(result.forecast["team"] == "search").to_dicts()
    }
    assert alpha[dt.date(2025, 7, 1)] > 2 * alpha[dt.date(2025, 7, 5)]


def test_forecast_cli_columns(steady, tmp_path):
    db, pricing = steady
    out = CliRunner().invoke(
        main,
        [
            "forecast",
            "--by",
            "team",
            "--horizon",
            "7",
            "--format",
            "csv",
            "--db",
            str(db),
            "--pricing",
            str(pricing),
        ],
    )
    assert out.exit_code == 0, out.output
    header = out.output.splitlines()[0].split(",")
    assert header[:8] == ["day", "team", "mean", "lo80", "hi80", "lo95", "hi95", "method"]
    series = tmp_path / "series.csv"
    series.write_text(
        "date,usd\n" + "\n".join(f"2025-01-{d:02d},{10 + d % 7}" for d in range(1, 31)) + "\n"
    )
    out = CliRunner().invoke(
        main,
        [
            "forecast-series",
            "--input",
            str(series),
            "--date-col",
            "date",
            "--value-col",
            "usd",
            "--horizon",
            "5",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert out.output.count('"day"') == 5
    bad = tmp_path / "bad.csv"
    bad.write_text("date,usd\n2025-01-01,1\nnot-a-day,2\n")
    out = CliRunner().invoke(
        main, ["forecast-series", "--input", str(bad), "--date-col", "date", "--value-col", "usd"]
    )
    assert out.exit_code == 1 and "row 2: field date" in out.output
