"""Fuzz the provider formats: whatever a file holds, ingest either succeeds or raises an
IngestError (file, row, field) — never another exception, never a traceback for a user."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops.core.store import connect
from finops.ingest import IngestError, formats, ingest_files
from finops.ingest._core import Sniff

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
# the provider formats (canonical is the core's own, fuzzed with it)
FORMAT_NAMES = [f.name for f in formats() if f.name != "canonical" and ":" not in f.name]
JSON_FIXTURES = {
    "openai_usage_completions.json": "openai-usage",
    "openai_costs.json": "openai-costs",
    "anthropic_usage_report.json": "anthropic-usage",
    "anthropic_cost_report.json": "anthropic-costs",
    "bedrock_invocations.jsonl": "bedrock-invocations",
    "litellm_spendlogs.json": "litellm-spendlogs",
    "otel_genai_spans.json": "otel-genai",
    "langfuse_observations.json": "langfuse-observations",
    "gcp_billing.jsonl": "gcp-billing",
}
CSV_FIXTURES = {
    "openai_usage_dashboard.csv": "openai-usage-csv",
    "openai_costs_dashboard.csv": "openai-costs-csv",
    "anthropic_console_usage.csv": "anthropic-usage-csv",
    "anthropic_console_cost.csv": "anthropic-costs-csv",
    "litellm_spendlogs.csv": "litellm-spendlogs-csv",
    "focus_tokens_1_2.csv": "focus",
    "azure_ea.csv": "azure-cost",
    "azure_mca.csv": "azure-cost",
    "gcp_billing.csv": "gcp-billing-csv",
}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "1e3", "-1", "3.0", "NaN", "2025-06-01", "=cmd", "null", "{}", "[]"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    con = connect(folder / "fuzz.duckdb")
    yield con, folder
    con.close()


def _ingest_is_clean(con, path: Path, format_name: str | None) -> None:
    """The only acceptable failure is an IngestError that names the file."""
    try:
        ingest_files(con, [path], thresholds=[], format_name=format_name)
    except IngestError as exc:
        assert exc.file and str(exc).startswith(exc.file)


@FUZZ
@given(
    content=st.binary(max_size=600),
    suffix=st.sampled_from(["", ".json", ".csv", ".gz", ".zip"]),
    format_name=st.sampled_from([*FORMAT_NAMES, None]),
)
def test_random_bytes_into_every_format(store, content, suffix, format_name):
    con, folder = store
    path = folder / f"random{suffix}"
    path.write_bytes(content)
    _ingest_is_clean(con, path, format_name)


def _mutate(doc: object, data) -> object:
    """Replace one node of a JSON document (chosen by walking down) with a random value."""
    if isinstance(doc, dict) and doc and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(doc)))
        return {**doc, key: _mutate(doc[key], data)}
    if isinstance(doc, list) and doc and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(doc) - 1))
        return [*doc[:i], _mutate(doc[i], data), *doc[i + 1 :]]
    return data.draw(json_values)


def _documents(text: str) -> list[object]:
    try:
        return [json.loads(text)]
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@FUZZ
@given(fixture=st.sampled_from(sorted(JSON_FIXTURES)), data=st.data(), jsonl=st.booleans())
def test_mutated_json_exports(store, fixture, data, jsonl):
    con, folder = store
    docs = [_mutate(doc, data) for doc in _documents((EXPORTS / fixture).read_text())]
    path = folder / "mutated.json"
    if jsonl:
        path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    else:
        path.write_text(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
    _ingest_is_clean(con, path, JSON_FIXTURES[fixture])


@FUZZ
@given(
    fixture=st.sampled_from(sorted(CSV_FIXTURES)),
    data=st.data(),
    cell=st.text(max_size=16)
    | st.sampled_from(["", "NULL", "-3", "1.5", "1e400", "{", "[]", "=1+1"]),
)
def test_mutated_csv_exports(store, fixture, data, cell):
    con, folder = store
    rows = list(csv.reader(io.StringIO((EXPORTS / fixture).read_text())))
    r = data.draw(st.integers(0, len(rows) - 1))
    c = data.draw(st.integers(0, len(rows[r])))
    if data.draw(st.booleans()):
        rows[r] = [*rows[r][:c], cell, *rows[r][c + 1 :]]  # replace (or append) a cell
    else:
        rows[r] = rows[r][:c]  # a short row
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path = folder / "mutated.csv"
    path.write_text(out.getvalue())
    _ingest_is_clean(con, path, CSV_FIXTURES[fixture])


@FUZZ
@given(
    head=st.text(max_size=300),
    header=st.none() | st.lists(st.text(max_size=12), max_size=8).map(tuple),
    json_head=json_values,
)
def test_detectors_only_answer_yes_or_no(head, header, json_head):
    sniff = Sniff(path=Path("upload"), head=head, csv_header=header, json_head=json_head)
    for fmt in formats():
        assert fmt.detect(sniff) in (True, False)


_NAMES = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12)
# within the bounds ingest accepts (issue 12): counts up to 10^12 per row, timestamps from
# 2015-01-01 to a year after today (a day in from each end: the offsets move UTC by ≤ 14 h)
_COUNTS = st.integers(min_value=0, max_value=10**12)
_LAST_MOMENT = dt.datetime.combine(dt.date.today() + dt.timedelta(days=364), dt.time())


@FUZZ
@given(
    moment=st.datetimes(min_value=dt.datetime(2015, 1, 2), max_value=_LAST_MOMENT),
    offset_minutes=st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
    zulu=st.booleans(),
    input_tokens=_COUNTS,
    output_tokens=st.none() | _COUNTS,
    pad=st.sampled_from(["", " ", "  "]),
    model=_NAMES,
    team=st.none() | _NAMES,
)
def test_an_accepted_canonical_row_is_stored_as_written(
    store, moment, offset_minutes, zulu, input_tokens, output_tokens, pad, model, team
):
    """Valid values in any spelling are accepted, and stored as the file wrote them: the
    timestamp converted to UTC (Python's own conversion is the oracle), counts and names
    exact, an empty cell NULL — never 0."""
    con, folder = store
    offset = dt.timedelta(minutes=offset_minutes)
    if zulu and not offset_minutes:
        stamp = moment.isoformat() + "Z"
    else:
        stamp = moment.replace(tzinfo=dt.timezone(offset)).isoformat()
    request_id = f"fuzz-{uuid.uuid4()}"
    path = folder / "accepted.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "period_start",
                "provider",
                "model",
                "input_tokens",
                "output_tokens",
                "team",
                "request_id",
            ]
        )
        writer.writerow(
            [
                pad + stamp + pad,
                "acme",
                model,
                f"{pad}{input_tokens}{pad}",
                "" if output_tokens is None else str(output_tokens),
                team or "",
                request_id,
            ]
        )
    report = ingest_files(con, [path], thresholds=[], format_name="canonical")
    assert report.rows_new == 1
    stored = con.execute(
        "SELECT period_start, model, input_tokens, output_tokens, team FROM usage "
        "WHERE request_id = $id",
        {"id": request_id},
    ).fetchall()
    utc = (moment - offset).replace(tzinfo=None)
    assert stored == [(utc, model, input_tokens, output_tokens, team)]
