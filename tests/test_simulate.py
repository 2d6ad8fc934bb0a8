"""The savings simulator on a real store: hand-priced catalog, canonical CSV fixtures.

Catalog: tests/fixtures/pricing (acme alpha / thinker, beta small) plus
tests/fixtures/simulate/gamma.yaml (tiny: 128k window, text only; seer: images, retires
2025-06-30; late: first priced 2025-04-01). Usage: tests/fixtures/simulate/usage.csv.

Actual cost of the fixture, by hand (USD per million tokens):
  research, thinker (input 10, cache_read 2.5, output 40):
    q1 2025-03-10  .1M×10 + .05M×2.5 + .02M×40  = 1.925
    q2 2025-03-20  .08M×10 + .04M×40            = 2.400
    b1 2025-04-02  bucket, 1M×10 + .2M×40        = 18.000      research = 22.325
  ads, alpha:
    a1 2025-03-10  prompt 320k > 200k, long context: .3M×4 + .02M×0.4 + .01M×12 = 1.328
    a2 2025-03-11  batch (×0.5 of period 1): .05M×1 + .005M×4                     = 0.070
    a3 2025-03-20  3,000 image tokens: alpha has no image price                 → unpriced
    a4 2025-03-21  bucket, period 2: 2M×1 + .1M×4                                = 2.400
    m1 2025-03-12  model "mystery"                                              → unpriced
                                                                          ads = 3.798
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from finops.analysis import simulate as sim
from finops.cli import main
from finops.pricing import costing
from finops.session.session import ingest, open_session
from finops.views.simulation import frontier_figure

SIMULATE = FIXTURES / "simulate"
USAGE = SIMULATE / "usage.csv"
BEFORE_SEER_RETIRES = dt.date(2025, 5, 1)  # seer retires 2025-06-30: 60 days later

# The hand-computed scenario: move research's thinker traffic to alpha with
#   input ratio 1.1, output ratio 0.9, cache-hit rate 0.5, batch share 0.25, discount 10%.
# Each rollup row, rounded half-even to whole tokens at each step:
# q1 2025-03-10, alpha period 1 (input 2, cache_read 0.2, output 8; batch ×0.5: 1, 0.1, 4)
#   ratios: input 100,000×1.1 = 110,000; cache_read 50,000×1.1 = 55,000; output 20,000×0.9 = 18,000
#   cache:  prompt 165,000 → cache_read 82,500, input 82,500
#   batch:  input 20,625 / 61,875; cache_read 20,625 / 61,875; output 4,500 / 13,500
#   batch part   .020625M×1 + .020625M×0.1 + .0045M×4   = 0.0406875
#   interactive  .061875M×2 + .061875M×0.2 + .0135M×8   = 0.244125
#   × 0.9 (discount)                                    = 0.25633125
# q2 2025-03-20, alpha period 2 (input 1, cache_read 0.1, output 4; batch 0.5, 0.05, 2)
#   ratios: input 88,000; cache_read none; output 36,000
#   cache:  prompt 88,000 → cache_read 44,000, input 44,000
#   batch:  input 11,000 / 33,000; cache_read 11,000 / 33,000; output 9,000 / 27,000
#   batch part   .011M×0.5 + .011M×0.05 + .009M×2       = 0.02405
#   interactive  .033M×1 + .033M×0.1 + .027M×4          = 0.1443
#   × 0.9                                               = 0.151515
# b1 2025-04-02, period 2: input 1,100,000; output 180,000
#   cache:  cache_read 550,000, input 550,000
#   batch:  input 137,500 / 412,500; cache_read 137,500 / 412,500; output 45,000 / 135,000
#   batch part   .1375M×0.5 + .1375M×0.05 + .045M×2     = 0.165625
#   interactive  .4125M×1 + .4125M×0.1 + .135M×4        = 0.99375
#   × 0.9                                               = 1.0434375
# scenario = 0.25633125 + 0.151515 + 1.0434375 = 1.45128375
# savings  = 22.325 − 1.45128375 = 20.87371625 (93.50%)
HAND_ASSUMPTIONS = {
    "input_token_ratio": "1.1",
    "output_token_ratio": "0.9",
    "cache_hit_rate": "0.5",
    "batch_share": "0.25",
    "contract_discount_pct": "10",
}


@pytest.fixture
def store(db: Path, pricing_dir: Path):
    """The simulate fixture in a store, priced by the test catalog plus gamma.yaml."""
    shutil.copy(SIMULATE / "gamma.yaml", pricing_dir / "gamma.yaml")
    with open_session(db, pricing_dir) as s:
        ingest(s, [USAGE])
    return db, pricing_dir


def _simulate(store, scenario: sim.Scenario, **kw) -> sim.SimulationResult:
    db, pricing = store
    kw.setdefault("today", BEFORE_SEER_RETIRES)
    kw.setdefault("as_billed", True)  # hand-worked on the prices of each day
    with open_session(db, pricing) as s:
        return sim.simulate(s, scenario, **kw)


def _checks(result: sim.SimulationResult) -> set[tuple[str, str]]:
    return {(f.check, f.severity) for f in result.findings}


def test_same_model_with_neutral_assumptions_saves_exactly_zero(store):
    db, pricing = store
    scenario = sim.Scenario(
        moves=[sim.Move("alpha", to="alpha"), sim.Move("thinker", to="thinker")]
    )
    result = _simulate(store, scenario)
    with open_session(db, pricing) as s:
        spent = costing.spend_totals(s.con, revision_id=s.revision_id).cost_usd
    assert result.actual_cost_usd == spent == Decimal("26.123")  # 22.325 + 3.798
    assert result.scenario_cost_usd == result.actual_cost_usd
    assert result.savings_usd == result.savings_usd_low == result.savings_usd_high == 0
    assert f"{result.savings_usd:.2f}" == "0.00"
    assert [m["savings_usd"] for m in result.by_month] == [0, 0]
    assert {t["team"]: t["actual_cost_usd"] for t in result.by_team} == {
        "ads": Decimal("3.798"),
        "research": Decimal("22.325"),
    }
    # a3 and m1 are unpriced today: counted apart, never priced at $0
    assert result.excluded["unpriced_actual_rows"] == 2
    assert result.tokens["actual"] == result.tokens["scenario"]
    assert result.feasible


def test_move_with_cache_and_batch_reproduces_the_hand_computation(store):
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")],
        scope={"teams": ["research"]},
        assumptions=HAND_ASSUMPTIONS,
    )
    result = _simulate(store, scenario)
    assert result.actual_cost_usd == Decimal("22.325")
    assert result.scenario_cost_usd == Decimal("1.45128375")
    assert result.savings_usd == Decimal("20.87371625")
    assert result.savings_pct == Decimal("93.50")
    assert [
        (m["month"], m["actual_cost_usd"], m["scenario_cost_usd"]) for m in result.by_month
    ] == [
        (dt.date(2025, 3, 1), Decimal("4.325"), Decimal("0.25633125") + Decimal("0.151515")),
        (dt.date(2025, 4, 1), Decimal(18), Decimal("1.0434375")),
    ]
    # input side 165,000 + 88,000 + 1,100,000; output 18,000 + 36,000 + 180,000
    assert result.tokens["scenario"] == 1_353_000 + 234_000
    assert result.compared_rows == 3
    assert result.findings == []


def test_token_ratios_round_half_even_to_whole_tokens(store):
    # output × 0.000025: q1 20,000 → 0.5 → 0 (half-even; half-up would give 1),
    # q2 40,000 → 1, b1 200,000 → 5; the input side is kept (ratio 1): 1,230,000 tokens
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")],
        scope={"teams": ["research"]},
        assumptions={"input_token_ratio": 1, "output_token_ratio": "0.000025"},
    )
    assert _simulate(store, scenario).tokens["scenario"] == 1_230_006


def test_savings_range_holds_low_expected_high_and_matches_its_cases(store):
    ranges = {
        "input_token_ratio": {"low": "1.0", "expected": "1.1", "high": "1.3"},
        "output_token_ratio": {"low": "0.8", "expected": "0.9", "high": "1.0"},
        "cache_hit_rate": {"low": "0.3", "expected": "0.5", "high": "0.7"},
        "batch_share": {"low": "0", "expected": "0.25", "high": "0.5"},
        "contract_discount_pct": {"low": "5", "expected": "10", "high": "15"},
    }

    def run(assumptions):
        return _simulate(
            store,
            sim.Scenario(
                moves=[sim.Move("thinker", to="alpha")],
                scope={"teams": ["research"]},
                assumptions=assumptions,
            ),
        )

    result = run(ranges)
    assert result.savings_usd == Decimal("20.87371625")  # expected case = the hand computation
    assert result.savings_usd_low < result.savings_usd < result.savings_usd_high
    assert result.savings_pct_low < result.savings_pct < result.savings_pct_high
    assert result.scenario_cost_usd_low < result.scenario_cost_usd < result.scenario_cost_usd_high
    for month in result.by_month:
        assert month["savings_usd_low"] < month["savings_usd"] < month["savings_usd_high"]
    # the bounds are the pessimistic and optimistic cases, each a scenario of its own
    pessimistic = run({k: v["high" if "ratio" in k else "low"] for k, v in ranges.items()})
    optimistic = run({k: v["low" if "ratio" in k else "high"] for k, v in ranges.items()})
    assert pessimistic.savings_usd == result.savings_usd_low
    assert optimistic.savings_usd == result.savings_usd_high


def test_context_window_and_modality_gaps_block(store):
    result = _simulate(
        store, sim.Scenario(moves=[sim.Move("alpha", to="tiny")], scope={"teams": ["ads"]})
    )
    assert not result.feasible
    blocks = {f.check: f.message for f in result.findings if f.severity == "block"}
    # a1: 320,000-token prompt + 10,000 output on a 128,000-token window
    assert blocks["context_window"].startswith("1 of 3 requests in scope would not fit gamma/tiny")
    assert "largest 330,000 tokens" in blocks["context_window"]
    assert (
        blocks["modality"] == "scope has 3,000 input image tokens; gamma/tiny takes text input only"
    )
    # bucket a4: 2.1M tokens / 20 requests = 105,000 a request, over half the window
    assert ("context_window", "warn") in _checks(result)
    assert any("usage buckets average over half" in f.message for f in result.findings)


def test_bucket_rows_whose_average_request_passes_the_window_block(store):
    # a4 with input × 1.3: (2.6M + 0.1M) / 20 requests = 135,000 tokens > 128,000
    result = _simulate(
        store,
        sim.Scenario(
            moves=[sim.Move("alpha", to="tiny")],
            scope={"teams": ["ads"], "first_day": "2025-03-21"},
            assumptions={"input_token_ratio": "1.3"},
        ),
    )
    messages = [f.message for f in result.findings if f.severity == "block"]
    assert messages == [
        (
            "1 usage buckets average more tokens per request (up to 135,000) than gamma/tiny's "
            "128,000-token context window: their requests are likely exceeded"
        )
    ]


def test_a_window_exceeded_only_at_high_token_ratios_warns(store):
    # q1: prompt 150,000 + output 20,000; at input × 0.7 it is 125,000 (fits), at × 1.0 170,000
    result = _simulate(
        store,
        sim.Scenario(
            moves=[sim.Move("thinker", to="tiny")],
            scope={"teams": ["research"], "last_day": "2025-03-31"},
            assumptions={"input_token_ratio": {"low": "0.5", "expected": "0.7", "high": "1.0"}},
        ),
    )
    assert _checks(result) == {("context_window", "warn")}
    assert result.feasible


def test_deprecated_target_warns_before_and_blocks_after_retirement(store):
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="seer")],
        scope={"teams": ["research"]},
        assumptions={"input_token_ratio": 1, "output_token_ratio": 1},  # no band change
    )
    before = _simulate(store, scenario, today=BEFORE_SEER_RETIRES)
    assert [f.message for f in before.findings] == ["gamma/seer retires on 2025-06-30, in 60 days"]
    after = _simulate(store, scenario, today=dt.date(2025, 7, 1))
    assert [(f.check, f.severity) for f in after.findings] == [("deprecation", "block")]
    assert not after.feasible


def test_target_without_a_price_on_the_days_in_scope_blocks_and_is_left_out(store):
    result = _simulate(
        store, sim.Scenario(moves=[sim.Move("thinker", to="late")], scope={"teams": ["research"]})
    )
    blocks = [f for f in result.findings if f.severity == "block"]
    assert [f.check for f in blocks] == ["no_price"]
    assert "from 2025-03-10 to 2025-03-20" in blocks[0].message
    # only b1 (2025-04-02) compares: 18 against 1M×0.2 + .2M×0.8 = 0.36
    assert (result.actual_cost_usd, result.scenario_cost_usd) == (Decimal(18), Decimal("0.36"))
    assert result.savings_usd == Decimal("17.64")
    assert result.excluded["unpriced_scenario_rows"] == 2
    assert result.excluded["unpriced_scenario_actual_cost_usd"] == Decimal("4.325")


def test_cheapest_candidate_that_can_take_the_traffic_is_chosen(store):
    move = sim.Move("thinker", to_cheapest_of=["late", "tiny", "seer", "alpha"])
    scenario = sim.Scenario(moves=[move], scope={"teams": ["research"]})
    result = _simulate(store, scenario, today=BEFORE_SEER_RETIRES)
    candidates = {c["model"]: c for c in result.moves[0]["candidates"]}
    # late cannot price March; tiny is too small for q1 (170,000 tokens)
    assert [m for m, c in candidates.items() if not c["eligible"]] == ["gamma/late", "gamma/tiny"]
    # seer: .1M×0.5 + .05M×0.05 + .02M×2 + .08M×0.5 + .04M×2 + 1M×0.5 + .2M×2 = 1.1125
    # alpha: 0.37 + 0.24 + 1.80 = 2.41
    assert candidates["gamma/seer"]["scenario_cost_usd"] == Decimal("1.1125")
    assert candidates["acme/alpha"]["scenario_cost_usd"] == Decimal("2.41")
    assert result.moves[0]["to"] == "gamma/seer"
    assert result.scenario_cost_usd == Decimal("1.1125")
    retired = _simulate(store, scenario, today=dt.date(2025, 7, 1))
    assert retired.moves[0]["to"] == "acme/alpha"
    nothing_fits = sim.Scenario(
        moves=[sim.Move("thinker", to_cheapest_of=["late", "tiny"])], scope={"teams": ["research"]}
    )
    with pytest.raises(sim.ScenarioError, match="no candidate can take this traffic"):
        _simulate(store, nothing_fits)


def test_scope_by_tags_and_days(store):
    def actual(scope):
        return _simulate(store, sim.Scenario(moves=[sim.Move("alpha", to="alpha")], scope=scope))

    # ads with env=prod: a1 1.328 + a4 2.4 (a3, m1 unpriced); a2 is staging: 0.07
    assert actual({"teams": ["ads"], "tags": {"env": "prod"}}).actual_cost_usd == Decimal("3.728")
    assert actual({"tags": {"env": "staging"}}).actual_cost_usd == Decimal("0.07")
    march_10 = actual({"first_day": "2025-03-10", "last_day": "2025-03-10"})
    assert march_10.actual_cost_usd == Decimal("1.925") + Decimal("1.328")
    assert actual({"models": ["acme/alpha"], "providers": ["acme"]}).actual_cost_usd == Decimal(
        "3.798"
    )


def test_teams_come_from_the_allocation_map_and_effective_cost_after_contracts(store):
    db, pricing = store
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")],
        scope={"teams": ["research-platform"]},
        assumptions=HAND_ASSUMPTIONS,
    )
    with open_session(
        db, pricing, teams=SIMULATE / "teams.yaml", contracts=SIMULATE / "contracts.yaml"
    ) as s:
        result = sim.simulate(s, scenario, today=BEFORE_SEER_RETIRES, as_billed=True)
    # the map gives thinker's usage to research-platform; list cost is the hand computation
    assert [t["team"] for t in result.by_team] == ["research-platform"]
    assert result.savings_usd == Decimal("20.87371625")
    # effective: no term on thinker; alpha's 20% off applies to the target, then the 10%
    # assumed discount: 1.45128375 × 0.8 = 1.161027
    assert result.actual_effective_cost_usd == Decimal("22.325")
    assert result.scenario_effective_cost_usd == Decimal("1.161027")
    assert result.effective_savings_usd == Decimal("21.163973")
    without_map = _simulate(store, scenario)
    assert [f.check for f in without_map.findings] == ["no_usage"]


def test_a_read_only_session_gives_the_same_numbers(store):
    db, pricing = store
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")],
        scope={"teams": ["research"], "tags": {"env": "prod"}},
        assumptions=HAND_ASSUMPTIONS,
    )
    with open_session(db, pricing, read_only=True) as s:  # as the app opens the store
        result = sim.simulate(s, scenario, today=BEFORE_SEER_RETIRES, as_billed=True)
    assert result.to_dict() == _simulate(store, scenario).to_dict()
    assert result.savings_usd == Decimal("20.87371625")


def test_eval_scores_give_the_frontier_and_the_cheapest_model_meeting_the_bar(store):
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="seer")],
        scope={"teams": ["research"]},
        quality=sim.QualityTarget(evals_file=SIMULATE / "evals.csv", min_score=0.8),
    )
    result = _simulate(store, scenario)
    quality = result.quality
    assert quality["basis"] == "mean score over tasks"
    points = {p["model"]: p for p in quality["points"]}
    assert {m: (p["cost_usd"], p["score"]) for m, p in points.items()} == {
        "tiny": (Decimal("0.2225"), pytest.approx(0.55)),
        "seer": (Decimal("1.1125"), pytest.approx(0.75)),
        "alpha": (Decimal("2.41"), pytest.approx(0.85)),
        "thinker": (Decimal("22.325"), pytest.approx(0.94)),
    }
    assert points["tiny"]["blocked"] and not points["tiny"]["on_frontier"]
    assert [m for m, p in points.items() if p["on_frontier"]] == ["seer", "alpha", "thinker"]
    assert points["thinker"]["is_current"] and points["seer"]["is_target"]
    best = quality["cheapest_meeting_min_score"]
    assert (best["model"], best["cost_usd"]) == ("alpha", Decimal("2.41"))
    assert "nonesuch" in result.quality_note and "beta/small" in result.quality_note
    quality_findings = [f.message for f in result.findings if f.check == "quality"]
    assert quality_findings == [
        "gamma/seer scores 0.75 against 0.94 for thinker (mean score over tasks)",
        "gamma/seer scores 0.75, below the minimum 0.8 (mean score over tasks)",
    ]
    frame = sim.frontier_points(result)
    assert frame.height == 4 and frame["on_frontier"].sum() == 3
    figure = frontier_figure(result)
    assert [t.name for t in figure.data] == ["models", "frontier"]


def test_one_task_and_models_the_catalog_cannot_price_for_the_scope(store):
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")],
        scope={"teams": ["research"]},
        quality=sim.QualityTarget(task="summarize", min_score=0.9),
    )
    result = _simulate(store, scenario, evals=sim.load_evals(SIMULATE / "evals.csv"))
    points = {p["model"]: p for p in result.quality["points"]}
    # small has no cache_read price: it cannot cache, so q1's 50k cache reads become input.
    # small (input 0.15, output 0.6): q1 .15M×0.15 + .02M×0.6 = 0.0345, q2 .08M×0.15 + .04M×0.6
    # = 0.036, b1 1M×0.15 + .2M×0.6 = 0.27: 0.3405, cheaper than alpha's 2.41, but it scores
    # 0.70 on summarize, below 0.9: the cheapest meeting the minimum stays alpha
    assert points["small"]["comparable"] is True
    assert points["small"]["cost_usd"] == Decimal("0.3405")
    assert result.quality["cheapest_meeting_min_score"]["model"] == "alpha"


def test_without_evals_the_result_says_savings_are_not_quality(store):
    result = _simulate(store, sim.Scenario(moves=[sim.Move("thinker", to="alpha")]))
    assert result.quality is None
    assert result.quality_note.startswith("no eval results given")


def test_forward_savings_apply_the_recent_savings_rate_to_the_forecast(store, monkeypatch):
    """The forecast is replaced by a known one (14 days, $140 expected, $100–$180 at 80%), so
    the savings are worked out by hand and not from the result's own forecast."""
    import polars as pl

    from finops.analysis.simulate import forward

    seen = {}

    def known_forecast(values, *, days, horizon, fill):
        seen.update(values=values, days=days, horizon=horizon)
        return pl.DataFrame(
            {
                "day": [dt.date(2025, 4, 3) + dt.timedelta(days=i) for i in range(horizon)],
                "cum_mean": [10.0 * (i + 1) for i in range(horizon)],
                "cum_lo80": [100.0 / horizon * (i + 1) for i in range(horizon)],
                "cum_hi80": [180.0 / horizon * (i + 1) for i in range(horizon)],
                "method": ["known"] * horizon,
                "note": [""] * horizon,
            }
        )

    monkeypatch.setattr(forward, "forecast_series", known_forecast)
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")],
        scope={"teams": ["research"]},
        assumptions=HAND_ASSUMPTIONS,
        horizon_days=14,
    )
    forecast = _simulate(store, scenario).forecast
    # the forecast is fed research's actual daily spend (module docstring): q1, q2, b1
    assert seen["days"] == [dt.date(2025, 3, 10), dt.date(2025, 3, 20), dt.date(2025, 4, 2)]
    assert seen["values"] == pytest.approx([1.925, 2.4, 18.0])
    assert seen["horizon"] == 14
    assert (forecast["horizon_days"], forecast["first_day"]) == (14, dt.date(2025, 4, 3))
    assert forecast["forecast_cost_usd"] == Decimal("140.00")
    # the last 28 days (2025-03-06..04-02) hold all of research's usage, so the savings rate is
    # 20.87371625 / 22.325 = 0.934992889...: $140 × rate = 130.899 → $130.90; with single-valued
    # assumptions every case has that rate, so the range is $100 × rate = 93.499 → $93.50 to
    # $180 × rate = 168.299 → $168.30
    assert (forecast["savings_usd_low"], forecast["savings_usd"], forecast["savings_usd_high"]) == (
        Decimal("93.50"),
        Decimal("130.90"),
        Decimal("168.30"),
    )


