"""Staged rows → validated, typed, keyed rows: set-based SQL, a few scans per file.

Validation is a set of *checks*, each a condition that selects bad rows; one aggregate scan
finds the first bad row of every check, and the earliest one is reported with its file, row
and field. Columns a Parquet file already types (timestamps, integers, booleans) are checked
as they are; text is parsed. The typed rows and their natural keys are then written in one
more scan, so the work grows with the file, not with Python per row.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from finops.core.cells import FORMULA_PATTERN, NUMBER_PATTERN
from finops.core.schema import COUNT_COLUMNS, DIMENSION_COLUMNS, SERVICE_TIERS, TEXT_COLUMNS
from finops.core.store import fetch_one
from finops.pricing.providers import gateway_provider, normalise_provider

__all__ = [
    "DEFAULT_MAX_COUNT",
    "Limits",
    "first_problem",
    "first_problem_by_file",
    "write_keyed",
]

#: A trillion tokens in one row is far beyond any real request or day; larger is a broken file
DEFAULT_MAX_COUNT = 10**12
EARLIEST_DAY = dt.date(2015, 1, 1)  # before any metered AI API

_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
    | {"HUGEINT", "UHUGEINT"}
)
_NAIVE_TIME_TYPES = frozenset(
    {
        "TIMESTAMP",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "DATE",
        "TIMESTAMP WITHOUT TIME ZONE",
    }
)
_ZONED_TIME_TYPES = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"})


@dataclass(frozen=True)
class Limits:
    """What a row may hold: counts up to `max_count`, timestamps in [earliest, latest]."""

    max_count: int = DEFAULT_MAX_COUNT
    earliest: dt.date = EARLIEST_DAY
    latest: dt.date | None = None  # None: one year after today

    @property
    def latest_day(self) -> dt.date:
        if self.latest is not None:
            return self.latest
        today = dt.date.today()
        try:
            return today.replace(year=today.year + 1)
        except ValueError:  # 29 February
            return today.replace(year=today.year + 1, day=28)

    @classmethod
    def from_env(cls) -> Limits:
        """Limits from FINOPS_MAX_COUNT, FINOPS_EARLIEST and FINOPS_LATEST (ISO dates)."""
        max_count = os.environ.get("FINOPS_MAX_COUNT", "").strip().replace("_", "")
        earliest = os.environ.get("FINOPS_EARLIEST", "").strip()
        latest = os.environ.get("FINOPS_LATEST", "").strip()
        try:
            return cls(
                max_count=int(max_count) if max_count else DEFAULT_MAX_COUNT,
                earliest=dt.date.fromisoformat(earliest) if earliest else EARLIEST_DAY,
                latest=dt.date.fromisoformat(latest) if latest else None,
            )
        except ValueError:
            msg = (
                "FINOPS_MAX_COUNT must be a whole number and FINOPS_EARLIEST / FINOPS_LATEST "
                "ISO dates such as 2015-01-01"
            )
            raise ValueError(msg) from None


@dataclass(frozen=True)
class _Check:
    field: str
    condition: str  # SQL selecting the bad rows
    message: Callable[[str], str]  # from the offending value as text
    judged_last: bool = False  # reported only when no other check fails


class _Columns:
    """How each canonical column reads from the staged table: typed as it is, or parsed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, staged: str) -> None:
        described = con.execute(f"DESCRIBE {staged}").fetchall()
        self.types = {r[0]: str(r[1]).upper() for r in described}
        if "source_row" not in self.types:
            msg = "internal: staged table lacks source_row"
            raise RuntimeError(msg)

    def has(self, name: str) -> bool:
        return name in self.types

    def text(self, name: str) -> str:
        if name not in self.types:
            return "CAST(NULL AS VARCHAR)"
        if self.types[name] == "VARCHAR":
            return name
        return f"CAST({name} AS VARCHAR)"

    def is_integer(self, name: str) -> bool:
        return self.types.get(name) in _INTEGER_TYPES

    def timestamp(self, name: str) -> str:
        """The column as a naive UTC TIMESTAMP (NULL where absent or not a timestamp)."""
        kind = self.types.get(name)
        if kind in _NAIVE_TIME_TYPES:
            return f"CAST({name} AS TIMESTAMP)"
        if kind in _ZONED_TIME_TYPES:
            return f"CAST(timezone('UTC', {name}) AS TIMESTAMP)"
        return f"CAST(TRY_CAST(trim({self.text(name)}) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"

    def count(self, name: str) -> str:
        if self.is_integer(name):
            return f"CAST({name} AS BIGINT)"
        return f"CAST({self._decimal(name)} AS BIGINT)"

    def _decimal(self, name: str) -> str:
        return f"TRY_CAST(nullif(trim({self.text(name)}), '') AS DECIMAL(38, 6))"


