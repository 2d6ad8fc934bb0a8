"""Streamlit glue shared by the pages: where the store is, cached library calls, the filter bar.

Results are cached on the store file's modification time (and the catalog, teams and
contracts files'), so a new upload shows at once and the app never holds the store open
between reruns (another process may be ingesting). `st.session_state` holds UI state only:
the filter choices that carry across pages and the review's present-mode position.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from finops.analysis.filters import FilterOptions, SpendFilter, filter_options
from finops.core import format as fmt
from finops.core.cells import neutralise_frame
from finops.pricing.catalog import Catalog, load_catalog
from finops.views import catalog as catalog_view
from finops.views import charts
from finops.views.catalog import CatalogOverview, RevisionImpact
from finops.views.catalog import catalog_overview as build_catalog_overview

if TYPE_CHECKING:
    from finops.analysis.opportunities import Opportunity
    from finops.analysis.simulate import Scenario, SimulationResult
    from finops.views.budgets import BudgetView
    from finops.views.forecast import SpendForecast
    from finops.views.simulation import SimulatorChoices
from finops.analysis.simulate import simulate
from finops.core.store import default_db_path
from finops.pricing.allocation import default_teams_path
from finops.pricing.catalog import default_pricing_dir
from finops.pricing.contracts import default_contracts_path
from finops.session.access import (
    AccessPolicy,
    Identification,
    identify,
    load_access,
    restrict_to_teams,
    visible_teams,
)
from finops.session.session import Session, open_session
from finops.views.anomalies import find_for_filter
from finops.views.budgets import budget_view
from finops.views.forecast import backtest_total, build_forecast
from finops.views.overview import Overview, build_overview
from finops.views.plans import default_plans_path, planned_outlook
from finops.views.review import MonthlyReview, build_review
from finops.views.savings import store_opportunities
from finops.views.simulation import simulator_choices as build
from finops.views.teams import TeamDetail, TeamsOverview, team_detail, teams_overview

__all__ = [
    "anomalies",
    "budgets",
    "catalog",
    "catalog_overview",
    "current_filter",
    "data_version",
    "filter_sidebar",
    "forecast",
    "forecast_backtest",
    "money",
    "opportunities",
    "options",
    "overview",
    "pricing_path",
    "require_store",
    "review",
    "revision_impact",
    "session",
    "show_section",
    "show_table",
    "simulation",
    "simulator_choices",
    "store_path",
    "store_version",
    "team",
    "teams",
    "viewer_identity",
    "viewer_teams",
]


def store_path() -> Path:
    return default_db_path()


def pricing_path() -> str | None:
    return os.environ.get("FINOPS_PRICING") or None


def store_version(db: Path) -> float:
    """Changes whenever the store file (or its WAL) changes: the cache key for results."""
    stamps = [p.stat().st_mtime_ns for p in (db, Path(f"{db}.wal")) if p.exists()]
    return float(max(stamps, default=0))


def _config_files() -> list[Path]:

    pricing = Path(pricing_path() or default_pricing_dir())
    files = sorted(pricing.glob("*.y*ml")) if pricing.is_dir() else []
    db = store_path()
    for path in (default_teams_path(db), default_contracts_path(db), default_plans_path(db)):
        if path is not None:
            files.append(path)
    return files


def data_version(db: Path) -> str:
    """The cache key of every result: the store's stamp, the catalog, teams, contracts files',
    and which teams the viewer may see (so one viewer's results never serve another)."""
    stamps = [str(store_version(db))]
    for path in _config_files():
        stamps.append(str(path.stat().st_mtime_ns) if path.exists() else "-")
    teams = _VIEWER_TEAMS.get()
    stamps.append("all" if teams is None else "teams=" + ",".join(teams))
    return "|".join(stamps)


# the teams the current viewer may see (None: all); set per script run by require_store
_VIEWER_TEAMS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "finops_viewer_teams", default=None
)


