"""`finops opportunities` on the demo: at least one opportunity of each kind, and each one's
dollars per month are exactly what `finops simulate` prints for the command it carries."""

from __future__ import annotations

import json
import shlex
from decimal import Decimal

import pytest
from click.testing import CliRunner

from finops.analysis import opportunities as opp
from finops.analysis import simulate as sim
from finops.cli import main
from finops.session.session import ingest, load_demo, open_session


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_session(db) as s:
        load_demo(s, days=60)
    return db


@pytest.mark.slow
def test_the_demo_has_every_kind_and_each_matches_finops_simulate(demo_db):
    with open_session(demo_db, read_only=True) as s:
        found = opp.find_opportunities(s)
    kinds = {o.kind for o in found}
    assert kinds == set(opp.KINDS), kinds
    savings = [o.savings_usd for o in found]
    assert savings == sorted(savings, reverse=True)  # ranked by dollars per month
    first_of_kind = {k: next(o for o in found if o.kind == k) for k in opp.KINDS}
    for kind, o in first_of_kind.items():
        assert o.assumptions and o.command.startswith("finops simulate ")
        args = [*shlex.split(o.command)[1:], "--db", str(demo_db), "--format", "json"]
        out = CliRunner().invoke(main, args, catch_exceptions=False)
        assert out.exit_code == 0, (kind, out.output)
        (printed,) = json.loads(out.output, parse_float=Decimal)
        monthly = printed["monthly"]
        assert Decimal(str(monthly["savings_usd"])) == o.savings_usd, kind
        assert Decimal(str(monthly["savings_usd_low"])) == o.savings_usd_low, kind
        assert Decimal(str(monthly["savings_usd_high"])) == o.savings_usd_high, kind
    for o in found:
        if o.kind != "retirement":
            assert o.savings_usd > 0
        else:
            assert o.deadline is not None