# the export guard's own rule (after leading whitespace, since values are stored trimmed), as
# SQL string literals for DuckDB's RE2
_FORMULA = "'" + FORMULA_PATTERN.replace("'", "''") + "'"
_NUMBER = "'" + NUMBER_PATTERN.replace("'", "''") + "'"


def _starts_alphanumeric(column: str) -> str:
    """SQL: the text starts with an ASCII letter or digit, so trimming leaves it as it is and
    FORMULA_PATTERN cannot match it. As a CASE condition it spares almost every value the
    regular expressions, which were a sixth of a canonical upload's time (DuckDB evaluates
    both sides of an AND, but a CASE branch only for the rows that reach it)."""
    code = f"ascii({column})"
    return f"({code} BETWEEN 48 AND 57 OR {code} BETWEEN 65 AND 90 OR {code} BETWEEN 97 AND 122)"


def _checks(cols: _Columns, limits: Limits) -> list[_Check]:
    """Every check, in the order they are reported when one row fails several."""
    checks: list[_Check] = []
    for name in (*TEXT_COLUMNS, "service_tier"):
        if cols.has(name) and not cols.is_integer(name):
            # a cell that a spreadsheet would run as a formula is refused, not stored
            checks.append(
                _Check(
                    name,
                    # judged as stored: trimmed (DuckDB's trim also takes no-break spaces,
                    # which the pattern's \s does not)
                    f"CASE WHEN {_starts_alphanumeric(cols.text(name))} THEN false ELSE "
                    f"(regexp_matches(trim({cols.text(name)}), {_FORMULA}) "
                    f"AND NOT regexp_matches(trim({cols.text(name)}), {_NUMBER}) "
                    # a lone "-" is a placeholder some exports write, not a formula
                    f"AND length(trim({cols.text(name)})) > 1) END",
                    lambda v: (
                        f"{v[:40]!r} looks like a spreadsheet formula; remove the leading "
                        "=, +, - or @ (formula injection is refused)"
                    ),
                )
            )
    for name in ("period_start", "provider", "model"):
        if name == "period_start" and cols.types.get(name) in _NAIVE_TIME_TYPES | _ZONED_TIME_TYPES:
            condition = f"{name} IS NULL"
        else:
            condition = f"nullif(trim({cols.text(name)}), '') IS NULL"
        checks.append(_Check(name, condition, lambda v: "required value is empty"))
    earliest = limits.earliest.isoformat()
    latest = limits.latest_day.isoformat()
    for name in ("period_start", "period_end"):
        if not cols.has(name):
            continue
        if cols.types[name] not in _NAIVE_TIME_TYPES | _ZONED_TIME_TYPES:
            text = cols.text(name)
            checks.append(
                _Check(
                    name,
                    (
                        f"TRY_CAST({text} AS TIMESTAMPTZ) IS NULL "
                        f"AND nullif(trim({text}), '') IS NOT NULL "
                        f"AND TRY_CAST(trim({text}) AS TIMESTAMPTZ) IS NULL"
                    ),
                    lambda v: (
                        f"{v[:40]!r} is not a timestamp; write ISO 8601 such as "
                        "2025-06-10T14:00:00Z (no offset means UTC)"
                    ),
                )
            )
        stamp = cols.timestamp(name)
        checks.append(
            _Check(
                name,
                # ±infinity falls outside too
                f"{stamp} < TIMESTAMP '{earliest}' OR {stamp} >= TIMESTAMP '{latest}' + INTERVAL 1 DAY",
                lambda v, e=earliest, la=latest: (
                    f"{v[:40]!r} is outside the accepted time window {e} .. {la}; fix the "
                    "timestamp, or set FINOPS_EARLIEST / FINOPS_LATEST to widen the window"
                ),
            )
        )
    not_a_count = lambda v: (
        f"{v[:40]!r} is not a count; token and request counts are whole numbers ≥ 0"
    )
    too_large = lambda v: (
        f"{v[:40]!r} is more than the largest count a row may hold ({limits.max_count:,}); "
        "fix the value, or set FINOPS_MAX_COUNT to allow more"
    )
    for name in COUNT_COLUMNS:
        if not cols.has(name):
            continue
        if cols.is_integer(name):
            checks.append(_Check(name, f"{name} < 0", not_a_count))
            checks.append(_Check(name, f"{name} > {limits.max_count}", too_large))
            continue
        text = f"trim({cols.text(name)})"
        value = cols._decimal(name)
        # a fraction is refused however small or close to whole (10.9999999, 0.0000004): the
        # digits decide, not a rounded cast; an exponent (1.5e3) is judged by its value
        fraction = (
            f"CASE WHEN regexp_matches({text}, '[eE]') "
            f"THEN TRY_CAST({text} AS DOUBLE) <> trunc(TRY_CAST({text} AS DOUBLE)) "
            f"ELSE regexp_matches({text}, '\\.[0-9]*[1-9]') END"
        )
        checks.append(
            _Check(
                name,
                (
                    f"NOT coalesce(regexp_full_match({cols.text(name)}, '[0-9]{{1,12}}'), false) "
                    f"AND nullif({text}, '') IS NOT NULL "
                    f"AND ({value} IS NULL OR {value} < 0 OR {fraction})"
                ),
                not_a_count,
            )
        )
        checks.append(_Check(name, f"{value} > {limits.max_count}", too_large))
    if cols.has("reported_cost_usd"):
        text = f"trim({cols.text('reported_cost_usd')})"
        checks.append(
            _Check(
                "reported_cost_usd",
                f"nullif({text}, '') IS NOT NULL AND TRY_CAST({text} AS DECIMAL(38, 12)) IS NULL",
                lambda v: f"{v[:40]!r} is not an amount in USD (write 12.34)",
            )
        )
    if cols.has("service_tier"):
        tiers = ", ".join(f"'{t}'" for t in SERVICE_TIERS)
        text = cols.text("service_tier")
        checks.append(
            _Check(
                "service_tier",
                (
                    f"nullif(trim({text}), '') IS NOT NULL AND lower(trim({text})) "
                    f"NOT IN ({tiers}, 'default', 'auto', 'scale')"
                ),
                lambda v: f"{v!r} is not a service tier; use one of {', '.join(SERVICE_TIERS)}",
            )
        )
    if cols.has("long_context") and cols.types["long_context"] != "BOOLEAN":
        text = cols.text("long_context")
        checks.append(
            _Check(
                "long_context",
                (
                    f"nullif(trim({text}), '') IS NOT NULL "
                    f"AND TRY_CAST(trim({text}) AS BOOLEAN) IS NULL"
                ),
                lambda v: f"{v!r} is not true or false",
            )
        )
    if cols.has("tags"):
        text = cols.text("tags")
        checks.append(
            _Check(
                "tags",
                (
                    f"nullif(trim({text}), '') IS NOT NULL AND NOT coalesce("
                    f"json_valid({text}) AND json_type({text}) = 'OBJECT', false)"
                ),
                lambda v: f'{v[:40]!r} is not a JSON object (write {{"env": "prod"}})',
            )
        )
    if cols.has("period_end"):
        # judged last: only rows whose timestamps are both valid get here
        checks.append(
            _Check(
                "period_end",
                f"{cols.timestamp('period_end')} < {cols.timestamp('period_start')}",
                lambda v: "period_end is before period_start",
                judged_last=True,
            )
        )
    return checks