def viewer_identity(policy: AccessPolicy) -> Identification:
    """Who this request's visitor is: the OIDC login (`st.user`) when sign-in is configured,
    else the proxy's header when `finops app --trust-proxy` (or the policy) trusts it."""
    user = st.user
    oidc_configured = "is_logged_in" in user  # Streamlit adds it once [auth] is configured
    email = user.get("email") if oidc_configured and user.get("is_logged_in") else None
    return identify(
        policy,
        oidc_configured=oidc_configured,
        oidc_email=email,
        header_values=st.context.headers.get_all(policy.header) if policy.header else [],
        trust_proxy=os.environ.get("FINOPS_TRUST_PROXY") == "1",
    )


def _apply_access() -> None:
    """Decide what this viewer may see; stop the page for one who may see nothing."""
    policy = load_access(default_teams_path(store_path()))
    visitor = viewer_identity(policy) if policy else Identification(None)
    teams = visible_teams(policy, visitor.identity)
    _VIEWER_TEAMS.set(teams)
    if teams == []:
        if visitor.identity is None:
            st.error(f"No spend is shown to an unidentified visitor. {visitor.why_unknown}")
        else:
            st.error(
                f"{visitor.identity} is not listed as a viewer of any team. Ask a finops admin "
                "to add you to a team's viewers in teams.yaml."
            )
        st.stop()


def viewer_teams() -> list[str] | None:
    """The teams the current viewer may see (None: every team)."""
    return _VIEWER_TEAMS.get()


@contextmanager
def _open(db: str) -> Iterator[Session]:
    """A session that sees only what the current viewer may see."""
    # read-only: pages never take the write lock, so an ingest in another process can run
    with open_session(db, pricing_path(), read_only=True) as s:
        teams = _VIEWER_TEAMS.get()
        if teams is not None:
            restrict_to_teams(s, teams)
        yield s


def may_upload() -> bool:
    """Only a viewer who sees every team may load data (access control off: everyone)."""
    _apply_access()
    return _VIEWER_TEAMS.get() is None


@contextmanager
def session() -> Iterator[Session]:
    """A session on the store for one action (upload): opened, used, closed. Uploads are for
    viewers who see every team."""
    if _VIEWER_TEAMS.get() is not None:
        msg = "only a finops admin can upload data"
        raise PermissionError(msg)
    with open_session(str(store_path()), pricing_path()) as s:
        yield s


def require_store(title: str) -> tuple[str, str]:
    """Show the page title; stop with how to load data when there is no store yet.

    Returns (db, data version) for the cached calls.
    """
    db = store_path()
    st.title(title)
    _apply_access()
    if not db.exists():
        st.info(
            f"No store at `{db}` yet. Load data with `finops demo` or `finops ingest FILE`, "
            "or on the Upload page."
        )
        st.stop()
    return str(db), data_version(db)


def money(value) -> str:
    return fmt.usd(value)


# --- cached library calls (one per action) ---------------------------------------------------


@st.cache_data(show_spinner="Reading the store…")
def options(db: str, version: str) -> FilterOptions:
    with _open(db) as s:
        return filter_options(s)


@st.cache_data(show_spinner="Pricing usage…")
def overview(db: str, version: str, flt: SpendFilter) -> Overview:
    with _open(db) as s:
        return build_overview(s, filters=flt)


@st.cache_data(show_spinner="Pricing usage…")
def teams(db: str, version: str, flt: SpendFilter) -> TeamsOverview:
    with _open(db) as s:
        return teams_overview(s, flt)


@st.cache_data(show_spinner="Pricing usage…")
def team(db: str, version: str, name: str, flt: SpendFilter) -> TeamDetail:
    with _open(db) as s:
        return team_detail(s, name, flt)


@st.cache_data(show_spinner="Building the review…")
def review(db: str, version: str, month: dt.date, flt: SpendFilter) -> MonthlyReview:
    with _open(db) as s:
        return build_review(s, month, filters=flt)