def test_cli_lists_opportunities_with_their_commands(demo_db):
    out = CliRunner().invoke(main, ["opportunities", "--db", str(demo_db)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Savings opportunities, per month (")
    assert " 1. $" in out.output and "    $ finops simulate --from " in out.output


# --- a hand-priced fixture --------------------------------------------------------------------

DELTA = """provider: delta
source: https://example.com/delta/pricing
models:
  - id: big
    kind: chat
    context_window: 1000000
    prices:
      - valid_from: 2025-01-01
        usd_per_mtok: {input: 4, cache_read: 0.4, output: 16}
        batch: {multiplier: 0.5}
  - id: lite
    kind: chat
    context_window: 1000000
    prices:
      - valid_from: 2025-01-01
        usd_per_mtok: {input: 1, output: 4}
"""


@pytest.fixture
def delta(db, pricing_dir, tmp_path):
    """28 days (2025-04-01 .. 04-28) of team ops on delta/big: one bucket a day of 100
    requests, 1M input and 0.1M output tokens, standard tier: 1M × $4 + 0.1M × $16 = $5.60 a
    day. Forward window: the 28 days; per month 5.6 × 30.4375 = $170.45."""
    (pricing_dir / "delta.yaml").write_text(DELTA)
    lines = [
        "period_start,period_end,provider,model,requests,input_tokens,output_tokens,team,project_id"
    ]
    for d in range(1, 29):
        lines.append(
            f"2025-04-{d:02d}T00:00:00Z,2025-04-{d + 1:02d}T00:00:00Z,delta,big,100,1000000,"
            "100000,ops,nightly"
        )
    usage = tmp_path / "delta.csv"
    usage.write_text("\n".join(lines) + "\n")
    teams = tmp_path / "teams.yaml"
    teams.write_text("teams:\n  - {name: ops, batch_eligible: true}\n")
    with open_session(db, pricing_dir) as s:
        ingest(s, [usage])
    return db, pricing_dir, teams


def _found(delta, **kw) -> dict[str, opp.Opportunity]:
    db, pricing, teams = delta
    with open_session(db, pricing, teams, read_only=True) as s:
        return {o.kind: o for o in opp.find_opportunities(s, **kw)}


def test_each_kind_is_priced_by_hand_on_the_fixture(delta):
    """Per day, per month (× 30.4375, half-even to the cent):
    model swap to lite: 1M × 1 + 0.1M × 4 = 1.40 → $42.61; saving 170.45 − 42.61 = $127.84;
    batch (teams.yaml marks ops batch_eligible; share 0.5 : 1 : 1): all of it at half price,
      2.80 → $85.22, saving $85.23; at the low share 0.5 half of it: 0.5M × 2 + 0.5M × 4 +
      .05M × 8 + .05M × 16 = 4.20 → $127.84, saving $42.61;
    prompt caching (10,000 prompt tokens a request, none cached; 0.2 : 0.4 : 0.6): expected
      0.6M × 4 + 0.4M × 0.4 + 0.1M × 16 = 4.16 → $126.62, saving $43.83.
    """
    found = _found(delta)
    assert set(found) == {"model_swap", "batch", "prompt_caching"}
    swap, batch, cache = found["model_swap"], found["batch"], found["prompt_caching"]
    assert swap.command == "finops simulate --from big --to delta/lite --scope provider=delta"
    assert swap.savings_usd == Decimal("127.84")
    assert swap.savings_usd_low < swap.savings_usd < swap.savings_usd_high
    assert (batch.savings_usd_low, batch.savings_usd, batch.savings_usd_high) == (
        Decimal("42.61"),
        Decimal("85.23"),
        Decimal("85.23"),
    )
    assert batch.assumptions[0] == "teams.yaml marks ops batch-eligible"
    assert "--scope team=ops --assume batch_share=0.5:1:1" in batch.command
    assert cache.savings_usd == Decimal("43.83")
    assert cache.assumptions[0] == "10,000 prompt tokens a request, 0% read from cache today"


def test_model_swaps_meet_the_quality_bar_given_eval_scores(delta, tmp_path):
    """lite scores 0.7: it meets a bar of 0.6, not one of 0.8 (nor, with no bar, big's 0.9)."""
    evals = tmp_path / "evals.csv"
    evals.write_text("provider,model,task,score\ndelta,big,chat,0.9\ndelta,lite,chat,0.7\n")
    frame = sim.load_evals(evals)
    assert "model_swap" in _found(delta, evals=frame, min_score=0.6)
    assert "model_swap" not in _found(delta, evals=frame, min_score=0.8)
    assert "model_swap" not in _found(delta, evals=frame)


def test_a_named_project_is_batch_eligible_too(delta):
    """No team marked; project nightly named: the same $85.23 a month, scoped to the project."""
    found = _found(delta, batch_teams=[], batch_projects=["nightly"])
    batch = found["batch"]
    assert batch.savings_usd == Decimal("85.23")
    assert batch.assumptions[0] == "project nightly named batch-eligible"
    assert "--scope project=nightly" in batch.command
    db, pricing, _teams = delta
    args = [*shlex.split(batch.command)[1:], "--db", str(db), "--pricing", str(pricing)]
    out = CliRunner().invoke(main, [*args, "--format", "json"], catch_exceptions=False)
    (printed,) = json.loads(out.output, parse_float=Decimal)
    assert Decimal(str(printed["monthly"]["savings_usd"])) == Decimal("85.23")


# --- one search, every view (issue 13: one number everywhere) ------------------------------


@pytest.fixture(scope="module")
def demo_company(tmp_path_factory):
    """`finops demo` as a user runs it: the store and its teams.yaml, contracts.yaml and
    evals.csv beside it."""
    db = tmp_path_factory.mktemp("company") / "finops.duckdb"
    out = CliRunner().invoke(main, ["demo", "--days", "60", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert (db.parent / "evals.csv").is_file()
    return db


def _listed(found) -> list[tuple[str, Decimal]]:
    return [(o.title, o.savings_usd) for o in found]


@pytest.mark.slow
def test_savings_page_command_and_review_list_the_same_opportunities(demo_company):
    """Before, the Savings page and `finops opportunities` ignored the demo's evals.csv that
    the review used: $3,005.26 of savings a month on one screen, $1,417.41 on the other."""
    from finops.views.review import build_review
    from finops.views.savings import store_opportunities

    out = CliRunner().invoke(main, ["opportunities", "--db", str(demo_company), "--format", "json"])
    assert out.exit_code == 0, out.output
    command = [
        (o["title"], Decimal(str(o["savings_usd_per_month"])))
        for o in json.loads(out.output, parse_float=Decimal)
    ]
    with open_session(demo_company, read_only=True) as s:
        page = _listed(store_opportunities(s))  # what the Savings page shows
        last = s.day_span()[1]
        review = _listed(build_review(s, last.replace(day=1)).opportunities)
        # the quality bar of evals.csv is what makes them agree: without it the list differs
        blind = _listed(opp.find_opportunities(s))
    assert command == page
    assert review == page
    assert blind != page
    kept = {title for title, _ in page}
    assert any(title not in kept for title, _ in blind if title.startswith("Move "))


def test_one_search_per_store_state_in_a_process(demo_company, monkeypatch):
    """The review and the Savings page share one search per store state; another state (a
    viewer who sees only some teams) searches its own."""
    from finops.session.access import restrict_to_teams
    from finops.views import savings

    searches = []
    real = savings.find_opportunities

    def counted(session, **kwargs):
        searches.append(session.viewer_teams)
        return real(session, **kwargs)

    monkeypatch.setattr(savings, "find_opportunities", counted)
    monkeypatch.setattr(savings, "_MEMO", {})
    with open_session(demo_company, read_only=True) as s:
        first = savings.store_opportunities(s)
        again = savings.store_opportunities(s)
    assert _listed(first) == _listed(again)
    assert searches == [None]
    with open_session(demo_company, read_only=True) as s:
        team = min(s.allocation.teams)
        restrict_to_teams(s, [team])
        savings.store_opportunities(s)
    assert searches == [None, (team,)]
