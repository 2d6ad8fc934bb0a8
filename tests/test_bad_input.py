"""Every bad input gets one clear message naming file (row, field) and leaves the store as it was."""

from __future__ import annotations

import gzip

import duckdb
import pytest

from finops.ingest import IngestError
from finops.session.session import ingest, open_session

HEADER = "period_start,provider,model,input_tokens,output_tokens,team\n"
GOOD_ROW = "2025-03-01T00:00:00Z,acme,alpha,10,5,search\n"
NEW_ROW = "2025-04-01T00:00:00Z,acme,alpha,7,3,search\n"  # not in hand_priced.csv


def _state(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("usage", "daily_usage", "ingests", "reported_costs")
        }
    finally:
        con.close()


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


CASES = [
    (
        "unknown.csv",
        b"colour,size\nred,3\n",
        None,
        None,
        "unrecognised format (columns: colour, size)",
    ),
    ("empty.csv", b"", None, None, "the file is empty"),
    ("header_only.csv", HEADER.encode(), None, None, "the file has no data rows (only a header?)"),
    (
        "bad_ts.csv",
        (HEADER + GOOD_ROW + "yesterday,acme,alpha,10,5,search\n").encode(),
        2,
        "period_start",
        "'yesterday' is not a timestamp",
    ),
    (
        "negative.csv",
        (HEADER + "2025-03-01T00:00:00Z,acme,alpha,-10,5,search\n").encode(),
        1,
        "input_tokens",
        "'-10' is not a count",
    ),
    (
        "fraction.csv",
        (HEADER + "2025-03-01T00:00:00Z,acme,alpha,10.5,5,search\n").encode(),
        1,
        "input_tokens",
        "'10.5' is not a count",
    ),
    (
        "formula.csv",
        (
            HEADER + GOOD_ROW + '2025-03-01T00:00:00Z,acme,alpha,10,5,"=HYPERLINK(""http://x"")"\n'
        ).encode(),
        2,
        "team",
        "looks like a spreadsheet formula",
    ),
    (
        # the export guard's rule, after the leading spaces a stored value loses
        "formula_after_space.csv",
        (HEADER + GOOD_ROW + '2025-03-01T00:00:00Z,acme,alpha,10,5," =1+1"\n').encode(),
        2,
        "team",
        "looks like a spreadsheet formula",
    ),
    (
        # DuckDB's trim takes the no-break space too: stored, this would read '=1+1'
        "formula_after_nbsp.csv",
        (HEADER + "2025-03-01T00:00:00Z,acme,alpha,10,5,\u00a0=1+1\n").encode(),
        1,
        "team",
        "looks like a spreadsheet formula",
    ),
    (
        "formula_minus.csv",
        (HEADER + "2025-03-01T00:00:00Z,acme,alpha,10,5,-1+cmd|' /C calc'!A0\n").encode(),
        1,
        "team",
        "looks like a spreadsheet formula",
    ),
    (
        "latin1.csv",
        (HEADER + "2025-03-01T00:00:00Z,acme,alpha,10,5,caf\xe9\n").encode("latin-1"),
        None,
        None,
        "This file is not utf-8 encoded",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "row", "field", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_csv_is_refused_with_file_row_field_and_the_store_unchanged(
    loaded, tmp_path, name, data, row, field, message
):
    db, pricing = loaded
    before = _state(db)
    # a good file of rows the store does not hold yet, uploaded with the bad one
    good = _write(tmp_path, "good.csv", (HEADER + NEW_ROW).encode())
    path = _write(tmp_path, name, data)
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [good, path])  # one upload: the good file must not land either
    error = info.value
    assert error.file == str(path)
    assert (error.row, error.field) == (row, field)
    assert message in str(error)
    assert str(error).startswith(str(path))
    assert _state(db) == before
    with open_session(db, pricing) as s:  # alone, the good file is one new row
        assert ingest(s, [good]).rows_new == 1


def test_text_that_only_looks_like_a_sign_is_stored(loaded, tmp_path):
    """Numbers, a lone placeholder dash and an inner '=' are data, not formulas."""
    db, pricing = loaded
    rows = "".join(
        f"2025-03-0{day}T00:00:00Z,acme,alpha,10,5,{team}\n"
        for day, team in ((2, "-5"), (3, "-"), (4, "a=b"), (5, "-$1.50"))
    )
    path = _write(tmp_path, "signs.csv", (HEADER + rows).encode())
    with open_session(db, pricing) as s:
        assert ingest(s, [path]).rows_new == 4
        stored = s.con.execute(
            "SELECT team FROM usage WHERE source_file = $f ORDER BY period_start", {"f": str(path)}
        ).fetchall()
    assert [t for (t,) in stored] == ["-5", "-", "a=b", "-$1.50"]


def test_non_utf8_names_the_encoding_problem(loaded, tmp_path):
    db, pricing = loaded
    path = _write(
        tmp_path,
        "latin1.csv",
        (HEADER + "2025-03-01T00:00:00Z,acme,alpha,10,5,caf\xe9\n").encode("latin-1"),
    )
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [path])
    assert "utf-8" in str(info.value).lower() or "unicode" in str(info.value).lower()


def test_truncated_gzip_is_refused(loaded, tmp_path):
    db, pricing = loaded
    before = _state(db)
    whole = gzip.compress((HEADER + GOOD_ROW * 2000).encode())
    path = _write(tmp_path, "cut.csv.gz", whole[: len(whole) // 2])
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [path])
    assert info.value.file == str(path)
    assert _state(db) == before


def test_malformed_json_is_refused(loaded, tmp_path):
    db, pricing = loaded
    before = _state(db)
    path = _write(tmp_path, "usage.json", b'{"object": "page", "data": [{"start_time": 17')
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [path])
    assert info.value.file == str(path)
    assert _state(db) == before


def test_a_50_mb_single_line_is_refused_without_reading_it_all_into_a_row(loaded, tmp_path):
    db, pricing = loaded
    before = _state(db)
    path = tmp_path / "one_line.csv"
    with open(path, "wb") as fh:
        fh.write(HEADER.encode())
        fh.write(b"2025-03-01T00:00:00Z,acme," + b"x" * (50 * 1024 * 1024) + b",10,5,search\n")
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [path])
    assert info.value.file == str(path)
    assert len(str(info.value)) < 1000  # one clear line, not the 50 MB value
    assert _state(db) == before


BROKEN_YAML = "teams: [a, b\nrules: []\n"


def _yaml_loaders():
    from finops.analysis.budgets import load_budgets
    from finops.analysis.simulate import load_scenarios
    from finops.ingest.mapping import load_mapping
    from finops.pricing.allocation import load_allocation
    from finops.pricing.catalog import load_catalog
    from finops.pricing.contracts import load_contracts

    return {
        "teams.yaml": load_allocation,
        "budgets in teams.yaml": load_budgets,
        "contracts.yaml": load_contracts,
        "scenario.yaml": load_scenarios,
        "mapping.yaml": load_mapping,
        "catalog folder": lambda path: load_catalog(path.parent),
    }


@pytest.mark.parametrize("what", list(_yaml_loaders()))
def test_broken_yaml_is_one_line_naming_the_file_and_the_line(tmp_path, what):
    """PyYAML's own message spans five lines with a caret; a person gets one, with the line."""
    path = tmp_path / "acme.yaml"
    path.write_text(BROKEN_YAML)
    with pytest.raises(ValueError) as caught:
        _yaml_loaders()[what](path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert "acme.yaml" in message
    assert "not valid YAML at line 2, column 6: " in message  # where the list breaks off
    assert "expected ',' or ']'" in message