@st.cache_resource(show_spinner="Loading the price catalog…")
def catalog(version: str) -> Catalog:
    """The catalog the app prices with (loaded once per change of its files)."""
    return load_catalog(pricing_path())


@st.cache_data(show_spinner="Reading the catalog…")
def catalog_overview(db: str, version: str) -> CatalogOverview:
    with _open(db) as s:
        return build_catalog_overview(s)


@st.cache_data(show_spinner="Repricing the history…")
def revision_impact(db: str, version: str, rev_a: int, rev_b: int) -> RevisionImpact:
    with _open(db) as s:
        return catalog_view.revision_impact(s, rev_a, rev_b)


@st.cache_data(show_spinner="Forecasting…")
def forecast(
    db: str, version: str, flt: SpendFilter, split: str | None, horizon: int | None, method: str
) -> SpendForecast:

    with _open(db) as s:
        return build_forecast(s, flt, split=split, horizon=horizon, method=method)


@st.cache_data(show_spinner="Pricing the planned migrations…")
def planned(db: str, version: str) -> pl.DataFrame | None:
    """As is and as planned by month, from the plans.yaml beside the store (or FINOPS_PLANS);
    None without one."""
    path = default_plans_path(db)
    if path is None:
        return None
    with _open(db) as s:
        return planned_outlook(s, path)


@st.cache_data(show_spinner="Backtesting…")
def forecast_backtest(db: str, version: str, flt: SpendFilter, method: str) -> dict:

    with _open(db) as s:
        return backtest_total(s, flt, method=method)


@st.cache_data(show_spinner="Looking for anomalies…")
def anomalies(
    db: str, version: str, flt: SpendFilter, first_day: dt.date, last_day: dt.date
) -> pl.DataFrame:

    with _open(db) as s:
        return find_for_filter(s, flt, first_day=first_day, last_day=last_day)


@st.cache_data(show_spinner="Simulating…")
def simulation(
    db: str, version: str, scenario: Scenario, as_billed: bool = False
) -> SimulationResult:

    with _open(db) as s:
        return simulate(s, scenario, as_billed=as_billed)


@st.cache_data(show_spinner="Reading the models in use…")
def simulator_choices(db: str, version: str) -> SimulatorChoices:

    with _open(db) as s:
        return build(s)


@st.cache_data(show_spinner="Looking for savings (a minute on a large store)…")
def opportunities(db: str, version: str) -> list[Opportunity]:

    with _open(db) as s:
        return store_opportunities(s)


@st.cache_data(show_spinner="Checking budgets and alerts…")
def budgets(db: str, version: str, month: dt.date) -> BudgetView:

    with _open(db) as s:
        return budget_view(s, month)


# --- the filter bar (UI state that carries across pages) --------------------------------------

# permanent keys hold the choices; widget keys are re-seeded from them on every page, because
# Streamlit forgets a widget's state on a page that does not draw it
_KEYS = {
    "range": "filter_range",
    "teams": "filter_teams",
    "providers": "filter_providers",
    "models": "filter_models",
}


def _keep(name: str) -> None:
    st.session_state[_KEYS[name]] = st.session_state[f"_w_{name}"]


def _clear() -> None:
    for key in _KEYS.values():
        st.session_state.pop(key, None)


