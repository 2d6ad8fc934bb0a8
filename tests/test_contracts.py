"""Effective cost under contracts, by hand from the fixture catalog and contracts.yaml."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from conftest import FIXTURES

from finops.pricing import costing
from finops.pricing.contracts import ContractError, contract_summary, load_contracts
from finops.session.session import open_session

CONTRACTS = FIXTURES / "contracts" / "contracts.yaml"

# list → effective, per row (list costs from test_costing.py):
# r1 03-10 alpha standard, "alpha rates" in force: input .1M×1.5 + output .03M×6, other
#    classes at list (.01 + .05 + .04)                                       0.54 → 0.43
# r3 03-10 alpha batch: negotiated rates cover standard tier only, stays list  0.55 → 0.55
# r4 03-10 alpha priority: same                                                0.60 → 0.60
# r2 03-20 alpha: rates expired 03-15, "acme enterprise" 10% off               0.27 → 0.243
# r5 03-20 alpha long-context: 10% off                                         0.57 → 0.513
# r6 03-20 thinker: model-specific 25% beats provider-wide 10%                 3.28 → 2.46
# bucket 03-12 beta: commitment discount 20%                                   0.60 → 0.48
# bucket 03-21 alpha: 10% off                                                  2.60 → 2.34
EFFECTIVE = {"r1": "0.43", "r3": "0.55", "r4": "0.60", "r2": "0.243", "r5": "0.513", "r6": "2.46"}


def test_contracts_change_effective_cost_and_leave_list_cost_alone(loaded):
    db, pricing = loaded
    with open_session(db, pricing, contracts=CONTRACTS) as s:
        rows = costing.priced_rows(
            s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds
        )
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
        monthly = s.spend(["month", "provider"])
    by_request = {r["request_id"]: r for r in rows.to_dicts() if r["request_id"]}
    for request_id, expected in EFFECTIVE.items():
        assert by_request[request_id]["effective_cost_usd"] == Decimal(expected), request_id
    assert by_request["r6"]["contract"] == "thinker deal"
    assert totals.cost_usd == Decimal("9.01")
    assert totals.effective_cost_usd == Decimal("7.616")
    summary = {
        (r["contract"], r["kind"]): r["amount_usd"]
        for r in contract_summary(monthly, s.contracts).to_dicts()
    }
    # beta's March effective spend 0.48 is under the $1 commitment; $0.25 credits apply
    assert summary == {
        ("beta commit", "commitment shortfall"): Decimal("0.52"),
        ("beta credits", "credits applied"): Decimal("-0.25"),
    }


def test_without_contracts_effective_equals_list(loaded):
    db, pricing = loaded
    with open_session(db, pricing) as s:
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
    assert totals.effective_cost_usd == totals.cost_usd == Decimal("9.01")


def test_effective_cost_by_team_in_spend(loaded):
    db, pricing = loaded
    with open_session(db, pricing, contracts=CONTRACTS) as s:
        by_team = {
            r["team"]: r for r in s.spend(["team"], from_day=dt.date(2025, 3, 20)).to_dicts()
        }
    assert by_team["research"]["cost_usd"] == Decimal("3.28")
    assert by_team["research"]["effective_cost_usd"] == Decimal("2.46")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "contracts: [{name: x, provider: a, discount_pct: 120}]",
            "contracts.yaml, contract x, field discount_pct: a discount is at most 100%",
        ),
        (
            "contracts: [{name: x, provider: a, usd_per_mtok: {input: 1}}]",
            "contracts.yaml, contract x, field models: negotiated unit prices apply to named models",
        ),
        (
            "contracts: [{name: x, provider: a, models: [m], usd_per_mtok: {inptu: 1}}]",
            "contracts.yaml, contract x, field usd_per_mtok.inptu: unknown token class",
        ),
        ("contracts: [{name: x, provider: a}]", "contracts.yaml, contract x: give exactly one of"),
    ],
)
def test_bad_contracts_name_file_contract_and_field(tmp_path, text, message):
    path = tmp_path / "contracts.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as info:
        load_contracts(path)
    assert str(info.value).startswith(message)
