"""The golden month: June 2025 priced by hand, asserted through every view.

Fixture: tests/fixtures/golden/ — usage.csv (25 rows), pricing/acme.yaml, teams.yaml,
contracts.yaml. Prices in USD per million tokens (Mtok); "k" is a thousand tokens.

Catalog. alpha until 2025-06-14: input 2, cache_read 0.2, cache_write_5m 2.5, output 8;
batch ×0.5; prompts over 200k tokens (input + cache) input 4, cache_read 0.4, output 12.
alpha from 2025-06-15 (valid_from): input 1, cache_read 0.1, cache_write_5m 1.25, output 4;
batch ×0.5; over 200k: input 2, cache_read 0.2, output 6. No priority prices at all.
thinker: input 10, output 40, $0.01 per web search. Contract: thinker 20% off (×0.8).
Teams: project `shared` is split search 75 / ads 25; other rows go to the team they name.

Row by row (day is the UTC day of period_start):

  id  period_start                 UTC day  owner   arithmetic                         list $
  m1  2025-05-20T12:00Z            05-20    search  150k×2 + 100k×8                      1.10
  m2  2025-05-20T12:00Z            05-20    ads     thinker 100k×10 + 25k×40             2.00
  b1  2025-06-01T01:00+05:30       05-31    search  = 05-31 19:30Z: 200k×2 + 100k×8      1.20
  b2  2025-05-31T20:00-08:00       06-01    ads     = 06-01 04:00Z: 150k×2 + 50k×8       0.70
  k1  2025-06-03T09:00Z            06-03    search  20k×2 + 150k×0.2 + 30k×2.5 + 50k×8
                                                    = .04 + .03 + .075 + .40 (prompt
                                                    200k exactly: not long context)     0.545
  c1  2025-06-05T10:00Z batch      06-05    search  200k×1 + 500k×4                      2.20
  s1  2025-06-06T12:00Z shared     06-06    split   200k×2 + 50k×8 = .80: search .60,
                                                    ads .20                              0.80
  t1  2025-06-08T14:00Z            06-08    ads     thinker 50k×10 + 100k×40 + 5×.01     4.55
                                                    (effective ×0.8: 3.64)
  o1  2025-06-10T02:00+05:30       06-09    ads     = 06-09 20:30Z: 50k×2 + 100k×0.2
                                                    + 30k×8 = .10 + .02 + .24            0.36
  r1  2025-06-11T10:00Z            06-11    search  1k×2 + 0.5k×8                       0.006
  r2  2025-06-11T11:00Z            06-11    search  same                                0.006
  r3  2025-06-11T12:00Z            06-11    ads     2k×2                                0.004
  l1  2025-06-12T08:00Z            06-12    search  prompt 300k > 200k: 300k×4 + 50k×12  1.80
  p1  2025-06-14T23:59:59.999999Z  06-14    search  old price: 200k×2 + 100k×8           1.20
  o3  2025-06-15T03:00+05:30       06-14    ads     = 06-14 21:30Z, old price:
                                                    100k×2 + 10k×8                       0.28
  p2  2025-06-15T00:00:00Z         06-15    search  new price: 200k×1 + 100k×4           0.60
  u1  2025-06-16T10:00Z            06-16    ads     model "mystery": unknown model   unpriced
                                                    (10k + 2k = 12,000 tokens)
  u2  2025-06-17T10:00Z priority   06-17    search  no priority price in force that day
                                                    (5k + 1k = 6,000 tokens)         unpriced
  k2  2025-06-18T09:00Z            06-18    ads     10k×1 + 150k×0.1 + 40k×1.25 + 25k×4
                                                    = .01 + .015 + .05 + .10             0.175
  o2  2025-06-20T19:00-08:00       06-21    search  = 06-21 03:00Z: 200k×1 + 10k×4       0.24
  l2  2025-06-22T08:00Z            06-22    search  prompt 150k + 100k cache = 250k:
                                                    150k×2 + 100k×0.2 + 20k×6            0.44
  t2  2025-06-24T14:00Z            06-24    search  thinker 20k×10 + 30k×40              1.40
                                                    (effective ×0.8: 1.12)
  c2  2025-06-25T10:00Z batch      06-25    ads     200k×0.5 + 500k×2                    1.10
  s2  2025-06-26T12:00Z shared     06-26    split   100k×1 + 100k×4 = .50: search .375,
                                                    ads .125                             0.50
  bk  bucket 06-27 (100 requests)  06-27    search  500k×1 + 100k×4                      0.90

May 2025: 1.10 + 2.00 + 1.20 = 4.30 list; effective 4.30 − 0.2×2.00 = 3.90.
  search 1.10 + 1.20 = 2.30; ads 2.00 (effective 1.60). Days: 05-20 3.10, 05-31 1.20.

June 2025, list: .70 + .545 + 2.20 + .80 + 4.55 + .36 + .016 + 1.80 + 1.48 + .60 + .175
  + .24 + .44 + 1.40 + 1.10 + .50 + .90 = 17.806 (shows as $17.81).
  Effective: 17.806 − 0.2 × (4.55 + 1.40) = 17.806 − 1.19 = 16.616 ($16.62).
  Unpriced: 2 rows (u1, u2), 12,000 + 6,000 = 18,000 tokens, never in a total.
  search: .545 + 2.20 + .60 + .012 + 1.80 + 1.20 + .60 + .24 + .44 + 1.40 + .375 + .90 = 10.312
  ads:    .70 + .20 + 4.55 + .36 + .004 + .28 + .175 + 1.10 + .125                   =  7.494
  (10.312 + 7.494 = 17.806.) Effective: search 10.312 − .28 = 10.032; ads 7.494 − .91 = 6.584.
  By model: thinker 4.55 + 1.40 = 5.95; alpha 17.806 − 5.95 = 11.856; mystery unpriced.
  By tier: batch 2.20 + 1.10 = 3.30; standard 17.806 − 3.30 = 14.506; priority unpriced.
  By project: web (search's own rows) 10.312 − .975 = 9.337; shared .80 + .50 = 1.30;
    ads-app (ads' own rows) 7.494 − .325 = 7.169.
  By team and model: search alpha 10.312 − 1.40 = 8.912; ads alpha 7.494 − 4.55 = 2.944.
  By day: see JUNE_DAYS (06-14 = p1 1.20 + o3 .28 = 1.48; 06-11 = .006 + .006 + .004 = .016).

The restricted viewer bo@example.com sees ads only, and usage a split rule shares is hidden
from restricted viewers: ads' own June rows 7.494 − .20 − .125 = 7.169 ($7.17), effective
7.169 − .91 = 6.259 ($6.26); May 2.00 (effective 1.60); unpriced 1 row / 12,000 tokens; by
model thinker 4.55, alpha 7.169 − 4.55 = 2.619. ads' last day of data is 06-25 (c2).

Ratios the pages show: June against May's same days (05-01..05-27: m1 + m2 = 3.10):
17.806 / 3.10 = 5.7439 → +474.4%. Per day: (17.806 / 27) / (4.30 / 31) = .65948 / .13871
= 4.7544 → +375.4%. Change on May: 17.806 − 4.30 = 13.506 → +$13.51, 13.506 / 4.30 → +314.1%.
Viewer: 7.169 / 2.00 (May 1–25) = 3.5845 → +258.4%.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from finops.analysis.filters import SpendFilter
from finops.cli import main
from finops.pricing import costing
from finops.session.access import restrict_to_teams
from finops.session.session import ingest, open_session
from finops.views.budgets import budget_view
from finops.views.forecast import build_forecast
from finops.views.overview import build_overview
from finops.views.teams import team_detail, teams_overview

GOLDEN = FIXTURES / "golden"
PRICING = GOLDEN / "pricing"
TEAMS = GOLDEN / "teams.yaml"
CONTRACTS = GOLDEN / "contracts.yaml"
D = Decimal
JUNE = SpendFilter(from_day=dt.date(2025, 6, 1), to_day=dt.date(2025, 7, 1))

# request id → (UTC day, list cost); None = unpriced. The bucket row has no request id.
ROWS = {
    "m1": (dt.date(2025, 5, 20), D("1.10")),
    "m2": (dt.date(2025, 5, 20), D("2.00")),
    "b1": (dt.date(2025, 5, 31), D("1.20")),
    "b2": (dt.date(2025, 6, 1), D("0.70")),
    "k1": (dt.date(2025, 6, 3), D("0.545")),
    "c1": (dt.date(2025, 6, 5), D("2.20")),
    "s1": (dt.date(2025, 6, 6), D("0.80")),
    "t1": (dt.date(2025, 6, 8), D("4.55")),
    "o1": (dt.date(2025, 6, 9), D("0.36")),
    "r1": (dt.date(2025, 6, 11), D("0.006")),
    "r2": (dt.date(2025, 6, 11), D("0.006")),
    "r3": (dt.date(2025, 6, 11), D("0.004")),
    "l1": (dt.date(2025, 6, 12), D("1.80")),
    "p1": (dt.date(2025, 6, 14), D("1.20")),
    "o3": (dt.date(2025, 6, 14), D("0.28")),
    "p2": (dt.date(2025, 6, 15), D("0.60")),
    "u1": (dt.date(2025, 6, 16), None),
    "u2": (dt.date(2025, 6, 17), None),
    "k2": (dt.date(2025, 6, 18), D("0.175")),
    "o2": (dt.date(2025, 6, 21), D("0.24")),
    "l2": (dt.date(2025, 6, 22), D("0.44")),
    "t2": (dt.date(2025, 6, 24), D("1.40")),
    "c2": (dt.date(2025, 6, 25), D("1.10")),
    "s2": (dt.date(2025, 6, 26), D("0.50")),
}
BUCKET = (dt.date(2025, 6, 27), D("0.90"))

JUNE_TOTAL, JUNE_EFFECTIVE = D("17.806"), D("16.616")
MAY_TOTAL, MAY_EFFECTIVE = D("4.30"), D("3.90")
JUNE_TEAMS = {"search": D("10.312"), "ads": D("7.494")}
JUNE_TEAMS_EFFECTIVE = {"search": D("10.032"), "ads": D("6.584")}
# the teams as every table shows them, in cents footing to the total's (largest remainder):
# list 10.312 + 7.494 floor to 10.31 + 7.49 = 17.80, the spare cent of $17.81 to ads (.004
# against .002); effective 10.032 + 6.584 floor to 10.03 + 6.58 = 16.61, $16.62's spare cent
# to ads (.004 against .002)
JUNE_TEAMS_CENTS = {"search": D("10.31"), "ads": D("7.50")}
JUNE_TEAMS_EFFECTIVE_CENTS = {"search": D("10.03"), "ads": D("6.59")}
JUNE_MODELS = {"alpha": D("11.856"), "thinker": D("5.95"), "mystery": None}
JUNE_TIERS = {"standard": D("14.506"), "batch": D("3.30"), "priority": None}
JUNE_PROJECTS = {"web": D("9.337"), "shared": D("1.30"), "ads-app": D("7.169")}
JUNE_DAYS = {
    dt.date(2025, 6, 1): D("0.70"),
    dt.date(2025, 6, 3): D("0.545"),
    dt.date(2025, 6, 5): D("2.20"),
    dt.date(2025, 6, 6): D("0.80"),
    dt.date(2025, 6, 8): D("4.55"),
    dt.date(2025, 6, 9): D("0.36"),
    dt.date(2025, 6, 11): D("0.016"),
    dt.date(2025, 6, 12): D("1.80"),
    dt.date(2025, 6, 14): D("1.48"),
    dt.date(2025, 6, 15): D("0.60"),
    dt.date(2025, 6, 16): None,  # u1 only: unpriced, never $0
    dt.date(2025, 6, 17): None,  # u2 only
    dt.date(2025, 6, 18): D("0.175"),
    dt.date(2025, 6, 21): D("0.24"),
    dt.date(2025, 6, 22): D("0.44"),
    dt.date(2025, 6, 24): D("1.40"),
    dt.date(2025, 6, 25): D("1.10"),
    dt.date(2025, 6, 26): D("0.50"),
    dt.date(2025, 6, 27): D("0.90"),
}
VIEWER_JUNE, VIEWER_JUNE_EFFECTIVE = D("7.169"), D("6.259")


@pytest.fixture(scope="module")
def golden_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    with open_session(db, PRICING, TEAMS, CONTRACTS) as s:
        report = ingest(s, [GOLDEN / "usage.csv"])
    assert report.unpriced_models == ["mystery"]
    return db


@pytest.fixture
def session(golden_db):
    with open_session(golden_db, PRICING, TEAMS, CONTRACTS) as s:
        yield s


@pytest.fixture
def env(golden_db, monkeypatch) -> dict[str, str]:
    values = {
        "FINOPS_DB": str(golden_db),
        "FINOPS_PRICING": str(PRICING),
        "FINOPS_TEAMS": str(TEAMS),
        "FINOPS_CONTRACTS": str(CONTRACTS),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FINOPS_TODAY", raising=False)
    return values


def _cli(*args: str) -> str:
    out = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return out.output


def _money(value: str) -> Decimal | None:
    return D(value) if value != "" else None


# --- every row, and the boundaries -----------------------------------------------------------


def test_every_row_is_priced_by_hand_on_its_utc_day(session):
    rows = costing.priced_rows(
        session.con, revision_id=session.revision_id, thresholds=session.catalog.thresholds
    )
    got = {
        r["request_id"]: (r["day"], r["cost_usd"])
        for r in rows.to_dicts()
        if r["request_id"] is not None
    }
    assert got == ROWS
    bucket = rows.filter(pl.col("request_id").is_null())
    assert [(r["day"], r["cost_usd"]) for r in bucket.to_dicts()] == [BUCKET]
    reasons = {r["request_id"]: r["unpriced_reason"] for r in rows.to_dicts() if r["request_id"]}
    assert reasons["u1"] == "unknown model"
    assert reasons["u2"] == "no priority price in force that day"
    assert {k for k, v in reasons.items() if v is not None} == {"u1", "u2"}


def test_the_price_change_applies_from_its_valid_from_day_not_a_microsecond_earlier(session):
    rows = costing.priced_rows(
        session.con, revision_id=session.revision_id, thresholds=session.catalog.thresholds
    )
    period = {r["request_id"]: r["price_valid_from"] for r in rows.to_dicts() if r["request_id"]}
    old, new = dt.date(2025, 1, 1), dt.date(2025, 6, 15)
    # p1 is 23:59:59.999999 on the 14th, o3 is 03:00 on the 15th in India (21:30Z the 14th)
    assert (period["p1"], period["o3"], period["p2"], period["o2"]) == (old, old, new, new)


def test_spend_totals_and_effective_cost(session):
    june = costing.spend_totals(
        session.con,
        revision_id=session.revision_id,
        from_day=dt.date(2025, 6, 1),
        to_day=dt.date(2025, 7, 1),
    )
    assert (june.cost_usd, june.unpriced_rows, june.unpriced_tokens) == (JUNE_TOTAL, 2, 18_000)
    everything = costing.spend_totals(session.con, revision_id=session.revision_id)
    assert everything.cost_usd == JUNE_TOTAL + MAY_TOTAL


# --- finops spend, unpriced, review, budgets, alerts, exports --------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("team", JUNE_TEAMS),
        ("model", JUNE_MODELS),
        ("service_tier", JUNE_TIERS),
        ("project_id", JUNE_PROJECTS),
        ("provider", {"acme": JUNE_TOTAL}),
        ("month", {"2025-06-01": JUNE_TOTAL}),
        ("api_key_id", {"": JUNE_TOTAL}),
        ("day", {d.isoformat(): v for d, v in JUNE_DAYS.items()}),
    ],
)
def test_finops_spend_by_each_key(env, key, expected):
    out = _cli(
        "spend",
        "--by",
        key,
        "--from",
        "2025-06-01",
        "--to",
        "2025-06-30",
        "--format",
        "csv",
        "--exact",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r[key]: _money(r["cost_usd"]) for r in rows} == expected
    assert sum(int(r["unpriced_rows"]) for r in rows) == 2
    assert sum(int(r["unpriced_tokens"]) for r in rows) == 18_000


def test_finops_spend_by_team_effective_and_month(env):
    out = _cli("spend", "--by", "month,team", "--format", "json")
    got = {
        (r["month"], r["team"]): (D(str(r["cost_usd"])), D(str(r["effective_cost_usd"])))
        for r in json.loads(out, parse_float=Decimal)
    }
    assert got == {
        ("2025-05-01", "search"): (D("2.30"), D("2.30")),
        ("2025-05-01", "ads"): (D("2.00"), D("1.60")),
        ("2025-06-01", "search"): (JUNE_TEAMS["search"], JUNE_TEAMS_EFFECTIVE["search"]),
        ("2025-06-01", "ads"): (JUNE_TEAMS["ads"], JUNE_TEAMS_EFFECTIVE["ads"]),
    }
    table = _cli("spend", "--by", "month", "--from", "2025-06-01", "--to", "2025-06-30")
    assert "total: $17.81 list, $16.62 effective" in table
    assert "unpriced usage: 2 rows / 18,000 tokens" in table


def test_finops_unpriced(env):
    rows = list(csv.DictReader(io.StringIO(_cli("unpriced", "--format", "csv"))))
    got = {(r["model"], r["reason"], r["rows"], r["tokens"], r["first_day"]) for r in rows}
    assert got == {
        ("mystery", "unknown model", "1", "12000", "2025-06-16"),
        ("alpha", "no priority price in force that day", "1", "6000", "2025-06-17"),
    }


def test_finops_review_markdown_carries_the_hand_computed_month(env, tmp_path):
    out = tmp_path / "review.md"
    _cli("review", "--month", "2025-06", "--out", str(out))
    text = out.read_text()
    expected = [
        (
            "AI spend in June 2025 to date (27 of 30 days, through 2025-06-27) was $17.81, "
            "up $13.51 (+314.1%) on May ($4.30). Per day it was $0.66 against $0.14 (+375.4%"
        ),
        "After contract discounts (effective cost): $16.62 against $3.90.",
        "| Total June 2025 to date | $17.81 | +$13.51 (+314.1%) |",
        "| Total May 2025 | $4.30 |  |",
        # cents allocated so the rows foot to $17.81: 10.312 + 7.494 floor to 10.31 + 7.49,
        # the spare cent goes to the larger remainder (ads' .4 against search's .2)
        "| search | $2.30 | $10.31 | +$8.01 |",
        "| ads | $2.00 | $7.50 | +$5.50 |",
        "| acme | alpha | $2.30 | $11.86 | +$9.56 |",
        "| acme | thinker | $2.00 | $5.95 | +$3.95 |",
        "The largest increase was search on alpha (+$6.61)",  # 8.912 − 2.30
        # movers in cents that foot to $17.81: 8.912 + 2.944 + 4.55 + 1.40 floor to $17.80 and
        # the spare cent goes to ads/alpha's .4 remainder; the % is of the cents shown:
        # 6.61 / 2.30 = +287.4%
        "| search | acme | alpha | $2.30 | $8.91 | +$6.61 | +287.4% |",
        "| ads | acme | alpha | $0.00 | $2.95 | +$2.95 | new |",
        "| acme | mystery | 2025-06-16 | — | 1 |",  # first used, no cost: never $0
        "Unpriced usage: 2 rows / 18,000 tokens",
        "| acme | mystery | unknown model | 1 | 12,000 |",
        "| acme | alpha | no priority price in force that day | 1 | 6,000 |",
        # 17.806 / 121 requests × 1,000 = 147.157...
        "| Cost per 1K requests | $147.16 |",
        "| acme | alpha | 2025-06-15 | price change | $2 | $1 | $8 | $4 | $11.86 |",
        "| Monthly budget | $40.00 |",
    ]
    for line in expected:
        assert line in text, line


def test_finops_budgets_for_the_complete_month(env):
    out = _cli(
        "budgets", "--month", "2025-06", "--today", "2025-06-30", "--format", "csv", "--exact"
    )
    rows = {r["team"] or "total": r for r in csv.DictReader(io.StringIO(out))}
    # month complete: spend to date is the month; over only when spend > budget. With the
    # contract, budgets judge effective cost (what is paid), list cost beside it
    assert {k: (D(r["actual_usd"]), D(r["budget_usd"]), r["status"]) for k, r in rows.items()} == {
        "search": (JUNE_TEAMS_EFFECTIVE["search"], D("20.00"), "ok"),
        "ads": (JUNE_TEAMS_EFFECTIVE["ads"], D("8.00"), "ok"),
        "total": (JUNE_EFFECTIVE, D("40.00"), "ok"),
    }
    assert {k: (D(r["list_usd"]), r["basis"]) for k, r in rows.items()} == {
        "search": (JUNE_TEAMS["search"], "effective cost"),
        "ads": (JUNE_TEAMS["ads"], "effective cost"),
        "total": (JUNE_TOTAL, "effective cost"),
    }
    # 10.032 / 20 = 50.16%; 6.584 / 8 = 82.3%; 16.616 / 40 = 41.54%
    assert {k: D(r["used_pct"]) for k, r in rows.items()} == {
        "search": D("50.16"),
        "ads": D("82.3"),
        "total": D("41.54"),
    }
    assert {k: int(r["unpriced_rows"]) for k, r in rows.items()} == {
        "search": 1,
        "ads": 1,
        "total": 2,
    }


def test_a_team_past_its_budget_is_over(env, tmp_path, monkeypatch):
    teams = tmp_path / "teams.yaml"
    teams.write_text(
        TEAMS.read_text().replace("monthly_budget_usd: 8,", "monthly_budget_usd: 6.58,")
    )
    monkeypatch.setenv("FINOPS_TEAMS", str(teams))
    out = _cli(
        "budgets", "--month", "2025-06", "--today", "2025-06-30", "--format", "csv", "--exact"
    )
    status = {r["team"] or "total": r["status"] for r in csv.DictReader(io.StringIO(out))}
    # ads paid 6.584 (effective) > 6.58 (by less than a cent: the rule compares exact amounts)
    assert status == {"search": "ok", "ads": "over", "total": "ok"}


def test_the_review_judges_budgets_on_effective_cost_like_the_budgets_page(
    env, tmp_path, monkeypatch
):
    teams = tmp_path / "teams.yaml"
    teams.write_text(
        TEAMS.read_text().replace("monthly_budget_usd: 8,", "monthly_budget_usd: 6.58,")
    )
    monkeypatch.setenv("FINOPS_TEAMS", str(teams))
    out = tmp_path / "review.md"
    _cli("review", "--month", "2025-06", "--out", str(out))
    text = out.read_text()
    # ads paid 6.584 (effective: 20% off thinker) > 6.58, shown in the Budgets page's cents:
    # 10.032 + 6.584 floor to 10.03 + 6.58 and the spare cent of $16.62 goes to ads' larger
    # remainder; its list 7.494 shows as $7.50 the same way
    assert (
        "Team ads spent $6.59 at effective cost ($7.50 at list) against its $6.58 budget "
        "($0.01 over)"
    ) in text
    # next month is judged against the $40 budget at June's effective rate:
    # 16.616 / 17.806 = 93.3% of list
    assert "at list prices; after contract discounts at June's rate (93.3% of list) about $" in text
    assert "Against the budget (effective cost: the forecast at June's 93.3% of list" in text


def test_finops_alerts_fire_for_the_budget_threshold_and_unpriced_usage(env):
    out = CliRunner().invoke(main, ["alerts", "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 1, out.output  # something fires
    alerts = {a["kind"]: a["message"] for a in json.loads(out.output)}
    # ads paid 6.584 (7.494 at list) of 8.00 = 82.3% ≥ the 80% threshold; search 50.2% and
    # the total 41.5% are not. Its dollars are the cents the budgets table shows for ads
    assert alerts["budget"] == (
        "team ads: $6.59 spent (effective cost; $7.50 at list) in June 2025 to 2025-06-27, "
        "82% of its $8.00 budget (threshold 80%)"
    )
    assert alerts["unpriced"].startswith("2 usage rows / 18,000 tokens in June 2025 have no price")


def test_showback_export(env, tmp_path):
    out = tmp_path / "showback.csv"
    _cli("export", "showback", "--month", "2025-06", "--out", str(out))
    rows = {r["team"]: r for r in csv.DictReader(out.open())}
    # the cents every table shows, footing to June's $17.81 (before, 12 decimals a cell and
    # --exact did nothing); --exact keeps every decimal for those who reconcile by hand
    assert {t: r["cost_usd"] for t, r in rows.items()} == {"search": "10.31", "ads": "7.50"}
    assert {t: D(r["cost_usd"]) for t, r in rows.items()} == JUNE_TEAMS_CENTS
    _cli("export", "showback", "--month", "2025-06", "--out", str(out), "--exact")
    exact = {r["team"]: r for r in csv.DictReader(out.open())}
    assert {t: D(r["cost_usd"]) for t, r in exact.items()} == JUNE_TEAMS
    # shares: 10.312 / 17.806 = 57.91%, 7.494 / 17.806 = 42.09%
    assert {t: r["share_pct"] for t, r in rows.items()} == {"search": "57.91", "ads": "42.09"}
    assert {t: r["budget_used_pct"] for t, r in rows.items()} == {
        "search": "51.56",
        "ads": "93.68",
    }
    # tokens: search's own June rows 3,039,000 (incl. u2's 6,000) + 75% of the shared 450,000;
    # ads 1,579,000 + 25% of 450,000
    assert {t: int(r["tokens"]) for t, r in rows.items()} == {
        "search": 3_376_500,
        "ads": 1_691_500,
    }
    assert {t: int(r["unpriced_rows"]) for t, r in rows.items()} == {"search": 1, "ads": 1}
    assert rows["search"]["top_models"] == "alpha 86.42%; thinker 13.58%"  # 8.912 / 10.312
    # the table: shares are percentages, not dollars; costs foot to $17.81 (search $10.31,
    # ads $7.50, the spare cent to the larger remainder)
    table = _cli("export", "showback", "--month", "2025-06", "--wide")
    rows = [[c.strip() for c in line.split("│")[1:4]] for line in table.splitlines()]
    assert ["search", "$10.31", "57.91"] in rows and ["ads", "$7.50", "42.09"] in rows


def test_focus_export_totals(env, tmp_path):
    out = tmp_path / "june.csv"
    text = _cli("export", "focus", "--month", "2025-06", "--out", str(out))
    # 44 lines (one per priced row and token class), and the split rows s1 and s2 (input and
    # output lines each) become one line per team: 4 more
    assert "48 FOCUS rows, list $17.81, effective $16.62" in text
    assert "2 unpriced usage rows" in text
    rows = list(csv.DictReader(out.open()))
    # one row per priced daily group and token class: 19 groups (r1 and r2 share one),
    # 2 classes each except k1, k2 (4), t1, o1, l2 (3) and r3 (1): 38 + 4 + 3 + 1 − 2 = 44
    assert len(rows) == 48  # as above: 44 lines, the split rows s1 and s2 one per team
    assert sum(D(r["ListCost"]) for r in rows) == JUNE_TOTAL
    assert sum(D(r["EffectiveCost"]) for r in rows) == JUNE_EFFECTIVE
    by_day: dict[str, Decimal] = {}
    for r in rows:
        day = r["ChargePeriodStart"][:10]
        by_day[day] = by_day.get(day, D(0)) + D(r["ListCost"])
    assert by_day == {d.isoformat(): v for d, v in JUNE_DAYS.items() if v is not None}


def test_focus_export_teams_follow_the_ownership_map(env, tmp_path):
    out = tmp_path / "june.csv"
    _cli("export", "focus", "--month", "2025-06", "--out", str(out))
    by_team: dict[str, Decimal] = {}
    for r in csv.DictReader(out.open()):
        by_team[r["x_Team"]] = by_team.get(r["x_Team"], D(0)) + D(r["ListCost"])
    assert by_team == JUNE_TEAMS


# --- library views ---------------------------------------------------------------------------


def test_overview(session):
    ov = build_overview(session, project=False)
    assert ov.as_of == dt.date(2025, 6, 27)
    assert (ov.days_elapsed, ov.days_in_month) == (27, 30)
    assert (ov.month_to_date_usd, ov.last_month_usd) == (JUNE_TOTAL, MAY_TOTAL)
    assert ov.last_month_same_days_usd == D("3.10")  # May 1–27: m1 + m2
    assert (ov.month_to_date_effective_usd, ov.last_month_effective_usd) == (
        JUNE_EFFECTIVE,
        MAY_EFFECTIVE,
    )
    assert (ov.unpriced_rows, ov.unpriced_tokens) == (2, 18_000)
    assert ov.budget_usd == D("40")
    by_model = {r["model"]: r["cost_usd"] for r in ov.by_model_month.to_dicts()}
    assert by_model == JUNE_MODELS


def test_teams_overview_and_team_detail(session):
    teams = teams_overview(session, JUNE)
    assert teams.total_usd == JUNE_TOTAL
    assert {r["team"]: r["cost_usd"] for r in teams.teams.to_dicts()} == JUNE_TEAMS
    search = team_detail(session, "search", JUNE)
    assert search.cost_usd == D("10.312")
    assert (search.unpriced_rows, search.unpriced_tokens) == (1, 6_000)
    assert search.tokens == 3_376_500
    assert {r["model"]: r["cost_usd"] for r in search.models.to_dicts()} == {
        "alpha": D("8.912"),
        "thinker": D("1.40"),
    }
    # search's share of the shared project: 75% of 1.30
    assert {r["project_id"]: r["cost_usd"] for r in search.keys.to_dicts()} == {
        "web": D("9.337"),
        "shared": D("0.975"),
    }
    ads = team_detail(session, "ads", JUNE)
    assert (ads.cost_usd, ads.unpriced_rows, ads.unpriced_tokens) == (D("7.494"), 1, 12_000)
    assert {
        r["day"]: r["cost_usd"] for r in ads.daily_by_model.to_dicts() if r["day"].day == 14
    } == {
        dt.date(2025, 6, 14): D("0.28")  # o3: 15 June in India, 14 June in UTC
    }


def test_budget_view(session, env):
    view = budget_view(session, dt.date(2025, 6, 1))
    rows = {r["team"] or "total": r for r in view.status.to_dicts()}
    # in the cents the budgets table prints: the teams foot to $16.62 effective, $17.81 list
    assert {k: r["actual_usd"] for k, r in rows.items()} == {
        **JUNE_TEAMS_EFFECTIVE_CENTS,
        "total": D("16.62"),
    }
    assert {k: r["list_usd"] for k, r in rows.items()} == {
        **JUNE_TEAMS_CENTS,
        "total": D("17.81"),
    }
    assert {k: r["budget_usd"] for k, r in rows.items()} == {
        "search": D("20"),
        "ads": D("8"),
        "total": D("40"),
    }
    assert view.alerts_day == dt.date(2025, 6, 27)


def test_forecast_reads_the_hand_computed_daily_series(session):
    fc = build_forecast(session, JUNE)
    assert fc.as_of == dt.date(2025, 6, 27)
    history = dict(zip(fc.history["day"].to_list(), fc.history["cost_usd"].to_list(), strict=True))
    # every June day 1..27, days without priced spend as 0 (the forecast input, not a total)
    expected = {
        dt.date(2025, 6, d): float(JUNE_DAYS.get(dt.date(2025, 6, d)) or 0) for d in range(1, 28)
    }
    assert history == pytest.approx(expected)
    june = fc.months.filter(pl.col("month") == dt.date(2025, 6, 1)).row(0, named=True)
    assert june["actual_to_date"] == D("17.806")  # exact: the June days above, summed


def test_a_restricted_viewer_sees_only_ads_own_rows(session):
    restrict_to_teams(session, ["ads"])
    totals = costing.spend_totals(
        session.con,
        revision_id=session.revision_id,
        from_day=dt.date(2025, 6, 1),
        to_day=dt.date(2025, 7, 1),
    )
    assert (totals.cost_usd, totals.unpriced_rows, totals.unpriced_tokens) == (
        VIEWER_JUNE,
        1,
        12_000,
    )
    ov = build_overview(session, project=False)
    assert ov.as_of == dt.date(2025, 6, 25)
    assert (ov.month_to_date_usd, ov.month_to_date_effective_usd) == (
        VIEWER_JUNE,
        VIEWER_JUNE_EFFECTIVE,
    )
    assert (ov.last_month_usd, ov.last_month_effective_usd) == (D("2.00"), D("1.60"))
    assert {r["team"]: r["cost_usd"] for r in teams_overview(session, JUNE).teams.to_dicts()} == {
        "ads": VIEWER_JUNE
    }


def test_the_fixture_is_what_the_docstring_prices():
    """Guard: the hand arithmetic above is about this file; a changed fixture must fail."""
    rows = list(csv.DictReader((GOLDEN / "usage.csv").open()))
    assert len(rows) == 25
    assert {r["request_id"] for r in rows} == set(ROWS) | {""}
