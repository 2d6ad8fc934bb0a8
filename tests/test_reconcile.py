from __future__ import annotations

from decimal import Decimal

from conftest import HAND_PRICED

from finops.analysis.reconcile import reconcile
from finops.session.session import ingest, open_session

# tool estimates (reported_cost_usd) per request: right for r1, r3, r4, r2, r5; double for r6
ESTIMATES = {
    "r1": "0.54",
    "r3": "0.55",
    "r4": "0.60",
    "r2": "0.27",
    "r5": "0.57",
    "r6": "6.56",
    "r8": "0.01",
}


def _with_estimates(tmp_path):
    lines = HAND_PRICED.read_text().splitlines()
    out = [lines[0] + ",reported_cost_usd"]
    for line in lines[1:]:
        request_id = line.rsplit(",", 1)[1]
        out.append(line + "," + ESTIMATES.get(request_id, ""))
    path = tmp_path / "with_estimates.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def test_differences_are_listed_with_a_likely_reason(db, pricing_dir, tmp_path):
    with open_session(db, pricing_dir) as s:
        ingest(s, [_with_estimates(tmp_path)])
        flagged = {(r["day"].isoformat(), r["model"]): r for r in reconcile(s).to_dicts()}
        everything = reconcile(s, all_rows=True)
    # 03-10 alpha: computed 0.54 + 0.55 + 0.60 = 1.69 = the estimates → not listed
    assert ("2025-03-10", "alpha") not in flagged
    thinker = flagged[("2025-03-20", "thinker")]
    assert (thinker["computed_usd"], thinker["reported_usd"], thinker["source"]) == (
        Decimal("3.28"),
        Decimal("6.56"),
        "tool estimate",
    )
    assert thinker["difference_usd"] == Decimal("-3.28")
    assert thinker["reason"].startswith("tier:")
    # 03-20 alpha: computed 0.27 + 0.57 = 0.84, estimates 0.85: r8 has no catalog price
    alpha = flagged[("2025-03-20", "alpha")]
    assert alpha["reason"] == "unpriced usage: 1 row not in the computed cost"
    assert len(everything) == 3


def test_a_one_percent_threshold_is_respected(db, pricing_dir, tmp_path):
    with open_session(db, pricing_dir) as s:
        ingest(s, [_with_estimates(tmp_path)])
        loose = reconcile(s, threshold_pct=60)
    # the largest difference, the thinker's, is 50% of the larger amount: under 60%
    assert loose.is_empty()