def first_problem(
    con: duckdb.DuckDBPyConnection, staged: str, limits: Limits
) -> tuple[int, str, str] | None:
    """(row, field, message) of the first bad value in `staged`, or None when all are good.

    One scan answers every check; a row that fails several reports the first in check order.
    """
    found = _first_problem(con, staged, limits, by_file=False)
    return None if found is None else found[1:]


def first_problem_by_file(
    con: duckdb.DuckDBPyConnection, staged: str, limits: Limits
) -> tuple[int, int, str, str] | None:
    """(upload_file, row, field, message) of the first bad value of the first file with one.

    `staged` holds many files' rows, each tagged with its `upload_file` number; within that
    file the problem is the one :func:`first_problem` names.
    """
    return _first_problem(con, staged, limits, by_file=True)


def _first_problem(
    con: duckdb.DuckDBPyConnection, staged: str, limits: Limits, *, by_file: bool
) -> tuple[int | None, int, str, str] | None:
    cols = _Columns(con, staged)
    checks = _checks(cols, limits)
    # structs order field by field: the first file, then its first row
    at = "{'f': upload_file, 'r': source_row}" if by_file else "source_row"
    # an aggregate is one row: fetchall drains it without fetch_one's extra statement
    firsts = con.execute(
        "SELECT "
        + ", ".join(f"min({at}) FILTER (WHERE {c.condition})" for c in checks)
        + f" FROM {staged}"
    ).fetchall()[0]
    failing = [
        ((v["f"], v["r"]) if by_file else (None, v), i)
        for i, v in enumerate(firsts)
        if v is not None
    ]
    if not failing:
        return None
    first_file = min(at[0] for at, _ in failing) if by_file else None
    failing = [(at[1], i) for at, i in failing if at[0] == first_file]
    plain = [f for f in failing if not checks[f[1]].judged_last]
    row, i = min(plain or failing)
    check = checks[i]
    where = "source_row = $r" + (" AND upload_file = $f" if by_file else "")
    params: dict[str, object] = {"r": row} | ({"f": first_file} if by_file else {})
    value = fetch_one(con, f"SELECT {cols.text(check.field)} FROM {staged} WHERE {where}", params)[
        0
    ]
    return first_file, row, check.field, check.message(value or "")


