"""The demo company: `finops demo` writes a history and, beside the store, the files around it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from click.testing import CliRunner

from finops.analysis.budgets import budget_status, load_budgets
from finops.analysis.simulate import load_evals
from finops.cli import main
from finops.core.demo import DEMO_TEAMS, OVER_BUDGET_TEAM, generate_demo
from finops.session.session import open_session


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("company")
    out = CliRunner().invoke(main, ["demo", "--days", "75", "--db", str(folder / "x.duckdb")])
    assert out.exit_code == 0, out.output
    return folder, out.output


def test_demo_writes_the_company_files_beside_the_store(demo_folder):
    folder, output = demo_folder
    for name in ("teams.yaml", "contracts.yaml", "evals.csv"):
        assert f"wrote {folder / name}" in output
    evals = load_evals(folder / "evals.csv")
    assert {"support-answers", "search-ranking"} == set(evals["task"])


def test_the_store_picks_up_the_files_beside_it(demo_folder, monkeypatch):
    """Opened with no --teams/--contracts, the session finds them: the gateway key is split
    among search, support and growth, the sandbox is unallocated, one team is over budget in
    December, and the OpenAI discount makes effective cost lower than list cost."""
    folder, _ = demo_folder
    monkeypatch.delenv("FINOPS_TEAMS", raising=False)
    monkeypatch.delenv("FINOPS_CONTRACTS", raising=False)
    with open_session(folder / "x.duckdb") as s:
        assert s.allocation is not None and s.contracts is not None
        dec = s.spend(["team", "provider"], from_day=dt.date(2025, 12, 1))
        status = budget_status(s, load_budgets(folder / "teams.yaml"), month=dt.date(2025, 12, 1))
    teams = set(dec["team"])
    assert teams == {*DEMO_TEAMS, "unallocated"}
    openai = dec.filter(pl.col("provider") == "openai")
    assert openai["effective_cost_usd"].sum() < openai["cost_usd"].sum()
    # the unallocated spend is the sandbox only: small against the month's total
    unallocated = dec.filter(pl.col("team") == "unallocated")["cost_usd"].sum()
    assert Decimal(0) < unallocated < dec["cost_usd"].sum() / 100
    over = status.filter((pl.col("scope") == "team") & (pl.col("status") == "over"))
    assert over["team"].to_list() == [OVER_BUDGET_TEAM]


def test_a_file_already_there_is_kept(demo_folder):
    folder, _ = demo_folder
    mine = folder / "mine"
    mine.mkdir()
    (mine / "teams.yaml").write_text("teams: []\n")
    out = CliRunner().invoke(main, ["demo", "--days", "3", "--db", str(mine / "y.duckdb")])
    assert out.exit_code == 0, out.output
    assert "kept" in out.output and (mine / "teams.yaml").read_text() == "teams: []\n"


def test_every_team_uses_several_models_and_a_migration_is_in_progress():
    rows = generate_demo(days=40)
    models = (
        rows.filter(pl.col("team").is_not_null()).group_by("team").agg(pl.col("model").n_unique())
    )
    assert models["model"].min() >= 2
    last_day = rows.filter(pl.col("period_start").dt.date() == dt.date(2025, 12, 31))
    support = set(last_day.filter(pl.col("team") == "support")["model"])
    assert {"claude-sonnet-4-5-20250929", "claude-haiku-4-5"} <= support
