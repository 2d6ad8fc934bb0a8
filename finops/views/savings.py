"""The Savings page model: ranked opportunities as a table people can read and act on.

One search per store state (:func:`store_opportunities`) backs the Savings page, the monthly
review's "act on" list and ``finops opportunities``; the same rows back the page and the
command, and money is written by :mod:`finops.core.format`, one formatter everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from finops.analysis.opportunities import Opportunity, find_opportunities
from finops.analysis.simulate import load_evals
from finops.core import format as fmt
from finops.core.store import beside_store
from finops.session.session import Session

__all__ = ["KIND_LABELS", "opportunities_table", "search_opportunities", "store_opportunities"]

# the searches of this process, by store state (a Streamlit server serves every page from one)
_MEMO: dict[tuple[str, ...], list[Opportunity]] = {}
_MEMO_SIZE = 8


def store_opportunities(session: Session, *, today: dt.date | None = None) -> list[Opportunity]:
    """The savings opportunities of the store's state as of `today` (default: the last day
    with data), judged with the eval scores of the evals.csv beside the store when there is
    one (`finops demo` writes one): what the Savings page, the monthly review and
    ``finops opportunities`` without options show. Searched once per state in a process.
    """
    as_of = session.day(today)
    evals_file = beside_store("evals.csv", session.db)
    evals_bytes = evals_file.read_bytes() if evals_file is not None else b""
    key = (
        str(session.db),
        session.state_key(),
        as_of.isoformat(),
        ",".join(session.viewer_teams) if session.viewer_teams is not None else "*",
        hashlib.sha256(evals_bytes).hexdigest() if evals_file is not None else "-",
    )
    found = _MEMO.get(key)
    if found is None:
        evals = load_evals(evals_file) if evals_file is not None else None
        found = find_opportunities(session, today=as_of, evals=evals)
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = found
    return list(found)


def search_opportunities(
    session: Session,
    *,
    evals: Path | None = None,
    min_score: float | None = None,
    batch_teams: Sequence[str] = (),
    batch_projects: Sequence[str] = (),
) -> list[Opportunity]:
    """``finops opportunities``: with no choice given, the store's own list
    (:func:`store_opportunities`); else a search with those choices, judged with the eval
    scores of `evals` or, by default, of the evals.csv beside the store."""
    if evals is None and min_score is None and not batch_teams and not batch_projects:
        return store_opportunities(session)
    evals = evals or beside_store("evals.csv", session.db)
    return find_opportunities(
        session,
        evals=load_evals(evals) if evals is not None else None,
        min_score=min_score,
        batch_teams=list(batch_teams) or None,
        batch_projects=batch_projects,
    )


#: How each kind of opportunity is named on the page and in the CLI.
KIND_LABELS = {
    "model_swap": "cheaper model",
    "batch": "batch tier",
    "prompt_caching": "prompt caching",
    "service_tier": "service tier",
    "retirement": "retiring model",
}


def _range(o: Opportunity) -> str:
    if o.savings_usd_low is None or o.savings_usd_high is None:
        return "—"
    if o.savings_usd_low == o.savings_usd_high:
        return "no range"
    return f"{fmt.usd(o.savings_usd_low)} to {fmt.usd(o.savings_usd_high)}"


def opportunities_table(found: Sequence[Opportunity]) -> pl.DataFrame:
    """One formatted row per opportunity, ranked as given (largest saving per month first).

    Columns: rank, kind, what, per month (the saving), range, of moved (share of the moved
    workload's cost), by (the retirement date, if any).
    """
    rows = [
        {
            "rank": index,
            "kind": KIND_LABELS.get(o.kind, o.kind),
            "what": o.title,
            "per month": fmt.usd(o.savings_usd),
            "range": _range(o),
            "of moved": fmt.exact_pct(o.savings_pct_of_moved),
            "by": "" if o.deadline is None else o.deadline.isoformat(),
        }
        for index, o in enumerate(found, start=1)
    ]
    schema = {
        "rank": pl.Int64,
        "kind": pl.Utf8,
        "what": pl.Utf8,
        "per month": pl.Utf8,
        "range": pl.Utf8,
        "of moved": pl.Utf8,
        "by": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
