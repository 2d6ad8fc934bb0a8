"""Every dollar here was computed by hand from tests/fixtures/pricing (see comments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from finops.pricing import costing
from finops.session.session import open_session

# Hand computation (USD per million tokens → per row), catalog tests/fixtures/pricing/acme.yaml:
# r1 2025-03-10 alpha, period 1 std: .1M×2 + .05M×0.2 + .02M×2.5 + .01M×4 + .03M×8 = 0.54
# r2 2025-03-20 alpha (via alias), period 2 after the cut: .1+.005+.025+.02+.12     = 0.27
# r3 2025-03-10 alpha batch (×0.5): .15M×1 + .1M×4                                  = 0.55
# r4 2025-03-10 alpha priority: .1M×4 + .1M×0.4 + .01M×16                            = 0.60
# r5 2025-03-20 alpha, prompt 300k > 200k → long-context: .25M×2 + .05M×0.2 + .01M×6 = 0.57
# r6 2025-03-20 thinker (reasoning-heavy): .005M×10 + .08M×40 + 3 searches×0.01     = 3.28
# r7 unknown model "mystery"                                                        → unpriced
# r8 priority on alpha after 2025-03-15 (no priority price in period 2)             → unpriced
# bucket 2025-03-12 beta small: 2M×0.15 + .5M×0.6                                   = 0.60
# bucket 2025-03-21 alpha long_context=true, period 2 long: 1M×2 + .1M×6            = 2.60
EXPECTED_ROW_COST = {
    "r1": Decimal("0.54"),
    "r2": Decimal("0.27"),
    "r3": Decimal("0.55"),
    "r4": Decimal("0.60"),
    "r5": Decimal("0.57"),
    "r6": Decimal("3.28"),
    "r7": None,
    "r8": None,
}
TOTAL = Decimal("9.01")


def _spend(db, pricing, **kw):
    with open_session(db, pricing) as s:
        return costing.spend(s.con, revision_id=s.revision_id, **kw)


def test_each_request_is_priced_to_the_cent(loaded):
    db, pricing = loaded
    with open_session(db, pricing) as s:
        rows = costing.priced_rows(
            s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds
        )
    by_request = {r["request_id"]: r for r in rows.to_dicts() if r["request_id"]}
    for request_id, expected in EXPECTED_ROW_COST.items():
        assert by_request[request_id]["cost_usd"] == expected, request_id
    assert by_request["r7"]["unpriced_reason"] == "unknown model"
    assert by_request["r8"]["unpriced_reason"] == "no priority price in force that day"
    buckets = rows.filter(pl.col("request_id").is_null()).sort("period_start")
    assert buckets["cost_usd"].to_list() == [Decimal("0.60"), Decimal("2.60")]


def test_spend_by_team_and_day_adds_up_with_unpriced_beside(loaded):
    db, pricing = loaded
    by_team = {r["team"]: r for r in _spend(db, pricing, by=["team"]).to_dicts()}
    assert by_team["search"]["cost_usd"] == Decimal("1.96")
    assert by_team["ads"]["cost_usd"] == Decimal("1.17")
    assert by_team["research"]["cost_usd"] == Decimal("3.28")
    assert by_team["unallocated"]["cost_usd"] == Decimal("2.60")
    assert by_team["ads"]["unpriced_rows"] == 2
    assert by_team["ads"]["unpriced_tokens"] == 1500 + 2000
    by_day = {r["day"]: r["cost_usd"] for r in _spend(db, pricing, by=["day"]).to_dicts()}
    assert by_day == {
        dt.date(2025, 3, 10): Decimal("1.69"),
        dt.date(2025, 3, 12): Decimal("0.60"),
        dt.date(2025, 3, 20): Decimal("4.12"),
        dt.date(2025, 3, 21): Decimal("2.60"),
    }
    with open_session(db, pricing) as s:
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
    assert totals.cost_usd == TOTAL
    assert (totals.unpriced_rows, totals.unpriced_tokens) == (2, 3500)


def test_rollup_and_per_row_pricing_agree(loaded):
    db, pricing = loaded
    with open_session(db, pricing) as s:
        rows = costing.priced_rows(
            s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds
        )
        totals = costing.spend_totals(s.con, revision_id=s.revision_id)
    assert rows["cost_usd"].sum() == totals.cost_usd
    assert rows["cost_usd"].null_count() == totals.unpriced_rows


def test_day_range_is_half_open_and_model_names_resolve_through_aliases(loaded):
    db, pricing = loaded
    frame = _spend(
        db, pricing, by=["model"], from_day=dt.date(2025, 3, 12), to_day=dt.date(2025, 3, 21)
    )
    by_model = {r["model"]: r["cost_usd"] for r in frame.to_dicts()}
    # alias acme/alpha resolves to alpha; mystery stays as written, with no cost
    assert by_model == {
        "alpha": Decimal("0.27") + Decimal("0.57"),
        "mystery": None,
        "small": Decimal("0.60"),
        "thinker": Decimal("3.28"),
    }


def test_unpriced_listing_names_model_and_reason(loaded):
    db, pricing = loaded
    with open_session(db, pricing) as s:
        frame = costing.unpriced(s.con, revision_id=s.revision_id)
    got = {(r["model"], r["reason"], r["rows"], r["tokens"]) for r in frame.to_dicts()}
    assert got == {
        ("mystery", "unknown model", 1, 1500),
        ("alpha", "no priority price in force that day", 1, 2000),
    }


def test_older_revision_reprices_history_with_its_own_prices(loaded):
    db, pricing = loaded
    acme = pricing / "acme.yaml"
    text = acme.read_text()
    cut = "usd_per_mtok: {input: 1, cache_read: 0.1, cache_write_5m: 1.25, cache_write_1h: 2, output: 4}"
    assert cut in text
    acme.write_text(text.replace(cut, cut.replace("output: 4}", "output: 5}")))
    with open_session(db, pricing) as s:
        new_rev = s.revision_id
        new_total = costing.spend_totals(s.con, revision_id=new_rev).cost_usd
        old_total = costing.spend_totals(s.con, revision_id=new_rev - 1).cost_usd
        from finops.pricing.catalog import diff_revisions

        diff = diff_revisions(s.con, new_rev - 1, new_rev)
    assert old_total == TOTAL
    # only r2 uses period 2's standard output rate: 30,000 tokens × $1/M more = $0.03
    assert new_total == TOTAL + Decimal("0.03")
    changed = {
        (r["model_id"], r["service_tier"], r["price"], r["rate_a"], r["rate_b"])
        for r in diff.to_dicts()
    }
    assert changed == {
        ("alpha", "standard", "output", Decimal(4), Decimal(5)),
        ("alpha", "batch", "output", Decimal(2), Decimal("2.5")),  # batch is standard × 0.5
    }
