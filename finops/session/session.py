"""A working session on a store: the connection, the catalog, and its recorded revision.

Front ends (CLI, app, notebooks) open a session and call one function per action.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from finops.core import demo
from finops.core.demo import generate_demo
from finops.core.schema import TOKEN_CLASSES
from finops.core.store import connect, default_db_path
from finops.core.today import pinned_today, resolve_day, resolve_today
from finops.ingest import IngestReport, ingest_files
from finops.ingest._core import Progress
from finops.pricing import costing
from finops.pricing.allocation import (
    Allocation,
    default_teams_path,
    load_allocation,
    owned_rows_sql,
    owner_map,
    record_allocation,
    register_owner_map,
)
from finops.pricing.catalog import (
    Catalog,
    diff_revisions,
    list_revisions,
    resolve_revision,
    sync_catalog,
)
from finops.pricing.contracts import (
    Contracts,
    default_contracts_path,
    install_contracts,
    load_contracts,
)
from finops.session.queries import Store
from finops.session.readers import prepare_read_only

__all__ = [
    "Session",
    "catalog_listing",
    "ingest",
    "load_demo",
    "open_session",
    "price_history",
    "suggest_models",
    "write_demo_company",
]


@dataclass
class Session(Store):
    """A store opened with a catalog revision: the one query surface above `finops.pricing`.

    Every method runs on this session's connection, so a viewer restriction
    (`finops.session.access.restrict_to_teams`, temporary views over the usage tables) applies
    to all of them. `spend`, `totals`, `unpriced` and `priced_source` price at `revision_id`
    (`spend`, `totals` and `unpriced` take another `revision_id=`); `spend` and the ownership
    methods use this session's ownership map. The generic reads and writes (`query`, `rows`,
    `records`, `one`, `execute`, `transaction`, `register`) come from
    `finops.session.queries.Store`.
    """

    catalog: Catalog
    revision_id: int
    db: Path
    allocation: Allocation | None = None
    allocation_revision: int | None = None
    contracts: Contracts | None = None
    read_only: bool = False
    # set by finops.session.access.restrict_to_teams: the only teams this session sees
    viewer_teams: tuple[str, ...] | None = None

    # -- days -------------------------------------------------------------------------------

    def today(
        self, today: dt.date | None = None, *, before: dt.date | None = None
    ) -> dt.date | None:
        """`finops.core.today.resolve_today` on this session's usage: `today` if given, else
        FINOPS_TODAY, else the last day with data; `before` (exclusive) caps the answer.
        None only when nothing pins a day and the session sees no usage."""
        return resolve_today(self.con, today, before=before)

    def day(self, today: dt.date | None = None) -> dt.date:
        """`finops.core.today.resolve_day`: `today()`, or the calendar's day without usage."""
        return resolve_day(self.con, today)

    def day_span(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day with usage this session sees; (None, None) when empty."""
        return self.one("SELECT min(day), max(day) FROM daily_usage")

    def state_key(self) -> str:
        """A digest of what every derived view depends on: the usage this session sees (a
        fingerprint of the daily rollup), the catalog revision, the teams map and the
        contracts. Results cached under it are never served for another state."""
        count, digest = self.one("SELECT count(*), coalesce(sum(hash(d)), 0) FROM daily_usage AS d")
        parts = [
            str(self.revision_id),
            str(count),
            str(digest),
            self.allocation.content_hash if self.allocation is not None else "-",
            self.contracts.content_hash if self.contracts is not None else "-",
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]

    # -- spend ------------------------------------------------------------------------------

    def spend(self, by: list[str], **kwargs) -> pl.DataFrame:
        """`costing.spend` at this session's catalog revision and allocation map."""
        kwargs.setdefault("revision_id", self.revision_id)
        kwargs.setdefault("allocation", self.allocation)
        return costing.spend(self.con, by=by, **kwargs)

    def totals(self, **window) -> costing.SpendTotals:
        """`costing.spend_totals` (cost, unpriced rows and tokens, days) at this session's
        revision unless `revision_id` is given; `from_day`/`to_day` bound the days."""
        window.setdefault("revision_id", self.revision_id)
        return costing.spend_totals(self.con, **window)

    def unpriced(self, **window) -> pl.DataFrame:
        """`costing.unpriced`: usage the catalog revision cannot price, per provider and model."""
        window.setdefault("revision_id", self.revision_id)
        return costing.unpriced(self.con, **window)

    def priced_source(self) -> str:
        """SQL for the rollup priced at this session's revision (`costing.priced_source`),
        with parameters `revision_id`, `from_day` and `to_day`."""
        return costing.priced_source(self.con, self.revision_id)

    # -- ownership --------------------------------------------------------------------------

    def owner_map(self) -> pl.DataFrame:
        """`allocation.owner_map` of this session's map (which must be set) over its usage."""
        return owner_map(self.con, self.allocation)

    def register_owner_map(self) -> None:
        """Make the owner map of this session's map readable as `owner_map_view`."""
        register_owner_map(self.con, self.allocation)

    def owned_rows_sql(self, rows_sql: str) -> str:
        """`allocation.owned_rows_sql`: `rows_sql` with each row's `owner` from the map."""
        return owned_rows_sql(self.con, self.allocation, rows_sql)

    # -- catalog revisions ------------------------------------------------------------------

    def revisions(self) -> pl.DataFrame:
        """Every catalog revision the store has recorded, newest first."""
        return list_revisions(self.con)

    def resolve_revision(self, ref: str | int | None) -> int:
        """A revision id from its number, content-hash prefix or label; None → the latest."""
        return resolve_revision(self.con, ref)

    def diff_revisions(self, rev_a: int, rev_b: int) -> pl.DataFrame:
        """Price rows added, removed or changed between two revisions."""
        return diff_revisions(self.con, rev_a, rev_b)


@dataclass
class UploadReport(IngestReport):
    unpriced_models: list[str] = field(default_factory=list)
    #: set when more than 1% of the tokens on the days the upload covers are unpriced
    unpriced_warning: str | None = None


@contextmanager
def open_session(
    db: str | os.PathLike[str] | None = None,
    pricing: str | os.PathLike[str] | None = None,
    teams: str | os.PathLike[str] | None = None,
    contracts: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
) -> Iterator[Session]:
    """Open the store, record the catalog (and teams map) as revisions, refresh the rollup.

    `teams` defaults to env FINOPS_TEAMS, else a teams.yaml beside the store; without one,
    spend goes to the team each source states, or `unallocated`. `contracts` (env
    FINOPS_CONTRACTS, else a contracts.yaml beside the store) turns list cost into effective
    cost; without one, effective cost equals list cost.

    `read_only=True` is for readers (the app, reports) while another process may ingest: it
    never takes the write lock. A catalog (or teams map) the store has not recorded yet is
    recorded in a private in-memory copy for this session only, and a rollup built for other
    long-context thresholds is rebuilt in memory (a full scan; the next write fixes it in
    the store). Keep such sessions short: a writer waits for open readers to close.
    """
    teams = teams if teams is not None else default_teams_path(db)
    allocation = load_allocation(teams) if teams is not None else None
    contracts = contracts if contracts is not None else default_contracts_path(db)
    terms = load_contracts(contracts) if contracts is not None else None
    con = connect(db, read_only=read_only)
    try:
        install_contracts(con, terms)
        if read_only:
            catalog, revision_id, allocation_revision = prepare_read_only(con, pricing, allocation)
        else:
            catalog, revision_id = sync_catalog(con, pricing)
            costing.ensure_rollup(con, catalog)
            allocation_revision = record_allocation(con, allocation) if allocation else None
        yield Session(
            con=con,
            catalog=catalog,
            revision_id=revision_id,
            db=Path(db or default_db_path()),
            allocation=allocation,
            allocation_revision=allocation_revision,
            contracts=terms,
            read_only=read_only,
        )
    finally:
        con.close()


def ingest(
    session: Session,
    paths: list[str | Path],
    *,
    format_name: str | None = None,
    progress: Progress | None = None,
    replace_overlap: bool = False,
) -> UploadReport:
    """Ingest files as one upload, then list the models in them the catalog cannot price."""
    report = ingest_files(
        session.con,
        paths,
        thresholds=session.catalog.thresholds,
        hourly_providers=session.catalog.hourly_providers,
        format_name=format_name,
        progress=progress,
        replace_overlap=replace_overlap,
    )
    models = sorted({m for f in report.files if not f.cost_only for m in f.models})
    unknown = [m for m in models if not session.catalog.lookup(m)]
    days = [d for f in report.files if not f.cost_only for d in (f.first_day, f.last_day) if d]
    warning = None
    if days:
        totals = costing.spend_totals(
            session.con,
            revision_id=session.revision_id,
            from_day=min(days),
            to_day=max(days) + dt.timedelta(days=1),
        )
        warning = totals.unpriced_warning
    return UploadReport(
        ingest_id=report.ingest_id,
        files=report.files,
        unpriced_models=unknown,
        unpriced_warning=warning,
    )


def load_demo(session: Session, *, days: int = 270, seed: int = 7) -> UploadReport:
    """Generate the demo history and ingest it through the canonical Parquet path."""

    frame = generate_demo(days=days, seed=seed)
    with tempfile.TemporaryDirectory(prefix="finops-demo-") as tmp:
        path = Path(tmp) / f"demo-usage-seed{seed}.parquet"
        frame.write_parquet(path)
        return ingest(session, [path], format_name="canonical")


def write_demo_company(session: Session, folder: Path | None = None) -> list[str]:
    """Write the demo company's teams.yaml, contracts.yaml and evals.csv beside the store.

    Budgets and the Anthropic commitment are set from the demo's last two months of spend
    (allocated by the demo's own rules), so one team is over budget in the last month
    whatever `--days` was. A file already there with other content is kept, never
    overwritten. Returns one line per file saying what happened.
    """

    folder = folder or session.db.resolve().parent
    rules_only = folder / ".teams-demo-rules.yaml"
    rules_only.write_text(demo.demo_teams_yaml(), encoding="utf-8")
    try:
        allocation = load_allocation(rules_only)
    finally:
        rules_only.unlink()
    monthly = session.spend(["month", "team", "provider"], allocation=allocation)
    months = sorted(set(monthly["month"]))[-2:]

    def by(month, key: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for row in monthly.filter(pl.col("month") == month).iter_rows(named=True):
            out[row[key]] = out.get(row[key], Decimal(0)) + (row["cost_usd"] or Decimal(0))
        return out

    last = by(months[-1], "team") if months else {}
    before = by(months[0], "team") if len(months) > 1 else {}
    last.pop("unallocated", None)
    before.pop("unallocated", None)
    anthropic = by(months[-1], "provider").get("anthropic", Decimal(0)) if months else Decimal(0)
    commit = max(Decimal(100), (anthropic * Decimal("0.9") / 100).to_integral_value() * 100)
    files = {
        "teams.yaml": demo.demo_teams_yaml(demo.demo_budgets(last, before)),
        "contracts.yaml": demo.demo_contracts_yaml(commit),
        "evals.csv": demo.DEMO_EVALS_CSV,
    }
    lines = []
    for name, text in files.items():
        path = folder / name
        if path.exists() and path.read_text(encoding="utf-8") != text:
            lines.append(f"kept {path} (it exists; delete it to get the demo's)")
            continue
        path.write_text(text, encoding="utf-8")
        lines.append(f"wrote {path}")
    return lines


def suggest_models(session: Session, unpriced: pl.DataFrame) -> pl.DataFrame:
    """Add the closest catalog model names to an unpriced listing (typos, new snapshots)."""
    names_by_provider: dict[str, list[str]] = {}
    for m in session.catalog.models:
        names_by_provider.setdefault(m.provider, []).extend([m.id, *m.aliases])
    suggestions = []
    for provider, model in unpriced.select("provider", "model").iter_rows():
        pool = names_by_provider.get(provider) or [n for v in names_by_provider.values() for n in v]
        close = difflib.get_close_matches(model.lower(), pool, n=3, cutoff=0.5)
        suggestions.append(", ".join(dict.fromkeys(close)) or None)
    return unpriced.with_columns(pl.Series("closest_catalog_models", suggestions, dtype=pl.Utf8))


def catalog_listing(
    catalog: Catalog, *, provider: str | None = None, on: dt.date | None = None
) -> pl.DataFrame:
    """One row per model: its standard prices in force on `on` (default today), per Mtok."""
    on = on or pinned_today() or dt.date.today()
    rows = []
    for m in catalog.models:
        if provider and m.provider != provider:
            continue
        current = [
            p for p in m.periods if p.valid_from <= on and (p.valid_to is None or on < p.valid_to)
        ]
        period = current[0] if current else m.periods[-1]
        rates = period.rates.get(("standard", 0), {})
        rows.append(
            {
                "provider": m.provider,
                "model": m.id,
                "kind": m.kind,
                "input": rates.get("input"),
                "cache_read": rates.get("cache_read"),
                "output": rates.get("output"),
                "since": period.valid_from,
                "periods": len(m.periods),
                "deprecated_on": m.deprecated_on,
            }
        )
    return pl.DataFrame(
        rows, schema_overrides={k: pl.Decimal(38, 6) for k in ("input", "cache_read", "output")}
    )


def price_history(catalog: Catalog, model: str, *, provider: str | None = None) -> pl.DataFrame:
    """Every price period, service tier and long-context band of a model (USD per Mtok)."""
    name = model.strip().lower()
    matches = catalog.lookup(name, provider)
    if not matches:
        close = difflib.get_close_matches(name, [m.id for m in catalog.models], n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        msg = f"no model {model!r} in the catalog{hint}"
        raise LookupError(msg)
    if len(matches) > 1:
        msg = f"{model!r} is a model of several providers ({', '.join(m.provider for m in matches)}); give --provider"
        raise LookupError(msg)
    m = matches[0]
    rows = []
    for period in m.periods:
        for (tier, above), rates in period.rates.items():
            rows.append(
                {
                    "valid_from": period.valid_from,
                    "valid_to": period.valid_to,
                    "service_tier": tier,
                    "prompt_over_tokens": above or None,
                    **{cls: rates.get(cls) for cls in TOKEN_CLASSES},
                    "source": period.source,
                }
            )
    frame = pl.DataFrame(rows, schema_overrides={c: pl.Decimal(38, 6) for c in TOKEN_CLASSES})
    # drop token classes the model never prices, so the table stays readable
    keep = [
        c for c in frame.columns if c not in TOKEN_CLASSES or frame[c].null_count() < frame.height
    ]
    return frame.select(keep)