def write_keyed(con: duckdb.DuckDBPyConnection, staged: str, keyed: str) -> str:
    """The typed canonical rows of `staged`, each with its natural key; returns their relation.

    The key is md5 of the row's identity (request id, a format's natural key, or its period
    and dimensions) and `#n`, numbering identical rows of one file in file order. Most keys
    are unique: then `keyed` is a view computing `#1` keys as the merge reads it (no copy of
    the rows); otherwise the rows are written to the table `<keyed>_rows`, repeated keys
    renumbered, and that table is returned.
    """
    _normalise_providers(con, staged)
    cols = _Columns(con, staged)
    counts = ",\n".join(f"{cols.count(n)} AS {n}" for n in COUNT_COLUMNS if n != "requests")
    texts = ",\n".join(
        f"nullif(trim({cols.text(n)}), '') AS {n}"
        for n in TEXT_COLUMNS
        if n not in ("provider", "model")
    )
    tier = cols.text("service_tier")
    long_context = (
        "long_context"
        if cols.types.get("long_context") == "BOOLEAN"
        else f"TRY_CAST(nullif(trim({cols.text('long_context')}), '') AS BOOLEAN)"
    )
    grain = cols.text("grain") if cols.has("grain") else "NULL"
    natural_key = cols.text("natural_key") if cols.has("natural_key") else "NULL"
    cost = cols.text("reported_cost_usd")
    # many files staged together (`upload_file` tags each row): repeats are numbered per file
    by_file = cols.has("upload_file")
    file_column = ",\n                upload_file" if by_file else ""
    per_file = "upload_file, " if by_file else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {keyed} AS
        WITH cast_rows AS (
            SELECT
                {cols.timestamp("period_start")} AS period_start,
                {cols.timestamp("period_end")} AS period_end,
                lower(trim({cols.text("provider")})) AS provider,
                trim({cols.text("model")}) AS model,
                {cols.count("requests")} AS staged_requests,
                {counts},
                CASE lower(trim(coalesce({tier}, '')))
                    WHEN '' THEN 'standard' WHEN 'default' THEN 'standard'
                    WHEN 'auto' THEN 'standard' WHEN 'scale' THEN 'priority'
                    ELSE lower(trim({tier})) END AS service_tier,
                {long_context} AS long_context,
                {texts},
                CAST(nullif(trim({cols.text("tags")}), '') AS JSON) AS tags,
                TRY_CAST(nullif(trim({cost}), '') AS DECIMAL(38, 12)) AS reported_cost_usd,
                {grain} AS staged_grain,
                {natural_key} AS natural_key,
                CAST(source_row AS BIGINT) AS source_row{file_column}
            FROM {staged}
        )
        , based AS (
            SELECT
                * EXCLUDE (staged_grain, staged_requests),
                coalesce(staged_grain,
                         CASE WHEN period_end IS NULL THEN 'request' ELSE 'bucket' END) AS grain,
                coalesce(staged_requests, CASE WHEN period_end IS NULL THEN 1 END) AS requests,
                {_KEY_BASIS} AS key_basis
            FROM cast_rows
        )
        SELECT *, md5(key_basis || '#1') AS row_key FROM based
    """)
    # a 64-bit hash finds repeats cheaply; a collision only costs the exact path below
    repeated = con.execute(
        f"SELECT count(*) FROM (SELECT {per_file}hash(key_basis) FROM {keyed} "
        "GROUP BY ALL HAVING count(*) > 1)"
    ).fetchall()[0][0]
    if not repeated:
        return keyed
    table = f"{keyed}_rows"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {keyed}")
    con.execute(f"""
        UPDATE {table} SET row_key = numbered.row_key
        FROM (
            SELECT
                rowid AS staged_at,
                md5(key_basis || '#' || CAST(
                    row_number() OVER (PARTITION BY {per_file}row_key ORDER BY source_row, rowid)
                    AS VARCHAR)
                ) AS row_key
            FROM {table}
            -- a key repeated in one file; its lone copies in other files stay #1
            WHERE row_key IN (
                SELECT row_key FROM {table} GROUP BY {per_file}row_key HAVING count(*) > 1)
        ) AS numbered
        WHERE {table}.rowid = numbered.staged_at
    """)
    return table


def _normalise_providers(con: duckdb.DuckDBPyConnection, staged: str) -> None:
    """Every provider spelling as its catalog id, through the one vocabulary
    (`finops.pricing.providers`); a gateway's `vendor/model` rows (OpenRouter) as the vendor's."""
    cols = _Columns(con, staged)
    if cols.types.get("provider") != "VARCHAR":
        return
    provider, model = cols.text("provider"), cols.text("model")
    spellings = con.execute(
        f"SELECT DISTINCT {provider}, {model} FROM {staged} WHERE {provider} IS NOT NULL"
    ).fetchall()
    changes = []
    for old, name in spellings:
        new = gateway_provider(normalise_provider(old), (name or "").strip())
        if new != old.strip().lower():
            changes.append((old, name, new))
    if changes:  # one UPDATE through a mapping table: a log names thousands of models
        con.execute(
            "CREATE OR REPLACE TEMP TABLE provider_names (old VARCHAR, model VARCHAR, new VARCHAR)"
        )
        con.executemany("INSERT INTO provider_names VALUES (?, ?, ?)", changes)
        con.execute(
            f"UPDATE {staged} SET provider = m.new FROM provider_names AS m "
            f"WHERE {staged}.provider = m.old "
            f"AND CAST({staged}.model AS VARCHAR) IS NOT DISTINCT FROM m.model"
        )
        con.execute("DROP TABLE provider_names")


_DIMENSION_TEXT = ", ".join(f"coalesce(CAST({d} AS VARCHAR), '\\N')" for d in DIMENSION_COLUMNS)
# the identity a row key hashes: never change it, or stored rows stop matching re-uploads
_KEY_BASIS = f"""(CASE
    WHEN request_id IS NOT NULL THEN concat_ws('|', 'request', provider, request_id)
    WHEN natural_key IS NOT NULL THEN concat_ws('|', 'natural', natural_key)
    ELSE concat_ws('|', 'dims', CAST(period_start AS VARCHAR),
                   coalesce(CAST(period_end AS VARCHAR), '\\N'), {_DIMENSION_TEXT})
END)"""