def test_scenario_files_and_their_errors(tmp_path):
    first, second = sim.load_scenarios(SIMULATE / "scenarios.yaml")
    assert first.name == "research on alpha"
    assert first.assumptions.batch_share == sim.Estimate.of("0.25")
    assert second.moves[0].to_cheapest_of[2] == sim.ModelRef("alpha", "acme")
    assert second.quality.evals_file == SIMULATE / "evals.csv"
    assert second.horizon_days == 14
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "moves:\n  - from: o3\n    to: o4-mini\n    assumptions:\n"
        "      cache_hit_rate: {low: 0.6, expected: 0.5}\n"
    )
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenarios(bad)
    assert str(err.value) == (
        f"{bad}, moves[0].assumptions.cache_hit_rate: needs low ≤ expected ≤ high, "
        "got 0.6 / 0.5 / 0.5"
    )
    bad.write_text("moves:\n  - from: o3\n    to: o4-mini\n    assumptions: {cache_hit: 0.5}\n")
    with pytest.raises(sim.ScenarioError, match=r"moves\[0\]\.assumptions\.cache_hit: unknown"):
        sim.load_scenarios(bad)
    bad.write_text("moves:\n  - from: o3\n")
    with pytest.raises(sim.ScenarioError, match="give either to"):
        sim.load_scenarios(bad)
    with pytest.raises(sim.ScenarioError, match="for batch give batch_share"):
        sim.Assumptions(service_tier="batch")
    with pytest.raises(sim.ScenarioError, match="more than 4 decimal places"):
        sim.Assumptions(contract_discount_pct="10.12345")


