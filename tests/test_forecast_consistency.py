"""One forecast per store state (issue 13 item 1): every view shows the same numbers.

For the demo and for a randomly generated store, next month's forecast total is identical
in the store forecast, the Forecast page at every split (with and without a filter), the
review, `finops forecast --by ...` and budgets; children add up to their parents to the cent.
The oracle for "adds up" is plain Decimal addition of what each view shows, not the library.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import polars as pl
import pytest
from click.testing import CliRunner

from finops.analysis.budgets import budget_status
from finops.analysis.filters import SpendFilter
from finops.analysis.forecast.state import (
    HIERARCHY,
    LEVELS,
    largest_remainder_cents,
    level_name,
    store_forecast,
)
from finops.cli import main
from finops.core.today import TODAY_ENV
from finops.session.session import ingest, load_demo, open_session
from finops.views.forecast import build_forecast
from finops.views.overview import build_overview
from finops.views.review.build import build_review


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo-consistency") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=120, seed=11)
    return db


def _random_store(db, pricing, tmp_path, seed: int) -> None:
    """120 days of random weekly-rhythm usage: 2 providers, 3 models, 3 teams, some gaps."""
    rng = random.Random(seed)
    last = dt.date(2025, 6, 30)
    lines = ["period_start,period_end,provider,model,requests,input_tokens,output_tokens,team"]
    series = [("acme", "alpha"), ("acme", "thinker"), ("beta", "small")]
    for provider, model in series:
        for team in ("search", "ads", "research"):
            scale = rng.uniform(0.2, 5.0)
            start = rng.randrange(0, 40)
            for k in range(start, 120):
                day = last - dt.timedelta(days=119 - k)
                if rng.random() < 0.05:
                    continue  # a day without usage
                weekday = 0.4 if day.weekday() >= 5 else 1.0
                tokens = int(100_000 * scale * weekday * rng.uniform(0.7, 1.3))
                nxt = day + dt.timedelta(days=1)
                lines.append(
                    f"{day}T00:00:00Z,{nxt}T00:00:00Z,{provider},{model},10,"
                    f"{tokens},{tokens // 5},{team}"
                )
    path = tmp_path / "random.csv"
    path.write_text("\n".join(lines) + "\n")
    with open_session(db, pricing) as s:
        ingest(s, [path])


def _cli_next_month(db, pricing, by: str, next_month: dt.date) -> dict[str, float]:
    args = ["forecast", "--by", by, "--format", "json", "--db", str(db)]
    if pricing is not None:
        args += ["--pricing", str(pricing)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    sums: dict[str, float] = {}
    for row in json.loads(out.output):
        if row["day"].startswith(f"{next_month:%Y-%m}"):
            sums[row[by]] = sums.get(row[by], 0.0) + row["mean"]
    return sums


def _check_store(db, pricing) -> None:
    with open_session(db, pricing) as s:
        fc = store_forecast(s)
        nxt, this = fc.next_month, fc.this_month
        total_next = fc.month_total(nxt)
        total_this = fc.month_total(this)
        assert total_next > 0
        # every level: its nodes' month totals add up to the total, to the cent
        for keys in LEVELS:
            if keys:
                for month, total in ((nxt, total_next), (this, total_this)):
                    parts = fc.months.filter(pl.col("month") == month)
                    by_node = parts.group_by(*keys).agg(pl.col("total_usd").sum())
                    assert sum(by_node["total_usd"], Decimal(0)) == total
        # daily means are coherent at every level (reconciled), to float precision
        total_days = fc.node().select("day", pl.col("mean").alias("total"))
        for keys in LEVELS[1:]:
            level = fc.days.filter(pl.col("level") == level_name(keys))
            sums = level.group_by("day").agg(pl.col("mean").sum()).join(total_days, on="day")
            assert (sums["mean"] - sums["total"]).abs().max() < 1e-6 * sums["total"].max()

        # the Forecast page: the same total at every split, and the parts add up to it
        page_totals = set()
        for split in (None, "team", "provider", "model"):
            page = build_forecast(s, SpendFilter(), split=split)
            months = page.months.filter(pl.col("month") == nxt)
            total = months.filter(pl.col("key") == "total")["mean"][0]
            page_totals.add(Decimal(total))
            parts = months.filter(pl.col("key") != "total")["mean"]
            if split:
                assert sum(parts, Decimal(0)) == Decimal(total)
        assert page_totals == {total_next}
        # a filtered page: one team split by model adds up to that team's node
        team = fc.months["team"].drop_nulls()[0]
        one = build_forecast(s, SpendFilter(teams=(team,)), split="model")
        m = one.months.filter(pl.col("month") == nxt)
        team_total = m.filter(pl.col("key") == "total")["mean"][0]
        assert team_total == fc.month_total(nxt, team=team)
        assert sum(m.filter(pl.col("key") != "total")["mean"], Decimal(0)) == team_total

        # the review's next month and budgets' projected month (this month) and the Overview
        review = build_review(s, this)
        assert Decimal(str(review.forecast.mean)) == total_next
        if fc.as_of < fc.next_month - dt.timedelta(days=1):
            overview = build_overview(s)
            assert Decimal(str(overview.projection.mean)) == total_this
            status = budget_status(s)
            by_team = {r["team"]: r for r in status.to_dicts()}
            assert by_team[None]["projected_usd"] == total_this
            assert by_team[team]["projected_usd"] == fc.month_total(this, team=team)
        # reading again is the cached forecast, not a new one
        assert store_forecast(s).state_key == fc.state_key
    # the CLI, by every key: per-day means summed over next month add up to one total
    totals = []
    for by in ("total", "provider", "team", "model"):
        sums = _cli_next_month(db, pricing, by, nxt)
        totals.append(sum(sums.values()))
    assert max(totals) - min(totals) < 0.005
    assert abs(totals[0] - float(total_next)) < 0.01


def test_largest_remainder_rounds_once_and_foots():
    """0.333 + 0.333 + 0.334 = 1.000 exactly; floors 0.33 + 0.33 + 0.33 = 0.99, so the one cent
    left goes to the largest remainder (0.334 -> 0.34)."""
    assert largest_remainder_cents([Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]) == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
    # 2.675 + 1.115 = 3.79 -> half-up rounding of each would give 2.68 + 1.12 = 3.80
    cents = largest_remainder_cents([Decimal("2.675"), Decimal("1.115")])
    assert cents == [Decimal("2.68"), Decimal("1.11")] and sum(cents) == Decimal("3.79")


def test_one_forecast_everywhere_on_a_random_store(db, pricing_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(TODAY_ENV, "2025-06-17")  # mid-month: this month is projected too
    _random_store(db, pricing_dir, tmp_path, seed=20251207)
    _check_store(db, pricing_dir)


def test_one_forecast_everywhere_on_the_demo(demo_db, monkeypatch):
    for name in ("FINOPS_PRICING", "FINOPS_TEAMS", "FINOPS_CONTRACTS"):
        monkeypatch.delenv(name, raising=False)
    with open_session(demo_db) as s:
        last = s.con.execute("SELECT max(day) FROM daily_usage").fetchall()[0][0]
    monkeypatch.setenv(TODAY_ENV, str(last.replace(day=17)))
    _check_store(demo_db, None)


def test_hierarchy_levels_are_the_documented_ones():
    assert HIERARCHY == ("provider", "model", "team")
    assert [level_name(k) for k in LEVELS] == [
        "total",
        "provider",
        "model",
        "team",
        "provider,model",
        "model,team",
        "provider,model,team",
    ]


def _upload(db, pricing, tmp_path, rows: list[tuple[dt.date, str, int]]) -> None:
    """Usage of acme/alpha: (day, team, input tokens); output tokens are a fifth of input. A
    project of its own, so no stored row shares its key (it adds, never replaces)."""
    header = "period_start,period_end,provider,model,requests,input_tokens,output_tokens,team"
    lines = [f"{header},project_id"]
    for day, team, tokens in rows:
        nxt = day + dt.timedelta(days=1)
        lines.append(
            f"{day}T00:00:00Z,{nxt}T00:00:00Z,acme,alpha,3,{tokens},{tokens // 5},{team},extra"
        )
    path = tmp_path / f"extra-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join(lines) + "\n")
    with open_session(db, pricing) as s:
        ingest(s, [path])


@pytest.mark.parametrize(
    ("seed", "shape"),
    [(1, "spike"), (2, "spread"), (3, "new team"), (4, "spike"), (5, "spread")],
)
def test_a_small_upload_barely_moves_next_month(db, pricing_dir, tmp_path, seed, shape):
    """Stability (issue 13 item 2): an upload adding 0.4% of the last 28 days' spend moves
    next month's total by < 1% and its 80% bounds by < 2%, and the change is explained.

    alpha costs $1 per million input and $4 per million output tokens (tests/fixtures/pricing
    /acme.yaml from 2025-03-15), so T input + T/5 output tokens cost 1.8 T / 1e6 dollars
    (50,000 -> $0.09): T is the multiple of 50,000 nearest below 0.4% of those 28 days.
    """
    _random_store(db, pricing_dir, tmp_path, seed=seed)
    with open_session(db, pricing_dir) as s:
        before = store_forecast(s)
    recent = before.history.filter(pl.col("day") > before.as_of - dt.timedelta(days=28))
    last28 = Decimal(recent["cost_usd"].sum())
    added_usd = last28 * Decimal("0.004")
    tokens = int(added_usd / Decimal("0.09")) * 50_000
    as_of = before.as_of
    if shape == "spike":
        rows = [(as_of - dt.timedelta(days=2), "search", tokens)]
    elif shape == "spread":
        rows = [(as_of - dt.timedelta(days=k), "ads", tokens // 5) for k in (40, 20, 9, 5, 1)]
    else:
        rows = [(as_of - dt.timedelta(days=k), "newcomers", tokens // 3) for k in (2, 1, 0)]
    # $1 per million input tokens + $4 per million output tokens (a fifth of input, floored)
    expected_usd = sum((Decimal(t) + 4 * Decimal(t // 5)) / 1_000_000 for _, _, t in rows)
    _upload(db, pricing_dir, tmp_path, rows)
    with open_session(db, pricing_dir) as s:
        after = store_forecast(s)
    added = Decimal(after.history["cost_usd"].sum()) - Decimal(before.history["cost_usd"].sum())
    assert added == expected_usd and added < last28 * Decimal("0.005")

    month = before.next_month
    old, new = before.month_total(month), after.month_total(month)
    assert abs(new - old) / old < Decimal("0.01")

    def bounds(fc):
        rows = fc.month_bounds.filter((pl.col("level") == "total") & (pl.col("month") == month))
        return rows.row(0, named=True)

    for side in ("lo80", "hi80"):
        a, b = bounds(before)[side], bounds(after)[side]
        assert abs(b - a) / a < Decimal("0.02"), (side, a, b)
    if new != old:
        assert after.change.startswith(f"forecast for {month:%B %Y} moved ")
        first_day = min(d for d, _, _ in rows)
        assert f"new usage on {first_day:%d %b %Y} (+$" in after.change
    else:
        assert after.change is None
