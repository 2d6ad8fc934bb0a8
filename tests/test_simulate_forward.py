"""The simulator's forward view and headline, worked by hand on tests/fixtures/simulate.

Forward view: the scope's last 28 days of usage, both sides priced at the prices in force on
the pricing day (here 2025-05-01), scaled to a month of 30.4375 days (365.25 / 12); each
monthly rate rounded to the cent once, savings the difference of the rounded rates.

Research's thinker rows (see tests/test_simulate.py): q1 2025-03-10, q2 2025-03-20, bucket b1
2025-04-02; actual 1.925 + 2.4 + 18 = 22.325 (thinker's price never changes). The scope's last
day is 2025-04-02 and its first 2025-03-10, later than 2025-04-02 − 27 days = 2025-03-06, so
the window is 2025-03-10 .. 2025-04-02: 24 days, factor 30.4375 / 24.

gamma/late is first priced 2025-04-01 (input 0.2, cache_read 0.02, output 0.8 per MTok):
  q1 .1M×0.2 + .05M×0.02 + .02M×0.8 = 0.037;  q2 .08M×0.2 + .04M×0.8 = 0.048;
  b1 1M×0.2 + .2M×0.8 = 0.36;  scenario 0.445, savings 21.88 over the window.
Per month: actual 22.325 × 30.4375 / 24 = 28.3132… → $28.31; scenario 0.445 × 30.4375 / 24
= 0.5644… → $0.56; savings $28.31 − $0.56 = $27.75; 21.88 / 22.325 = 98.01% of the moved
workload.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from finops.analysis import simulate as sim
from finops.cli import main
from finops.session.session import ingest, open_session

SIMULATE = FIXTURES / "simulate"
PRICING_DAY = dt.date(2025, 5, 1)
NEUTRAL = {"input_token_ratio": 1, "output_token_ratio": 1}


@pytest.fixture
def store(db: Path, pricing_dir: Path):
    shutil.copy(SIMULATE / "gamma.yaml", pricing_dir / "gamma.yaml")
    with open_session(db, pricing_dir) as s:
        ingest(s, [SIMULATE / "usage.csv"])
    return db, pricing_dir


def _forward(store, scenario: sim.Scenario, **kw) -> sim.SimulationResult:
    db, pricing = store
    with open_session(db, pricing) as s:
        return sim.simulate(s, scenario, today=PRICING_DAY, **kw)


def test_a_target_launched_after_the_history_prices_the_whole_scope(store):
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="late")], scope={"teams": ["research"]}, assumptions=NEUTRAL
    )
    forward = _forward(store, scenario)
    assert forward.view == "forward" and forward.pricing_day == PRICING_DAY
    assert forward.feasible and not [f for f in forward.findings if f.check == "no_price"]
    assert (forward.actual_cost_usd, forward.scenario_cost_usd) == (
        Decimal("22.325"),
        Decimal("0.445"),
    )
    assert forward.excluded["unpriced_scenario_rows"] == 0
    m = forward.monthly
    assert (m["first_day"], m["last_day"], m["days"]) == (
        dt.date(2025, 3, 10),
        dt.date(2025, 4, 2),
        24,
    )
    assert (m["actual_cost_usd"], m["scenario_cost_usd"], m["savings_usd"]) == (
        Decimal("28.31"),
        Decimal("0.56"),
        Decimal("27.75"),
    )
    assert m["savings_pct_of_moved"] == Decimal("98.01")
    row = sim.comparison_frame([forward]).row(0, named=True)
    assert (row["savings_usd_per_month"], row["savings_pct_of_moved"]) == (
        Decimal("27.75"),
        Decimal("98.01"),
    )
    # as billed, late had no price before 2025-04-01: q1 and q2 cannot be priced, and block
    billed = _forward(store, scenario, as_billed=True)
    assert [f.check for f in billed.findings if f.severity == "block"] == ["no_price"]
    assert billed.excluded["unpriced_scenario_rows"] == 2


def test_the_headline_is_the_share_of_the_moved_workload_and_separately_of_the_scope(store):
    """All teams in scope; only research's thinker traffic moves.

    Ads at the prices of 2025-05-01 (alpha's second period: input 1, cache_read 0.1, output 4;
    long context input 2, cache_read 0.2, output 6; batch × 0.5):
      a1 long context .3M×2 + .02M×0.2 + .01M×6 = 0.664;  a2 batch .05M×0.5 + .005M×2 = 0.035;
      a4 2M×1 + .1M×4 = 2.4;  a3 (image tokens) and m1 (unknown model) are unpriced, left out.
    Scope: actual 22.325 + 3.099 = 25.424, scenario 0.445 + 3.099 = 3.544, savings 21.88.
    Per month: actual 25.424 × 30.4375 / 24 = 32.2434… → $32.24; scenario 3.544 × 30.4375 / 24
    = 4.4946… → $4.49; savings $27.75. Moved workload: $28.31 → $0.56, 98.01% of it;
    21.88 / 25.424 = 86.06% of the scope.
    """
    scenario = sim.Scenario(moves=[sim.Move("thinker", to="late")], assumptions=NEUTRAL)
    m = _forward(store, scenario).monthly
    assert (m["actual_cost_usd"], m["scenario_cost_usd"], m["savings_usd"]) == (
        Decimal("32.24"),
        Decimal("4.49"),
        Decimal("27.75"),
    )
    assert (m["moved_actual_cost_usd"], m["moved_scenario_cost_usd"]) == (
        Decimal("28.31"),
        Decimal("0.56"),
    )
    assert (m["savings_pct_of_moved"], m["savings_pct_of_scope"]) == (
        Decimal("98.01"),
        Decimal("86.06"),
    )


def test_ranges_differ_across_tokenizer_families(store):
    """Same family: exactly 1, no range. Different (or unknown) families with no published range:
    1 ÷ 1.35 = 0.740741 .. 1.35 for input, times verbosity 0.8 .. 1.25 for output
    (0.592593 .. 1.6875).

    thinker → late with the default ratios (neither is in a family), per token row:
      pessimistic (input × 1.35, output × 1.6875; acme → gamma is a move to another provider,
      so only half of today's cache reads stay cache reads):
        q1 input 135,000, cache read 67,500 → 33,750 kept, 33,750 back to input: 168,750×0.2
           + 33,750×0.02 + 33,750×0.8 = 0.061425 (per million)
        q2 108,000×0.2 + 67,500×0.8 = 0.0756;  b1 1,350,000×0.2 + 337,500×0.8 = 0.54
        scenario 0.677025 → 0.677025 × 30.4375 / 24 = 0.8586… → $0.86; savings $28.31 − $0.86
      optimistic (input × 0.740741, output × 0.592593, each count rounded half-even):
        q1 74,074×0.2 + 37,037×0.02 + 11,852×0.8 = 0.02503714
        q2 59,259×0.2 + 23,704×0.8 = 0.030815;  b1 740,741×0.2 + 118,519×0.8 = 0.2429634
        scenario 0.29881554 → 0.3790… → $0.38; savings $28.31 − $0.38
    """
    table = sim.load_token_ratios()
    same = table.ratio("gpt-4o", "gpt-4o-mini").estimate
    assert same.low == same.expected == same.high == 1
    across = table.ratio("gpt-4o", "gemini-2.5-flash").estimate
    assert (across.low, across.expected, across.high) == (
        Decimal("0.740741"),
        Decimal(1),
        Decimal("1.35"),
    )
    scenario = sim.Scenario(moves=[sim.Move("thinker", to="late")], scope={"teams": ["research"]})
    result = _forward(store, scenario)
    retention = result.moves[0]["assumptions"]["cache_retention"]
    assert (retention["low"], retention["high"]) == (Decimal("0.5"), Decimal("1.0"))
    m = result.monthly
    assert (m["savings_usd_low"], m["savings_usd"], m["savings_usd_high"]) == (
        Decimal("27.45"),
        Decimal("27.75"),
        Decimal("27.93"),
    )


def _bucket_store(db: Path, pricing_dir: Path, tmp_path: Path, requests: int):
    """One day bucket of `requests` requests, 11M input and 1M output tokens, team bulk."""
    shutil.copy(SIMULATE / "gamma.yaml", pricing_dir / "gamma.yaml")
    csv = tmp_path / f"bucket-{requests}.csv"
    csv.write_text(
        "period_start,period_end,provider,model,requests,input_tokens,output_tokens,team\n"
        f"2025-04-20T00:00:00Z,2025-04-21T00:00:00Z,acme,thinker,{requests},11000000,1000000,bulk\n"
    )
    with open_session(db, pricing_dir) as s:
        ingest(s, [csv])
    return db, pricing_dir


def test_a_bucketed_row_is_checked_per_request_never_as_one_request(db, pricing_dir, tmp_path):
    """12M tokens over 1,000 requests is 12,000 tokens a request (16,538 at the high ratios:
    11M × 1.35 + 1M × 1.6875 = 16,537,500 ÷ 1,000), far inside tiny's 128,000-token window and
    under half of it: no context finding at all. Over 10 requests it is 1.2M a request: blocked.
    """
    store = _bucket_store(db, pricing_dir, tmp_path, 1000)
    scenario = sim.Scenario(moves=[sim.Move("thinker", to="tiny")], scope={"teams": ["bulk"]})
    result = _forward(store, scenario)
    assert [f for f in result.findings if f.check == "context_window"] == []
    assert result.feasible
    # 11M × 0.1 + 1M × 0.4 = 1.5 on tiny against 11M × 10 + 1M × 40 = 150 on thinker, one day:
    # per month 150 × 30.4375 = 4,565.625 → $4,565.62 (half-even) and 1.5 × 30.4375 = 45.65625
    # → $45.66
    assert result.monthly["savings_usd"] == Decimal("4565.62") - Decimal("45.66")


def test_a_bucket_whose_average_request_passes_the_window_blocks(db, pricing_dir, tmp_path):
    store = _bucket_store(db, pricing_dir, tmp_path, 10)
    scenario = sim.Scenario(moves=[sim.Move("thinker", to="tiny")], scope={"teams": ["bulk"]})
    result = _forward(store, scenario)
    assert ("context_window", "block") in {(f.check, f.severity) for f in result.findings}
    assert not result.feasible


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_prints_the_forward_headline_and_exits_3_when_blocked(store):
    db, pricing = store
    opts = ["--db", str(db), "--pricing", str(pricing), "--pricing-day", "2025-05-01"]
    out = _cli(
        "simulate", "--from", "thinker", "--to", "late", "--scope", "team=research",
        "--assume", "input_token_ratio=1", "--assume", "output_token_ratio=1", *opts,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert (
        "Forward view: prices in force on 2025-05-01, usage of 2025-03-10 .. 2025-04-02 "
        "(24 days), per month" in out.output
    )
    assert "moved workload: $28.31/month today → $0.56/month" in out.output
    assert "savings:        $27.75/month = 98.01% of the moved workload" in out.output
    blocked = _cli("simulate", "--from", "alpha", "--to", "tiny", "--scope", "team=ads", *opts)
    assert blocked.exit_code == 3, blocked.output
    assert "BLOCKED [modality]" in blocked.output


def test_cache_writes_are_input_on_a_target_that_prices_none(db, pricing_dir, tmp_path):
    """One bucket on 2025-04-20: alpha, 100k input, 50k cache writes (5m), 10k output.
    Actual at alpha's prices of 2025-05-01 (input 1, cache_write_5m 1.25, output 4):
    .1M×1 + .05M×1.25 + .01M×4 = 0.2025 a day → 6.1636 → $6.16 a month.
    gamma/tiny prices no cache writes (input 0.1, output 0.4): the writes are input,
    .15M×0.1 + .01M×0.4 = 0.019 → 0.5783 → $0.58; saving $5.58 (before: every row unpriced)."""
    shutil.copy(SIMULATE / "gamma.yaml", pricing_dir / "gamma.yaml")
    csv = tmp_path / "writes.csv"
    csv.write_text(
        "period_start,period_end,provider,model,requests,input_tokens,cache_write_5m_tokens,"
        "output_tokens,team\n"
        "2025-04-20T00:00:00Z,2025-04-21T00:00:00Z,acme,alpha,10,100000,50000,10000,cw\n"
    )
    with open_session(db, pricing_dir) as s:
        ingest(s, [csv])
    scenario = sim.Scenario(moves=[sim.Move("alpha", to="tiny")], assumptions=NEUTRAL)
    result = _forward((db, pricing_dir), scenario)
    assert result.feasible and result.excluded["unpriced_scenario_rows"] == 0
    m = result.monthly
    assert (m["actual_cost_usd"], m["scenario_cost_usd"], m["savings_usd"]) == (
        Decimal("6.16"),
        Decimal("0.58"),
        Decimal("5.58"),
    )


def test_usage_after_today_stays_out_of_the_forward_window(store):
    """Judged on 2025-03-25 (a review of March): b1 (2025-04-02) is after today, so the window
    is q1 and q2, 2025-03-10 .. 03-20 (11 days), priced on 2025-03-25: actual 1.925 + 2.4 =
    4.325; on alpha (second period: input 1, cache_read 0.1, output 4) q1 .1M×1 + .05M×0.1 +
    .02M×4 = 0.185 and q2 .08M×1 + .04M×4 = 0.24, 0.425. Per month: 4.325 × 30.4375 / 11 =
    11.967… → $11.97, 0.425 × 30.4375 / 11 = 1.1760… → $1.18, saving $10.79."""
    scenario = sim.Scenario(
        moves=[sim.Move("thinker", to="alpha")], scope={"teams": ["research"]}, assumptions=NEUTRAL
    )
    db, pricing = store
    with open_session(db, pricing) as s:
        result = sim.simulate(s, scenario, today=dt.date(2025, 3, 25))
    m = result.monthly
    assert (m["first_day"], m["last_day"], m["days"]) == (
        dt.date(2025, 3, 10),
        dt.date(2025, 3, 20),
        11,
    )
    assert result.pricing_day == dt.date(2025, 3, 25)
    assert (m["actual_cost_usd"], m["scenario_cost_usd"], m["savings_usd"]) == (
        Decimal("11.97"),
        Decimal("1.18"),
        Decimal("10.79"),
    )
