"""Hostile and careless input (issue 12, items 3-6): every value is bounded, every refusal is
one line naming file, row and field, and the store's totals are exactly as they were."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import resource
import signal
import zipfile
from decimal import Decimal

import duckdb
import pytest
from click.testing import CliRunner
from conftest import HAND_PRICED, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops.cli import main
from finops.core.store import connect
from finops.ingest import IngestError, ingest_files
from finops.session.session import ingest, open_session

HEADER = "period_start,provider,model,input_tokens,output_tokens,team\n"
_TODAY = dt.date.today()
# a year on; from 29 February, 28 February (date.replace would raise and fail the import)
ONE_YEAR_ON = _TODAY.replace(
    year=_TODAY.year + 1, day=min(_TODAY.day, 28 if _TODAY.month == 2 else 31)
)


@pytest.fixture(autouse=True)
def _window_as_of_import(monkeypatch):
    """The expected messages name the time window as of import: a run crossing midnight (UTC)
    would move the default end a day past them (seen in a CI run that did). Tests that set
    the window themselves override this."""
    monkeypatch.setenv("FINOPS_LATEST", ONE_YEAR_ON.isoformat())


def _totals(db) -> tuple:
    """Row counts and token sums of every table an upload writes."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT (SELECT count(*) FROM usage), (SELECT sum(input_tokens) FROM usage), "
            "(SELECT sum(output_tokens) FROM usage), (SELECT count(*) FROM daily_usage), "
            "(SELECT sum(input_tokens) FROM daily_usage), (SELECT count(*) FROM ingests), "
            "(SELECT count(*) FROM reported_costs)"
        ).fetchall()[0]
    finally:
        con.close()


def _refused(loaded, path) -> str:
    """Ingest `path` beside a good file as one upload; the refusal's text, store unchanged."""
    db, pricing = loaded
    before = _totals(db)
    with open_session(db, pricing) as s, pytest.raises(IngestError) as info:
        ingest(s, [HAND_PRICED, path])
    assert _totals(db) == before
    text = str(info.value)
    assert "\n" not in text
    return text


WINDOW = f"2015-01-01 .. {ONE_YEAR_ON}"
CSV_CASES = [
    # 12.3: a count above the per-row maximum is refused, naming the maximum
    (
        "huge_count",
        "2025-03-01T00:00:00Z,acme,alpha,9000000000000000,5,search",
        (
            "row 1, field input_tokens: '9000000000000000' is more than the largest count a row may "
            "hold (1,000,000,000,000); fix the value, or set FINOPS_MAX_COUNT to allow more"
        ),
    ),
    # 12.3: fractions are refused however close to whole (a DECIMAL(38,6) cast rounded these)
    (
        "nearly_whole",
        "2025-03-01T00:00:00Z,acme,alpha,10.9999999,5,search",
        (
            "row 1, field input_tokens: '10.9999999' is not a count; token and request counts are "
            "whole numbers ≥ 0"
        ),
    ),
    (
        "tiny_fraction",
        "2025-03-01T00:00:00Z,acme,alpha,5,0.0000004,search",
        (
            "row 1, field output_tokens: '0.0000004' is not a count; token and request counts are "
            "whole numbers ≥ 0"
        ),
    ),
    # 12.4: ±infinity and far-off timestamps are outside the window
    (
        "minus_infinity",
        "-infinity,acme,alpha,10,5,search",
        (
            f"row 1, field period_start: '-infinity' is outside the accepted time window {WINDOW}; "
            "fix the timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen the window"
        ),
    ),
    (
        "infinity",
        "infinity,acme,alpha,10,5,search",
        (
            f"row 1, field period_start: 'infinity' is outside the accepted time window {WINDOW}; "
            "fix the timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen the window"
        ),
    ),
    (
        "year_9999",
        "9999-12-31,acme,alpha,10,5,search",
        (
            f"row 1, field period_start: '9999-12-31' is outside the accepted time window {WINDOW}; "
            "fix the timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen the window"
        ),
    ),
    (
        "year_294247",
        "294247-01-10,acme,alpha,10,5,search",
        (
            f"row 1, field period_start: '294247-01-10' is outside the accepted time window {WINDOW}; "
            "fix the timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen the window"
        ),
    ),
    (
        "before_2015",
        "2014-12-31T23:59:59Z,acme,alpha,10,5,search",
        (
            f"row 1, field period_start: '2014-12-31T23:59:59Z' is outside the accepted time window "
            f"{WINDOW}; fix the timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen the window"
        ),
    ),
    # 12.6: an extra value is named as such, not as missing columns
    (
        "extra_value",
        "2025-03-01T00:00:00Z,acme,alpha,10,5,search,surprise",
        (
            "row 1: 1 extra value: the row has 7 values but the header has 6 columns; quote values "
            "that contain commas"
        ),
    ),
    # 12.6: DuckDB's page-long sniffer and parser errors become one line
    (
        "short_row",
        "2025-03-01T00:00:00Z,acme,alpha,10,5",
        "row 1: missing values: the row has 5 values but the header has 6 columns",
    ),
    (
        "open_quote",
        '2025-03-01T00:00:00Z,acme,"alpha,10,5,search',
        'row 1: a quoted value is never closed (a " without its pair)',
    ),
]


