"""Allocation rules on the hand-priced fixture (row costs worked out in test_costing.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import FIXTURES

from finops.pricing.allocation import AllocationError, explain, load_allocation
from finops.session.session import open_session

TEAMS = FIXTURES / "teams" / "teams.yaml"
CENT = Decimal("0.01")


def test_every_rule_kind_precedence_and_conservation(loaded):
    db, pricing = loaded
    with open_session(db, pricing, TEAMS) as s:
        by_team = {r["team"]: r for r in s.spend(["team"]).to_dicts()}
        unallocated_total = s.spend([])["cost_usd"][0]
    # r1 alpha/search → rule 2 (0.54); r3 alpha-2025-01-01/search → rule 2 glob (0.55)
    # r4, r5 (team ads) → rule 3 regex (0.60 + 0.57); r7, r8 → ads but unpriced
    # r6 thinker → rule 1 (3.28), before any team rule
    # r2 "acme/alpha" matches no rule (rules see the model as exported) → unallocated (0.27)
    # bucket beta/small $0.60 → rule 4: search 60% = 0.36, ads 40% = 0.24
    # bucket alpha (no team) $2.60 → rule 5, proportional to March direct spend:
    #   search 1.09, ads 1.17, research 3.28 (of 5.54)
    direct = {"search": Decimal("1.09"), "ads": Decimal("1.17"), "research": Decimal("3.28")}
    share = {t: Decimal("2.60") * v / Decimal("5.54") for t, v in direct.items()}
    expected = {
        "search": Decimal("0.54") + Decimal("0.55") + Decimal("0.36") + share["search"],
        "ads": Decimal("0.60") + Decimal("0.57") + Decimal("0.24") + share["ads"],
        "research": Decimal("3.28") + share["research"],
        "unallocated": Decimal("0.27"),
    }
    assert set(by_team) == set(expected)
    for team, value in expected.items():
        assert by_team[team]["cost_usd"].quantize(CENT) == value.quantize(CENT), team
        assert abs(by_team[team]["cost_usd"] - value) < Decimal("1e-11"), team
    # conserved exactly: the split parts add back to the whole
    assert sum(r["cost_usd"] for r in by_team.values()) == Decimal("9.01") == unallocated_total
    assert by_team["ads"]["unpriced_rows"] == 2
    # tokens are split too, in whole tokens, and conserved
    assert (
        sum(r["input_tokens"] for r in by_team.values()) == 3_707_000
    )  # every input token of the fixture


def test_without_a_map_the_source_team_or_unallocated_owns_spend(loaded):
    db, pricing = loaded
    with open_session(db, pricing) as s:
        teams = {r["team"] for r in s.spend(["team"]).to_dicts()}
    assert teams == {"search", "ads", "research", "unallocated"}


def test_only_teams_hides_other_teams_spend(loaded):
    db, pricing = loaded
    with open_session(db, pricing, TEAMS) as s:
        frame = s.spend(["team", "model"], only_teams=["research"])
    assert set(frame["team"]) == {"research"}


def test_explain_names_the_rule():
    alloc = load_allocation(TEAMS)
    got = explain(alloc, {"provider": "acme", "model": "alpha-2", "team": "search"})
    assert got["team"] == "search"
    assert got["rule"].startswith("rule 2: model glob 'alpha*', team exact 'search'")
    assert [c["matches"] for c in got["checked"]] == [False, True]
    tagged = load_allocation(TEAMS)
    assert explain(tagged, {"provider": "acme", "model": "zeta"})["team"] == "unallocated"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "teams: [{name: a}]\nrules: [{team: b, match: {model: x}}]\n",
            "teams.yaml, rule 1, field team: unknown team 'b'; list it under teams",
        ),
        (
            "teams: [{name: a}]\nrules: [{team: a, match: {model: {regex: '(['}}}]\n",
            "teams.yaml, rule 1, field match.model: bad regex",
        ),
        (
            "teams: [{name: a}, {name: b}]\nrules: [{split: {a: 50, b: 40}, match: {model: x}}]\n",
            "teams.yaml, rule 1, field split: percentages sum to 90, not 100",
        ),
        (
            "teams: [{name: a}, {name: a}]\n",
            "teams.yaml, team a, field name: this team is listed twice",
        ),
        (
            "teams: [{name: a}]\nrules: [{team: a, match: {colour: red}}]\n",
            "teams.yaml, rule 1, field match.colour: unknown key",
        ),
    ],
)
def test_invalid_maps_name_file_rule_and_field(tmp_path, text, message):
    path = tmp_path / "teams.yaml"
    path.write_text(text)
    with pytest.raises(AllocationError) as info:
        load_allocation(path)
    assert str(info.value).startswith(message)


def test_a_changed_map_is_a_new_revision_and_reallocates_history(loaded, tmp_path):
    db, pricing = loaded
    edited = tmp_path / "teams.yaml"
    edited.write_text(
        TEAMS.read_text().replace(
            "{team: research, match: {model: thinker}}", "{team: platform, match: {model: thinker}}"
        )
    )
    with open_session(db, pricing, TEAMS) as s:
        first = s.allocation_revision
    with open_session(db, pricing, edited) as s:
        second = s.allocation_revision
        by_team = {r["team"]: r["cost_usd"] for r in s.spend(["team"]).to_dicts()}
    assert second == first + 1
    # platform takes research's place: thinker's 3.28 and research's proportional share of the
    # 2.60 bucket, 2.60 × 3.28 / 5.54 = 1.5393..., so 4.8194 (test above)
    assert "research" not in by_team
    assert by_team["platform"].quantize(CENT) == Decimal("4.82")
    assert abs(by_team["platform"] - (Decimal("3.28") + Decimal("8.528") / Decimal("5.54"))) < (
        Decimal("1e-11")
    )


def test_by_default_unclaimed_usage_keeps_a_listed_source_team(loaded, tmp_path):
    db, pricing = loaded
    budgets_only = tmp_path / "teams.yaml"
    budgets_only.write_text(
        "teams:\n  - {name: search, monthly_budget_usd: 100}\n  - {name: ads}\n"
    )
    with open_session(db, pricing, budgets_only) as s:
        by_team = {r["team"]: r["cost_usd"] for r in s.spend(["team"]).to_dicts()}
    # no rules: the sources' teams that are listed keep their spend; research is not listed
    assert by_team == {
        "search": Decimal("0.54") + Decimal("0.27") + Decimal("0.55") + Decimal("0.60"),
        "ads": Decimal("0.60") + Decimal("0.57"),
        "unallocated": Decimal("3.28") + Decimal("2.60"),
    }


def test_a_budget_that_is_not_an_amount_names_team_and_field(tmp_path):
    path = tmp_path / "teams.yaml"
    path.write_text("teams:\n  - {name: a, monthly_budget_usd: lots}\n")
    with pytest.raises(
        AllocationError,
        match=r"teams.yaml, team a, field monthly_budget_usd: 'lots' is not an amount",
    ):
        load_allocation(path)


def test_an_even_split_shares_a_key_equally(loaded, tmp_path):
    db, pricing = loaded
    path = tmp_path / "teams.yaml"
    path.write_text(
        "unmatched: unallocated\n"
        "teams: [{name: search}, {name: ads}, {name: research}]\n"
        "rules:\n"
        "  - {split: even, match: {provider: beta}, among: [search, ads, research]}\n"
    )
    with open_session(db, pricing, path) as s:
        by_team = {r["team"]: r for r in s.spend(["team"]).to_dicts()}
    # the beta bucket's $0.60 in three: $0.20 each; its 2,000,000 input tokens in whole tokens
    assert {t: by_team[t]["cost_usd"] for t in ("search", "ads", "research")} == {
        "search": Decimal("0.20"),
        "ads": Decimal("0.20"),
        "research": Decimal("0.20"),
    }
    assert sorted(by_team[t]["input_tokens"] for t in ("search", "ads", "research")) == [
        666_666,
        666_666,
        666_668,
    ]
    assert by_team["unallocated"]["cost_usd"] == Decimal("9.01") - Decimal("0.60")
