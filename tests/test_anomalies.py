"""Anomalies on small stores built from canonical CSVs (prices: tests/fixtures/pricing).

Hand computation, beta `small` at input $0.15 and output $0.60 per million tokens:
a weekday of 10M input + 5M output tokens costs 1.50 + 3.00 = $4.50, a weekend day of 4M + 2M
costs 0.60 + 1.20 = $1.80; the same weekday at 3× volume costs $13.50, $9.00 above expected.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from fixtures.control.usage import day_row, weekly_days, write_usage

from finops.analysis.anomalies import (
    FINDING_SCHEMA,
    AnomalyConfig,
    decompose_change,
    detect_anomalies,
    find_anomalies,
)
from finops.session.session import ingest, load_demo, open_session

MONDAY = dt.date(2025, 6, 2)


def _weekly_rows(days, team="ads", scale=None):
    rows = []
    for k, day in enumerate(days):
        f = scale(k, day) if scale else 1.0
        weekend = day.weekday() >= 5
        rows.append(
            day_row(
                day,
                team=team,
                requests=round((400 if weekend else 1000) * f),
                input_tokens=round((4_000_000 if weekend else 10_000_000) * f),
                output_tokens=round((2_000_000 if weekend else 5_000_000) * f),
            )
        )
    return rows


def _store(db: Path, pricing: Path, tmp_path: Path, rows) -> None:
    with open_session(db, pricing) as s:
        ingest(s, [write_usage(tmp_path / "usage.csv", rows)])


def test_a_3x_spike_is_found_with_its_exact_dollar_impact(db, pricing_dir, tmp_path):
    days = [MONDAY + dt.timedelta(days=k) for k in range(66)]  # ends on a Wednesday
    assert days[-1].weekday() == 2
    spike = lambda k, day: 3.0 if day == days[-1] else 1.0
    _store(db, pricing_dir, tmp_path, _weekly_rows(days, scale=spike))
    with open_session(db, pricing_dir) as s:
        found = detect_anomalies(s, days=1)
    spikes = found.filter(pl.col("check") == "spike")
    # the team, its model and its key see the same jump: reported once, as the team's
    assert spikes.height == 1
    f = spikes.row(0, named=True)
    assert (f["day"], f["scope"], f["key"], f["metric"]) == (days[-1], "team", "ads", "cost_usd")
    assert f["expected"] == pytest.approx(4.50)
    assert f["actual"] == pytest.approx(13.50)
    assert f["impact_usd"] == Decimal("9.00")
    # a pure volume spike: three times the requests at the same unit cost
    assert (f["volume_usd"], f["price_usd"], f["mix_usd"]) == (
        Decimal("9.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    # the volume convention is priced tokens (as in the review): 3× tokens at the same prices
    assert "3.0× the Wednesday expectation" in f["detail"]
    assert "same as model small" in f["detail"] and "same as api_key key-ads" in f["detail"]


def test_a_clean_weekly_series_raises_no_alarm(db, pricing_dir, tmp_path):
    # ±6% day-to-day wobble, a weekend dip and 2% weekly growth: nothing unusual
    wobble = lambda k, day: (1 + 0.06 * math.sin(k * 2.1)) * 1.02 ** (k / 7)
    _store(db, pricing_dir, tmp_path, _weekly_rows(weekly_days(MONDAY, 10), scale=wobble))
    with open_session(db, pricing_dir) as s:
        found = detect_anomalies(s, days=35)
    assert found.filter(pl.col("check").is_in(["spike", "drift"])).is_empty()


def test_the_weekend_dip_is_expected_not_flagged(db, pricing_dir, tmp_path):
    # a weekday's volume on a Sunday is 2.5× the usual Sunday: that is a spike
    days = [MONDAY + dt.timedelta(days=k) for k in range(7 * 9)]  # ends on a Sunday
    sunday = lambda k, day: 2.5 if day == days[-1] else 1.0
    _store(db, pricing_dir, tmp_path, _weekly_rows(days, scale=sunday))
    with open_session(db, pricing_dir) as s:
        found = detect_anomalies(s, days=7, config=AnomalyConfig(scopes=("team",)))
    assert found["day"].to_list() == [days[-1]]
    assert found["expected"][0] == pytest.approx(1.80)
    assert found["impact_usd"][0] == Decimal("2.70")  # 1.80 × 2.5 − 1.80


def _drift_rows(days):
    """ads on acme alpha loses cache hits in the last week; search's prompts grow by half."""
    rows = []
    for k, day in enumerate(days):
        late = k >= len(days) - 7
        # alpha: 1000 requests, 1M prompt tokens (600k from cache, 200k after), 200k output:
        # 0.4×1 + 0.6×0.1 + 0.2×4 = $1.26 a day, then 0.8 + 0.02 + 0.8 = $1.62
        rows.append(
            day_row(
                day,
                team="ads",
                provider="acme",
                model="alpha",
                requests=1000,
                input_tokens=800_000 if late else 400_000,
                cache_read_tokens=200_000 if late else 600_000,
                output_tokens=200_000,
            )
        )
        # small: 1000 requests, 1M then 1.5M input, 200k output: $0.27 then $0.345 a day
        rows.append(
            day_row(
                day,
                team="search",
                requests=1000,
                input_tokens=1_500_000 if late else 1_000_000,
                output_tokens=200_000,
            )
        )
    return rows