def test_unknown_or_ambiguous_targets_name_the_field(store):
    with pytest.raises(
        sim.ScenarioError, match=r"moves\[0\]\.to: no model 'tinny'.*did you mean tiny"
    ):
        _simulate(store, sim.Scenario(moves=[sim.Move("thinker", to="tinny")]))


def test_the_token_ratio_table_cites_a_source_for_every_family():
    table = sim.load_token_ratios()
    assert all(f.source.startswith(("https://", "no source")) for f in table.families)
    assert all(f.ratio is None or f.source.startswith("https://") for f in table.families)
    assert table.family_of("gpt-4o").id == "openai"
    assert table.family_of("anthropic.claude-opus-4-7").id == "claude-2026-tokenizer"
    assert table.family_of("deepseek-r1-distill-llama-70b").id == "meta-llama"
    newer = table.ratio("claude-sonnet-4-5", "claude-opus-4-7").estimate
    assert (newer.low, newer.expected, newer.high) == (1, Decimal("1.3"), Decimal("1.35"))
    back = table.ratio("claude-opus-4-7", "claude-sonnet-4-5").estimate
    assert (back.low, back.expected, back.high) == (
        Decimal("0.740741"),
        Decimal("0.769231"),
        Decimal(1),
    )
    assert table.ratio("gpt-4o", "deepseek-chat").estimate.expected == Decimal("1.2")
    assert table.ratio("gpt-4o", "claude-haiku-4-5").source.startswith("no source")


