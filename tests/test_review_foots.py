"""Cents that foot: every dollar figure in the demo review equals `finops spend` for the same keys.

Both round once, from exact decimals, by largest remainder over the rows of the table, so the
rows add up to the total shown. The oracle is the CLI's CSV (`finops spend --format csv`), an
independent path through costing.spend and the CLI's own rounding.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from click.testing import CliRunner

from finops.cli import main
from finops.session.session import open_session
from finops.views.review import build_review, review_sections

DEC, NOV = ("2025-12-01", "2025-12-31"), ("2025-11-01", "2025-11-30")


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    db = tmp_path_factory.mktemp("foots") / "demo.duckdb"
    out = CliRunner().invoke(main, ["demo", "--days", "62", "--db", str(db)])
    assert out.exit_code == 0, out.output
    with open_session(db) as s:
        r = build_review(s, dt.date(2025, 12, 1), opportunities=False)
    return db, r, {x.id: x for x in review_sections(r)}


def _spend(db, by: str, days: tuple[str, str]) -> dict[tuple[str, ...], str]:
    out = CliRunner().invoke(
        main,
        [
            "spend",
            "--by",
            by,
            "--from",
            days[0],
            "--to",
            days[1],
            "--format",
            "csv",
            "--db",
            str(db),
        ],
    )
    assert out.exit_code == 0, out.output
    keys = by.split(",")
    return {
        tuple(row[k] for k in keys): "$" + f"{Decimal(row['cost_usd'] or 0):,.2f}"
        for row in csv.DictReader(io.StringIO(out.output))
    }


def _table(section, caption: str) -> list[dict[str, str]]:
    table = next(t for t in section.tables if t.caption == caption)
    return table.frame.to_dicts()


def _cents(text: str) -> int:
    return int(text.replace("$", "").replace(",", "").replace(".", "").replace("+", ""))


def test_totals_match_finops_spend_by_month(review):
    db, _, sections = review
    by_month = _spend(db, "month", ("2025-11-01", "2025-12-31"))
    total = {m.label: m.value for m in sections["total"].metrics}
    assert total["Total December 2025"] == by_month[("2025-12-01",)]
    assert total["Total November 2025"] == by_month[("2025-11-01",)]


@pytest.mark.parametrize(
    ("caption", "by", "keys"),
    [("By team", "team", ["team"]), ("By model", "provider,model", ["provider", "model"])],
)
def test_effects_tables_match_finops_spend_and_foot(review, caption, by, keys):
    db, _, sections = review
    rows = _table(sections["drivers"], caption)
    dec, nov = _spend(db, by, DEC), _spend(db, by, NOV)
    for row in rows:
        key = tuple(row[k] for k in keys)
        assert row["this month"] == dec.get(key, "$0.00"), key
        assert row["last month"] == nov.get(key, "$0.00"), key
        # each row's effects add up to its change, to the cent
        parts = sum(_cents(row[c]) for c in ("volume", "mix", "price"))
        assert (
            parts == _cents(row["change"]) == _cents(row["this month"]) - _cents(row["last month"])
        )
    # the column foots to the total shown
    total = {m.label: m.value for m in sections["total"].metrics}["Total December 2025"]
    assert sum(_cents(r["this month"]) for r in rows) == _cents(total)


def test_movers_new_models_and_catalog_match_finops_spend(review):
    db, _, sections = review
    cells = _spend(db, "team,provider,model", DEC)
    before = _spend(db, "team,provider,model", NOV)
    movers = _table(sections["movers"], "Largest increases") + _table(
        sections["movers"], "Largest decreases"
    )
    assert movers
    for row in movers:
        key = (row["team"], row["provider"], row["model"])
        assert row["this month"] == cells.get(key, "$0.00"), key
        assert row["last month"] == before.get(key, "$0.00"), key
    by_model = _spend(db, "provider,model", DEC)
    for row in _table(sections["models"], "Used for the first time this month"):
        assert row["cost this month"] == by_model[(row["provider"], row["model"])]
    for row in _table(sections["catalog"], "Price periods starting this month"):
        assert row["our spend this month"] == by_model[(row["provider"], row["model"])]


def test_summary_sentences_carry_the_tables_cents(review):
    _, _, sections = review
    summary = " ".join(sections["summary"].text)
    rows = {row["team"]: row for row in _table(sections["drivers"], "By team")}
    increases = _table(sections["movers"], "Largest increases")
    assert f"({increases[0]['change']})" in summary
    total = {m.label: m.value for m in sections["total"].metrics}["Total December 2025"]
    assert f"was {total}" in summary
    assert sum(_cents(r["change"]) for r in rows.values()) == _cents(
        next(m.value for m in sections["drivers"].metrics if m.label == "Change")
    )