@pytest.mark.parametrize(("name", "row", "message"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_a_bad_value_is_refused_in_one_line_and_the_store_is_unchanged(
    loaded, tmp_path, name, row, message
):
    path = tmp_path / f"{name}.csv"
    path.write_text(HEADER + row + "\n")
    assert _refused(loaded, path) == f"{path}, {message}"


def test_the_count_maximum_and_time_window_are_configurable(loaded, tmp_path, monkeypatch):
    """FINOPS_MAX_COUNT=5000000 refuses 5000001 (the good file's largest count is 150,000);
    FINOPS_EARLIEST/LATEST move the window past this row's day (the good file's is 03-10)."""
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + "2025-03-01T00:00:00Z,acme,alpha,5000001,5,search\n")
    monkeypatch.setenv("FINOPS_MAX_COUNT", "5000000")
    assert _refused(loaded, path) == (
        f"{path}, row 1, field input_tokens: '5000001' is more than the largest count a row may "
        "hold (5,000,000); fix the value, or set FINOPS_MAX_COUNT to allow more"
    )
    monkeypatch.delenv("FINOPS_MAX_COUNT")
    monkeypatch.setenv("FINOPS_EARLIEST", "2025-03-02")
    monkeypatch.setenv("FINOPS_LATEST", "2025-12-31")
    assert "outside the accepted time window 2025-03-02 .. 2025-12-31" in _refused(loaded, path)


def test_sums_past_int64_stay_exact_when_the_maximum_is_raised(tmp_path, monkeypatch):
    """12.3: with FINOPS_MAX_COUNT raised to 10^16, 1,100 rows of 9e15 input tokens (the
    issue's case) add up to 9.9e18, past INT64's 9.22e18: `spend`, `unpriced`, `budgets` and
    `review` run (they crashed with an INT64 overflow) and `spend` gives the exact sum.
    gpt-4o-mini at $0.15 per 1M input and $0.60 per 1M output: 9.9e18 × 0.15 / 1e6 =
    $1,485,000,000,000 plus 1,100 × 0.6 / 1e6 = $0.00066."""
    monkeypatch.setenv("FINOPS_MAX_COUNT", str(10**16))
    path = tmp_path / "big.csv"
    path.write_text(
        HEADER
        + "".join(
            f"2025-03-{1 + i % 28:02d}T00:00:{i // 28:02d}Z,openai,gpt-4o-mini,9000000000000000,1,"
            "search\n"
            for i in range(1100)
        )
    )
    db = ["--db", str(tmp_path / "big.duckdb")]
    run = CliRunner().invoke
    out = run(main, ["ingest", str(path), *db])
    assert out.exit_code == 0, out.output
    out = run(main, ["spend", "--by", "team", "--format", "json", *db])
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output, parse_float=Decimal)
    assert (row["input_tokens"], row["output_tokens"]) == (9_900_000_000_000_000_000, 1_100)
    assert row["cost_usd"] == Decimal("1485000000000.00066")
    review = ["review", "--month", "2025-03", "--out", str(tmp_path / "review.md")]
    for args in (["unpriced"], ["budgets"], review):
        out = run(main, [*args, *db])
        assert out.exit_code == 0, (args, out.output)
    # the pages draw them too (the Overview's chart and the Teams tables took only INT64)
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FINOPS_DB", db[1])
    for page in ("overview", "teams", "review", "budgets"):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180).run()
        at.switch_page(f"finops/app/pages/{page}.py").run()
        assert not at.exception, (page, at.exception)