def test_moves_report_where_their_token_ratios_come_from(store):
    result = _simulate(store, sim.Scenario(moves=[sim.Move("thinker", to="alpha")]))
    ratios = result.moves[0]["assumptions"]
    # thinker and alpha are in no tokenizer family: 1.0 widened by the table's 1.35 either way
    # (1 ÷ 1.35 = 0.740741 to 6 places); output adds the 0.8 .. 1.25 verbosity range:
    # 0.740741 × 0.8 = 0.592593, 1.35 × 1.25 = 1.6875
    source = ratios["input_token_ratio"]["source"]
    assert source.startswith("no source: thinker is in no family of token_ratios.yaml; range")
    assert "migration-guide" in source
    assert [ratios["input_token_ratio"][k] for k in ("low", "expected", "high")] == [
        Decimal("0.740741"),
        Decimal(1),
        Decimal("1.35"),
    ]
    assert [ratios["output_token_ratio"][k] for k in ("low", "expected", "high")] == [
        Decimal("0.592593"),
        Decimal(1),
        Decimal("1.6875"),
    ]
    assert "verbosity assumed 0.8x to 1.25x" in ratios["output_token_ratio"]["source"]
    assert ratios["cache_hit_rate"] == "as observed"


def test_scenarios_side_by_side(store):
    db, pricing = store
    scenarios = sim.load_scenarios(SIMULATE / "scenarios.yaml")
    with open_session(db, pricing) as s:
        results = sim.simulate_many(s, scenarios, today=dt.date(2025, 7, 1), as_billed=True)
    frame = sim.comparison_frame(results)
    assert frame["scenario"].to_list() == ["research on alpha", "research on the cheapest"]
    assert frame["savings_usd"].to_list() == [
        Decimal("20.87371625"),
        Decimal("22.325") - Decimal("2.41"),  # seer retired: alpha is the cheapest left
    ]


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_json_matches_the_library(store):
    db, pricing = store
    opts = ["--db", str(db), "--pricing", str(pricing), "--as-billed"]
    out = _cli(
        "simulate", "--scenario", str(SIMULATE / "scenarios.yaml"), "--format", "json", *opts
    )
    assert out.exit_code == 0, out.output
    first, second = json.loads(out.output, parse_float=Decimal)
    assert first["actual_cost_usd"] == Decimal("22.325")
    assert first["scenario_cost_usd"] == Decimal("1.45128375")
    assert first["savings_usd"] == Decimal("20.87371625")
    assert first["savings_pct"] == Decimal("93.50")
    assert {"savings_usd_low", "savings_usd_high", "by_month", "by_team", "warnings"} <= set(first)
    assert [m["month"] for m in first["by_month"]] == ["2025-03-01", "2025-04-01"]
    assert second["quality"]["cheapest_meeting_min_score"]["model"] == "alpha"
    quick = _cli(
        "simulate", "--from", "thinker", "--to", "alpha", "--scope", "team=research",
        *[f"--assume={k}={v}" for k, v in HAND_ASSUMPTIONS.items()],
        "--format", "json", *opts,
    )  # fmt: skip
    assert quick.exit_code == 0, quick.output
    (quick_result,) = json.loads(quick.output, parse_float=Decimal)
    for key in ("actual_cost_usd", "scenario_cost_usd", "savings_usd", "by_month", "by_team"):
        assert quick_result[key] == first[key], key


def test_cli_table_and_user_errors(store):
    db, pricing = store
    opts = ["--db", str(db), "--pricing", str(pricing), "--as-billed"]
    out = _cli("simulate", "--from", "alpha", "--to", "tiny", "--scope", "team=ads", *opts)
    assert out.exit_code == 3, out.output  # the modality check blocks
    assert "savings:       $3.52 (92.69%)" in out.output
    assert "BLOCKED [modality]: scope has 3,000 input image tokens" in out.output
    assert "quality: no eval results given" in out.output
    bad = _cli("simulate", "--from", "alpha", "--to", "tiny", "--assume", "cache_hit_rate=2", *opts)
    assert bad.exit_code == 1
    assert bad.output.strip() == (
        "Error: assumptions.cache_hit_rate.low: 2 is out of range: at least 0, at most 1"
    )
    missing = _cli("simulate", "--from", "alpha", *opts)
    assert (
        missing.exit_code == 2
        and "give --scenario FILE.yaml, or --from MODEL --to MODEL" in missing.output
    )