def test_unit_cost_drift_prompt_bloat_and_lost_cache_hits(db, pricing_dir, tmp_path):
    days = [dt.date(2025, 4, 7) + dt.timedelta(days=k) for k in range(49)]
    _store(db, pricing_dir, tmp_path, _drift_rows(days))
    with open_session(db, pricing_dir) as s:
        found = detect_anomalies(s, days=1)
    drift = found.filter(pl.col("check") == "drift")
    by = {(r["key"], r["metric"]): r for r in drift.iter_rows(named=True)}
    assert set(by) == {
        ("ads", "cost_per_request_usd"),
        ("ads", "cache_hit_rate"),
        ("search", "cost_per_request_usd"),
        ("search", "prompt_tokens_per_request"),
    }
    assert set(drift["scope"]) == {"team"}  # the key and model views are the same events
    hit = by[("ads", "cache_hit_rate")]
    assert (hit["expected"], hit["actual"]) == (pytest.approx(0.6), pytest.approx(0.2))
    # impact: the unit-cost (price) effect over the 7 days, 7 × 1000 × (0.00162 − 0.00126)
    assert hit["impact_usd"] == hit["price_usd"] == Decimal("2.52")
    bloat = by[("search", "prompt_tokens_per_request")]
    assert (bloat["expected"], bloat["actual"]) == (pytest.approx(1000), pytest.approx(1500))
    assert bloat["impact_usd"] == Decimal("0.53")  # 7 × 0.075 = 0.525, to the cent (half up)
    # in the one volume convention (priced tokens at the baseline's price per token, $0.27
    # for 1.2M tokens) bloat is volume: 7 days × 1.7M tokens = 11.9M at $0.000225 = $2.6775
    # against the expected 7 × $0.27 = $1.89, +$0.79; the window's price per token fell, as
    # the added tokens are cheap input: $2.415 − $2.6775 = −$0.26; one component, no mix
    assert (bloat["volume_usd"], bloat["price_usd"], bloat["mix_usd"]) == (
        Decimal("0.79"),
        Decimal("-0.26"),
        Decimal("0.00"),
    )
    # lost cache hits: the same 1.2M tokens a day at a dearer mix of them, all price
    assert (hit["volume_usd"], hit["mix_usd"]) == (Decimal("0.00"), Decimal("0.00"))
    assert found.filter(pl.col("check") == "spike").is_empty()


def test_first_use_of_a_model_and_deprecation(db, pricing_dir, tmp_path):
    days = weekly_days(MONDAY, 6)
    last = days[-1]
    acme = pricing_dir / "acme.yaml"
    acme.write_text(
        acme.read_text().replace(
            "    kind: chat\n",
            f"    kind: chat\n    deprecated_on: {last + dt.timedelta(days=20)}\n",
            1,
        )
    )
    rows = _weekly_rows(days)
    rows += [
        day_row(
            d,
            team="ads",
            provider="acme",
            model="alpha",
            requests=10,
            input_tokens=100_000,
            output_tokens=10_000,
        )
        for d in days[-10:]
    ]
    # thinker on the last day only: 5000 × $10 + 1000 × $40 per million = $0.09
    rows.append(
        day_row(
            last,
            team="research",
            provider="acme",
            model="thinker",
            requests=3,
            input_tokens=5000,
            output_tokens=1000,
        )
    )
    _store(db, pricing_dir, tmp_path, rows)
    with open_session(db, pricing_dir) as s:
        found = detect_anomalies(s, days=1)
    new = found.filter(pl.col("check") == "new_model").row(0, named=True)
    assert (new["scope"], new["key"], new["model"], new["day"]) == (
        "model",
        "thinker",
        "thinker",
        last,
    )
    assert new["impact_usd"] == Decimal("0.09")
    assert "teams: research" in new["detail"]
    # alpha: deprecated in 20 days; its impact is the last 30 days' spend on it,
    # 10 days × (0.1M × $1 + 0.01M × $4) = 10 × 0.14
    dep = found.filter(pl.col("check") == "deprecation").row(0, named=True)
    assert (dep["key"], dep["actual"], dep["impact_usd"]) == ("alpha", 20.0, Decimal("1.40"))
    assert "used by ads" in dep["detail"]