def test_parquet_typed_values_are_bounded_too(loaded, tmp_path):
    """A Parquet BIGINT column of 9e15 and a TIMESTAMP in 2200 are refused like text ones."""
    path = tmp_path / "usage.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT TIMESTAMP '2025-03-01' AS period_start, 'acme' AS provider, "
        f"'alpha' AS model, 9000000000000000 AS input_tokens) TO '{path}'"
    )
    assert _refused(loaded, path) == (
        f"{path}, row 1, field input_tokens: '9000000000000000' is more than the largest count "
        "a row may hold (1,000,000,000,000); fix the value, or set FINOPS_MAX_COUNT to allow more"
    )
    con.execute(
        f"COPY (SELECT TIMESTAMP '2200-01-01' AS period_start, 'acme' AS provider, "
        f"'alpha' AS model, 10 AS input_tokens) TO '{path}'"
    )
    assert _refused(loaded, path) == (
        f"{path}, row 1, field period_start: '2200-01-01 00:00:00' is outside the accepted time "
        f"window {WINDOW}; fix the timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen "
        "the window"
    )


BEDROCK_LINE = (
    '{"schemaType": "ModelInvocationLog", "timestamp": "2025-06-01T10:00:00Z", '
    '"requestId": "r-1", "modelId": "anthropic.claude-3-haiku-20240307-v1:0", '
    '"input": {"inputTokenCount": COUNT}, "output": {"outputTokenCount": 5}}'
)


def test_json_infinity_is_not_a_count(loaded, tmp_path):
    path = tmp_path / "invocations.jsonl"
    path.write_text(BEDROCK_LINE.replace("COUNT", "Infinity") + "\n")
    assert _refused(loaded, path) == (
        f"{path}, row 1, field input.inputTokenCount: inf is not a count; token and request "
        "counts are whole numbers ≥ 0"
    )


def test_deep_nesting_is_one_line_not_a_recursion_traceback(loaded, tmp_path):
    path = tmp_path / "invocations.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(BEDROCK_LINE.replace("COUNT", "1")[:-1] + f', "requestMetadata": {deep}}}\n')
    assert _refused(loaded, path) == (
        f"{path}: values are nested too deeply to be usage (hundreds of levels of [ or {{)"
    )


def test_a_zip_bomb_is_refused_before_it_fills_the_disk(loaded, tmp_path):
    """300 MB of zeros packs to about 300 KB (deflate's ~1,030:1), so 200× its packed size is
    under the 64 MB below which any ratio is allowed: unpacking stops at 64 MB."""
    path = tmp_path / "usage.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("usage.csv", "w") as fh:
        fh.write(HEADER.encode())
        for _ in range(300):
            fh.write(b"0" * (1 << 20))
    assert path.stat().st_size < 320 << 10
    assert _refused(loaded, path) == (
        f"{path}: unpacks to more than 64 MB (over 200× its packed size or 10,240 MB); unpack it "
        "yourself, or raise FINOPS_MAX_UNPACKED_MB / FINOPS_MAX_UNPACK_RATIO"
    )