def filter_sidebar(opts: FilterOptions, *, dates: bool = True) -> SpendFilter:
    """The sidebar filters (date range, team, provider, model); returns the filter chosen."""
    state = st.session_state
    bar = st.sidebar
    bar.header("Filters")
    if dates and opts.first_day is not None:
        span = (opts.first_day, opts.last_day)
        chosen = state.get(_KEYS["range"])
        if chosen is not None:
            # keep a chosen range inside the data (a new upload may have moved it)
            chosen = tuple(min(max(d, span[0]), span[1]) for d in chosen)
        state["_w_range"] = chosen or span
        bar.date_input(
            "Date range",
            min_value=span[0],
            max_value=span[1],
            key="_w_range",
            on_change=_keep,
            args=("range",),
        )
    for name, label, values in (
        ("teams", "Teams", opts.teams),
        ("providers", "Providers", opts.providers),
        ("models", "Models", opts.models),
    ):
        state[f"_w_{name}"] = [v for v in state.get(_KEYS[name], []) if v in values]
        bar.multiselect(
            label,
            values,
            key=f"_w_{name}",
            on_change=_keep,
            args=(name,),
            placeholder=f"All {label.lower()}",
        )
    bar.button("Clear filters", on_click=_clear)
    return current_filter(dates=dates)


def current_filter(*, dates: bool = True) -> SpendFilter:
    """The filter the sidebar holds (dates as [from, to) for the library)."""
    state = st.session_state
    rng = state.get(_KEYS["range"]) if dates else None
    from_day = to_day = None
    if rng:
        from_day = rng[0]
        if len(rng) > 1:
            to_day = rng[1] + dt.timedelta(days=1)
    return SpendFilter(
        from_day=from_day,
        to_day=to_day,
        teams=tuple(state.get(_KEYS["teams"], ())),
        providers=tuple(state.get(_KEYS["providers"], ())),
        models=tuple(state.get(_KEYS["models"], ())),
    )


_PERCENT_COLUMNS = ("share", "cache_hit_rate")
_RATE_COLUMNS = ("usd_per_1k_requests", "usd_per_mtok")
_LABELS = {
    "cost_usd": "cost",
    "effective_cost_usd": "effective cost",
    "usd_per_1k_requests": "$ / 1K requests",
    "usd_per_mtok": "$ / 1M tokens",
    "cache_hit_rate": "cache-hit rate",
    "unpriced_rows": "unpriced rows",
    "unpriced_tokens": "unpriced tokens",
    "used_pct": "used (% of budget)",
    "projected_pct": "projected (% of budget)",
    "projected_lo80_usd": "projected, 80% low",
    "projected_hi80_usd": "projected, 80% high",
    "list_usd": "list cost",
    "actual_usd": "spent",
    # forecast tables: the series, its mean and its interval bounds
    "key": "series",
    "mean": "expected",
    "lo80": "80% low",
    "hi80": "80% high",
    "lo95": "95% low",
    "hi95": "95% high",
}


def _label(name: str) -> str:
    """A column header people read: cost_usd → Cost, used_pct → Used, first_day → First day."""
    if name in _LABELS:
        text = _LABELS[name]
    else:
        text = name
        for suffix in ("_usd", "_pct"):
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
        text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def colors(opts: FilterOptions) -> dict[str, str]:
    """The colour of every team, provider and model in the store: the same on every page."""
    return charts.color_map([*opts.teams, *opts.providers, *opts.models])


_INT64_MAX = 2**63 - 1


