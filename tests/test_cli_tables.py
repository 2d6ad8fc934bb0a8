"""Terminal tables at 100 columns: every line fits, no number is cut, money reads $1,234.56."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from finops.cli import main

#: an ellipsis next to a digit or a dollar sign: a number rich cut short
CUT_NUMBER = re.compile(r"[\d$,.%]…|…[\d$]")
COMMANDS = [
    ["spend", "--by", "month,team"],
    ["spend", "--by", "team,provider,model", "--from", "2025-12-01"],
    ["budgets"],
    ["alerts"],
    ["anomalies", "--days", "14"],
    ["forecast", "--by", "team", "--horizon", "7", "--period", "day"],
    ["forecast", "--by", "team", "--horizon", "40"],
    ["unpriced"],
    ["pricing", "list"],
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("tables") / "demo.duckdb"
    out = CliRunner().invoke(main, ["demo", "--days", "62", "--db", str(db)])
    assert out.exit_code == 0, out.output
    return db


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_main_commands_fit_100_columns_without_cutting_a_number(store, args, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    db = [] if args[0] == "pricing" else ["--db", str(store)]
    out = CliRunner().invoke(main, [*args, *db])
    assert out.exit_code in (0, 1), out.output  # alerts exits 1 when something fires
    lines = out.output.splitlines()
    assert lines, "no output"
    too_wide = [line for line in lines if len(line) > 100]
    assert not too_wide, "\n".join(too_wide)
    cut = [line for line in lines if CUT_NUMBER.search(line)]
    assert not cut, "\n".join(cut)


def test_money_is_right_aligned_dollars_and_csv_is_to_the_cent(store, monkeypatch):
    """The December team rows of the table foot to the December total shown below them, and
    the CSV carries the same cents (12-decimal exact values only with --exact)."""
    monkeypatch.setenv("COLUMNS", "100")
    args = ["spend", "--by", "team", "--from", "2025-12-01", "--to", "2025-12-31"]
    table = CliRunner().invoke(main, [*args, "--db", str(store)]).output
    rows = re.findall(r"│ (\S+)\s+│\s+(\$[\d,]+\.\d\d) │", table)
    assert len(rows) >= 8
    cents = sum(int(v.replace("$", "").replace(",", "").replace(".", "")) for _, v in rows)
    total = re.search(r"total: \$([\d,]+\.\d\d) list", table).group(1)
    assert cents == int(total.replace(",", "").replace(".", ""))
    csv = CliRunner().invoke(main, [*args, "--format", "csv", "--db", str(store)]).output
    exact = CliRunner().invoke(main, [*args, "--format", "csv", "--exact", "--db", str(store)])
    first = csv.splitlines()[1].split(",")
    assert re.fullmatch(r"\d+\.\d\d", first[1]), first
    assert re.search(r"\.\d{12}", exact.output)
    shown = {t: v.replace("$", "").replace(",", "") for t, v in rows}
    for line in csv.splitlines()[1:]:
        team, cost = line.split(",")[:2]
        assert shown[team] == cost