def test_a_gzip_past_the_size_cap_is_refused(loaded, tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_MAX_UNPACKED_MB", "1")
    path = tmp_path / "usage.csv.gz"
    row = "2025-03-01T00:00:00Z,acme,alpha,10,5,search\n"
    path.write_bytes(gzip.compress((HEADER + row * 50_000).encode()))
    assert _refused(loaded, path) == (
        f"{path}: unpacks to more than 1 MB (over 200× its packed size or 1 MB); unpack it "
        "yourself, or raise FINOPS_MAX_UNPACKED_MB / FINOPS_MAX_UNPACK_RATIO"
    )


def test_a_symlink_out_of_the_folder_is_refused_without_echoing_its_target(loaded, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("root:$6$salt$hashhashhash:19000:0:99999:7:::\n")
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "usage.csv").write_text(HEADER + "2025-03-01T00:00:00Z,acme,alpha,10,5,search\n")
    os.symlink(secret, folder / "shadow.csv")
    text = _refused(loaded, folder)
    assert text == (
        f"{folder / 'shadow.csv'}: a symbolic link to a file outside the folder; "
        "copy the file in instead"
    )


def test_an_unrecognised_file_never_echoes_its_content(loaded, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("root:$6$salt$hashhashhash:19000:0:99999:7:::\n")
    text = _refused(loaded, path)
    assert "hashhashhash" not in text and "99999" not in text
    assert text.startswith(f"{path}: unrecognised format. Supported: canonical, ")


FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
stamps = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.sampled_from(["infinity", "-infinity", "294247-01-10", "2015-01-01", "epoch", "now"]),
)
counts = st.one_of(
    st.integers(min_value=-5, max_value=10**19).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=8).map(str),
    st.sampled_from(["1e3", "1.5e3", "3.0", "1e40", "0x10", "10.9999999"]),
)


@pytest.mark.slow
@FUZZ
@given(stamp=stamps, count=counts)
def test_any_accepted_timestamp_and_count_works_in_spend_totals(tmp_path, stamp, count):
    """Oracle: an accepted row's input tokens, summed by `finops spend`, equal the count written
    (plus 0 from the other rows: the file has just this one)."""
    db = tmp_path / f"fuzz-{abs(hash((stamp, count)))}.duckdb"
    path = tmp_path / "one.csv"
    path.write_text(HEADER + f"{stamp},openai,gpt-4o,{count},1,search\n")
    con = connect(db)
    try:
        ingest_files(con, [path], thresholds=[])
    except IngestError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path))
        return
    finally:
        con.close()
    out = CliRunner().invoke(
        main,
        ["spend", "--by", "month", "--format", "json", "--db", str(db)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert sum(int(r["input_tokens"]) for r in rows) == int(float(count))


def test_a_full_disk_is_one_line_and_the_store_is_unchanged(loaded, tmp_path, monkeypatch):
    """A file-size limit makes writing the store fail as a full disk does (ENOSPC and EFBIG
    both end the write); the upload is refused in one line and rolled back."""
    db, pricing = loaded
    before = _totals(db)
    path = tmp_path / "big.csv"
    lines = (f"2025-03-01T00:00:00Z,acme,alpha,{i},5,team-{i},req-{i}\n" for i in range(300_000))
    path.write_text(HEADER.rstrip("\n") + ",request_id\n" + "".join(lines))
    monkeypatch.setenv("FINOPS_TEMP_DIRECTORY", str(tmp_path / "spill"))
    store_bytes = db.stat().st_size
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        with open_session(db, pricing) as s:
            resource.setrlimit(resource.RLIMIT_FSIZE, (store_bytes + (1 << 20), limit[1]))
            try:
                with pytest.raises(IngestError) as info:
                    ingest(s, [path])
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, limit)
    finally:
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    assert str(info.value) == (
        f"{path}: the disk is full (no space left to write the store or its temporary files); "
        "nothing was stored. Free some space, or point FINOPS_TEMP_DIRECTORY at a larger disk, "
        "and ingest again"
    )
    assert _totals(db) == before
