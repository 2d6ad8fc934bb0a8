"""`finops opportunities` on the demo: at least one opportunity of each kind, and each one's
dollars per month are exactly what `finops simulate` prints for the command it carries."""

from __future__ import annotations

import json
import shlex
from decimal import Decimal

import pytest
from click.testing import CliRunner

from finops.analysis import opportunities as opp
from finops.cli import main
from finops.session.session import load_demo, open_session


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