def test_price_volume_mix_adds_up_exactly():
    keys = {"team": ["a", "a"], "provider": ["p", "p"], "model": ["cheap", "dear"]}
    base = pl.DataFrame(
        {
            **keys,
            "cost_usd": [Decimal(10), Decimal(40)],
            "priced_tokens": [100, 100],
        }
    )
    # twice the tokens, shifted to the dear model, whose price per token also rose by 10%
    actual = pl.DataFrame(
        {
            **keys,
            "cost_usd": [Decimal(10), Decimal(132)],
            "priced_tokens": [100, 300],
        }
    )
    split = decompose_change(actual, base, Decimal(50))
    assert split["impact_usd"] == Decimal("92.00")
    assert split["price_usd"] == Decimal("12.00")  # 300 × (0.44 − 0.40)
    assert split["mix_usd"] == Decimal("30.00")  # 400 × ((0.25 − 0.5) × 0.1 + (0.75 − 0.5) × 0.4)
    assert split["volume_usd"] == Decimal("50.00")  # 400 × 0.25 − 50
    assert split["volume_usd"] + split["price_usd"] + split["mix_usd"] == split["impact_usd"]


def test_find_anomalies_on_an_empty_frame_and_bad_config():
    empty = pl.DataFrame(
        schema={
            "day": pl.Date,
            "team": pl.Utf8,
            "provider": pl.Utf8,
            "model": pl.Utf8,
            "api_key_id": pl.Utf8,
            "service_tier": pl.Utf8,
            "cost_usd": pl.Decimal(38, 12),
            **{
                c: pl.Int64
                for c in (
                    "requests",
                    "input_tokens",
                    "output_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                )
            },
        }
    )
    assert find_anomalies(empty).schema == pl.Schema(FINDING_SCHEMA)
    with pytest.raises(ValueError, match="unknown scope"):
        AnomalyConfig(scopes=("teams",))
    with pytest.raises(ValueError, match="daily frame lacks column"):
        find_anomalies(pl.DataFrame({"day": [MONDAY]}))


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=150, seed=7)
    return db


def test_no_false_alarm_on_the_demo_and_its_launch_is_found(demo_store):
    # the demo's two real volume events, both team growth's (gemini-2.5-flash and gpt-4.1-mini):
    # the launch on 2025-09-09 (3 days at 5× volume, then a step to 1.6×) and gpt-4.1-mini's
    # two-day spike of 6× on 2025-12-18; every other team-day of the last 120 days is noise
    with open_session(demo_store) as s:
        found = detect_anomalies(s, days=120, config=AnomalyConfig(checks=("spike",)))
    launch = {dt.date(2025, 9, 9), dt.date(2025, 9, 10), dt.date(2025, 9, 11)}
    spike = {dt.date(2025, 12, 18), dt.date(2025, 12, 19)}
    assert set(found["key"]) == {"growth", "gemini-2.5-flash", "gpt-4.1-mini"}
    assert launch | spike <= set(found["day"])
    # the step up after the launch is news for a week at most
    assert set(found["day"]) - spike <= {dt.date(2025, 9, 9) + dt.timedelta(d) for d in range(14)}
    spikes = found.filter(pl.col("day").is_in(launch | spike))
    assert (spikes["volume_usd"] / spikes["impact_usd"]).min() > 0.9  # both are volume


def test_the_impact_chart_draws_each_drift_metric_as_its_own_bar():
    """One team drifting in cost and prompt size per request on one day is two findings; under
    one label plotly would stack them into a single bar of twice the size."""
    from finops.views.charts import anomaly_impacts

    row = {
        "day": dt.date(2025, 12, 31),
        "check": "drift",
        "scope": "team",
        "key": "finance-ops",
        "model": "gpt-4.1",
        "expected": 0.02,
        "actual": 0.03,
        "bound": 0.025,
        "impact_usd": Decimal("24.14"),
        "volume_usd": Decimal("33.00"),
        "price_usd": Decimal("-6.76"),
        "mix_usd": Decimal("0.00"),
        "detail": "",
    }
    findings = pl.DataFrame(
        [
            {**row, "metric": "cost_per_request_usd"},
            {**row, "metric": "prompt_tokens_per_request"},
        ],
        schema=FINDING_SCHEMA,
    )
    volume = anomaly_impacts(findings).data[0]
    assert list(volume.y) == [
        "2025-12-31 drift · team finance-ops · cost per request",
        "2025-12-31 drift · team finance-ops · prompt tokens per request",
    ]
    assert list(volume.x) == [33.0, 33.0]