def _displayable_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Sums of counts come as Int128, which the browser's table cannot take: Int64 when every
    value fits (always, short of 9.2 × 10^18), else Float64 (shown to 15 digits)."""
    wide = [n for n, d in frame.schema.items() if d == pl.Int128]
    fits = {n: frame[n].abs().max() is None or frame[n].abs().max() <= _INT64_MAX for n in wide}
    return frame.with_columns(pl.col(n).cast(pl.Int64 if fits[n] else pl.Float64) for n in wide)


def show_table(frame: pl.DataFrame, *, money_columns: tuple[str, ...] = ()) -> None:
    """A frame as a table people read: money as $1,234.56, percentages with %, months as
    "Dec 2025", counts with separators, readable headers, and "—" where there is no value."""
    if not isinstance(frame, pl.DataFrame):
        frame = pl.DataFrame(frame)
    frame = _displayable_counts(frame)
    percent = [c for c in _PERCENT_COLUMNS if c in frame.columns]
    # amounts (by name, not every decimal: a price per 1M tokens does not add up)
    money = [
        name
        for name, dtype in frame.schema.items()
        if name not in _RATE_COLUMNS
        and dtype.is_numeric()
        and (name in money_columns or name.endswith("_usd") or name.startswith("usd_"))
    ]
    # the cents the same table prints in the CLI (rows footing to their total), and its
    # toolbar downloads CSV: text a spreadsheet would run is made inert first
    shown = neutralise_frame(fmt.frame_in_cents(frame, money))
    config: dict = {}
    columns = []
    for name, dtype in shown.schema.items():
        label = _label(name)
        column = pl.col(name)
        has_nulls = shown[name].null_count() > 0
        if name in _RATE_COLUMNS:
            column = column.cast(pl.Float64)
            kind = st.column_config.NumberColumn(label, format="$%.2f")
            text = fmt.rate
        elif name in money:  # amounts, in the cents rounded above
            column = column.cast(pl.Float64)
            kind = st.column_config.NumberColumn(label, format="dollar")
            text = fmt.usd
        elif isinstance(dtype, pl.Decimal) and not name.endswith("_pct"):
            # a price per unit (per 1M tokens): every digit, $0.075, never rounded to a cent
            column = column.cast(pl.Float64)
            kind = st.column_config.NumberColumn(label, format="$%g")
            text = lambda v: "$" + format(v.normalize(), "f")
        elif name in percent:
            column = column.cast(pl.Float64) * 100
            kind = st.column_config.NumberColumn(label, format="%.1f%%")
            text = fmt.share
        elif name.endswith("_pct") and dtype.is_numeric():
            column = column.cast(pl.Float64)
            kind = st.column_config.NumberColumn(label, format="%.1f%%")
            text = lambda v: fmt.pct(v, signed=False)
        elif dtype == pl.Date and name == "month":
            kind = st.column_config.DateColumn(label, format="MMM YYYY")
            text = fmt.month_label
        elif dtype == pl.Date:
            kind = st.column_config.DateColumn(label, format="YYYY-MM-DD")
            text = str
        elif isinstance(dtype, pl.Datetime):
            kind = st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
            text = lambda v: f"{v:%Y-%m-%d %H:%M}"
        elif dtype.is_integer():
            kind = st.column_config.NumberColumn(label, format="localized")
            text = fmt.count
        elif dtype.is_float():
            kind = st.column_config.NumberColumn(label, format="%.2f")
            text = lambda v: f"{v:,.2f}"
        else:
            kind = st.column_config.TextColumn(label)
            text = str
        if has_nulls:
            # a missing value reads "—", never "None": the column is shown as its text
            values = [None if v is None else text(v) for v in shown[name].to_list()]
            column = pl.Series(name, values, pl.Utf8).fill_null("—")
            kind = st.column_config.TextColumn(label)
        config[name] = kind
        columns.append(column if isinstance(column, pl.Series) else column.alias(name))
    shown = shown.with_columns(columns) if columns else shown
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def show_section(section) -> None:
    """One review section (finops.views.review.Section): text, metrics, charts, tables."""
    st.subheader(section.title)
    for paragraph in section.text:
        st.markdown(paragraph.replace("$", "\\$"))
    if section.metrics:
        for start in range(0, len(section.metrics), 4):
            row = section.metrics[start : start + 4]
            for col, m in zip(st.columns(4), row, strict=False):
                col.metric(m.label, m.value, m.delta, delta_color=m.delta_color, help=m.help)
    for index, fig in enumerate(section.figures):
        st.plotly_chart(fig, width="stretch", key=f"{section.id}-chart-{index}")
    for table in section.tables:
        if table.frame.is_empty():
            st.markdown(f"**{table.caption}:** {table.empty}")
            continue
        st.caption(table.caption)
        st.dataframe(
            table.frame,
            hide_index=True,
            width="stretch",
            column_config={c: st.column_config.TextColumn(c.strip()) for c in table.frame.columns},
        )
