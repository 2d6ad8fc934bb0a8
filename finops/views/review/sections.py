"""The review laid out as sections: text, headline metrics, tables (formatted text) and charts.

The Streamlit page, the Markdown export and the HTML export all render these same sections.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal

import plotly.graph_objects as go
import polars as pl

from finops.analysis.forecast.outlook import Projection
from finops.core.format import count as _int
from finops.core.format import pct, plural, rows_and_tokens, signed_usd, usd
from finops.core.format import rate as _rate
from finops.core.format import share as _share
from finops.views import charts
from finops.views.review import figures
from finops.views.review.build import TOP_MOVERS, MonthlyReview

__all__ = ["SECTIONS", "Metric", "Section", "Table", "review_sections"]

#: (id, title) of every section, in order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("actions", "What to act on"),
    ("total", "Total and change"),
    ("drivers", "Why it changed: volume, mix and price"),
    ("movers", "Top movers"),
    ("models", "New and retired models"),
    ("anomalies", "Anomalies of the month"),
    ("coverage", "Unallocated and unpriced usage"),
    ("catalog", "Catalog price changes effective this month"),
    ("unit_economics", "Unit economics"),
    ("outlook", "Next month: forecast and budget"),
)


@dataclass(frozen=True)
class Metric:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    delta_color: str = "inverse"  # spend going up is shown red; "normal" where up is good


@dataclass(frozen=True)
class Table:
    caption: str
    frame: pl.DataFrame  # every column already formatted as text
    empty: str = "None this month."  # what to say instead of an empty table


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    text: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[go.Figure] = field(default_factory=list)


def _fmt(frame: pl.DataFrame, formats: dict[str, tuple[str, callable]]) -> pl.DataFrame:
    """Rename and format columns: {column: (header, formatter)}; other columns are dropped."""
    data = {}
    for column, (header, formatter) in formats.items():
        data[header] = [formatter(v) for v in frame[column].to_list()]
    return pl.DataFrame(data, schema={h: pl.Utf8 for h, _ in formats.values()})


def _per_mtok(value: Decimal | None) -> str:
    """A catalog rate per 1M tokens, without trailing zeros: $0.15, $2.5."""
    return "—" if value is None else "$" + format(value.normalize(), "f")


def _str(value) -> str:
    return "—" if value is None else str(value)


def _effects_table(frame: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
    formats = {k: (header, _str) for k, header in keys.items()}
    formats.update(
        {
            "base_usd": ("last month", usd),
            "current_usd": ("this month", usd),
            "change_usd": ("change", signed_usd),
            "volume_usd": ("volume", signed_usd),
            "mix_usd": ("mix", signed_usd),
            "price_usd": ("price", signed_usd),
        }
    )
    return _fmt(frame, formats)


def _movers_table(frame: pl.DataFrame) -> pl.DataFrame:
    with_pct = frame.with_columns(
        pl.when(pl.col("base_usd") > 0)
        .then(pl.col("change_usd").cast(pl.Float64) / pl.col("base_usd").cast(pl.Float64) * 100)
        .otherwise(None)
        .alias("change_pct")
    )
    return _fmt(
        with_pct,
        {
            "team": ("team", _str),
            "provider": ("provider", _str),
            "model": ("model", _str),
            "base_usd": ("last month", usd),
            "current_usd": ("this month", usd),
            "change_usd": ("change", signed_usd),
            "change_pct": ("change %", lambda v: "new" if v is None else pct(v)),
        },
    )


def _movers(cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The largest increases and decreases of `cells_in_cents()`, in the cents every other
    table shows."""
    up = cells.filter(pl.col("change_usd") > 0).sort("change_usd", descending=True)
    down = cells.filter(pl.col("change_usd") < 0).sort("change_usd")
    return up.head(TOP_MOVERS), down.head(TOP_MOVERS)


def _model_cents(table: pl.DataFrame) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(provider, model) → (last month, this month) in the By model table's cents."""
    return {
        (row["provider"], row["model"]): (row["base_usd"], row["current_usd"])
        for row in table.iter_rows(named=True)
    }


def _names(frame: pl.DataFrame, column: str = "model", limit: int = 3) -> str:
    names = frame[column].head(limit).to_list()
    more = frame.height - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _largest(frame: pl.DataFrame, key: str) -> str | None:
    if frame.is_empty():
        return None
    row = frame.row(0, named=True)
    return f"{row[key]} ({signed_usd(row['change_usd'])})"


def _summary(r: MonthlyReview, movers_up: pl.DataFrame, movers_down: pl.DataFrame) -> list[str]:
    """`movers_up`, `movers_down`: :func:`_movers` of `r.cells_in_cents()`."""
    lines = []
    b = r.bridge_cents()
    direction = "up" if b["change_usd"] > 0 else "down" if b["change_usd"] < 0 else "unchanged at"
    period = (
        f"{r.month:%B %Y}"
        if r.complete
        else f"{r.month:%B %Y} to date ({r.days_covered} of {r.days} days, through {r.as_of})"
    )
    if r.prev_total_usd:
        lines.append(
            f"AI spend in {period} was {usd(b['total_usd'])}, {direction} "
            f"{usd(abs(b['change_usd']))} ({pct(r.change_pct)}) on {r.prev_month:%B} "
            f"({usd(b['prev_total_usd'])}). Per day it was {usd(r.per_day_usd)} against "
            f"{usd(r.prev_per_day_usd)} ({pct(r.per_day_change_pct)}; "
            f"{r.days_covered} days against {r.prev_days})."
        )
        parts = sorted(
            (("volume", b["volume_usd"]), ("mix", b["mix_usd"]), ("price", b["price_usd"])),
            key=lambda p: abs(p[1]),
            reverse=True,
        )
        lines.append(
            "Of the change, "
            + ", ".join(f"{name} contributed {signed_usd(value)}" for name, value in parts)
            + f"; the largest driver was {parts[0][0]}."
        )
    else:
        lines.append(f"AI spend in {period} was {usd(b['total_usd'])}; there is no prior month.")
    up, down = _largest(movers_up, "model"), _largest(movers_down, "model")
    if up:
        row = movers_up.row(0, named=True)
        lines.append(
            f"The largest increase was {row['team']} on {row['model']} "
            f"({signed_usd(row['change_usd'])})"
            + (
                f"; the largest decrease {movers_down['team'][0]} on {down}."
                if down
                else "; nothing decreased."
            )
        )
    new, retired = r.new_models.height, r.retired_models.height
    if new or retired:
        parts = []
        if new:
            verb = "was" if new == 1 else "were"
            parts.append(
                f"{plural(new, 'model')} {verb} used for the first time ({_names(r.new_models)})"
            )
        if retired:
            parts.append(
                f"{plural(retired, 'model')} stopped being used ({_names(r.retired_models)})"
            )
        lines.append(" and ".join(parts) + ".")
    if r.anomalies.height:
        n = r.anomalies.height
        lines.append(
            f"{plural(n, 'anomaly', 'anomalies')} {'was' if n == 1 else 'were'} flagged "
            "during the month."
        )
    in_use = r.catalog_changes.filter(pl.col("cost_usd_this_month").is_not_null())
    if in_use.height:
        n = in_use.height
        lines.append(
            f"{plural(n, 'catalog price change')} took effect this month on models we use: "
            f"{_names(in_use)}."
        )
    if r.unpriced_rows:
        lines.append(
            f"Unpriced usage: {rows_and_tokens(r.unpriced_rows, r.unpriced_tokens)} "
            f"({_share(r.unpriced_token_share)} of tokens) are not in these totals."
        )
    if r.unallocated_usd:
        lines.append(
            f"{usd(r.unallocated_usd)} ({_share(r.unallocated_share)}) is not allocated to a team."
        )
    fc = r.forecast
    if fc is not None and fc.available:
        text = f"{fc.period_start:%B} is forecast at {usd(fc.mean)}"
        if fc.lo80 is not None:
            text += f" (80% interval {usd(fc.lo80)} to {usd(fc.hi80)})"
        if r.budget_usd is not None:
            judged = _on_budget_basis(r, fc)
            if judged is not fc:
                text += (
                    f" at list prices; after contract discounts at {r.month:%B}'s rate "
                    f"({_rate_pct(r)} of list) about {usd(judged.mean)}"
                )
            text += (
                f", against a budget of {usd(r.budget_usd)} "
                f"({_budget_verdict(judged, r.budget_usd)})"
            )
        lines.append(text + ".")
    return lines


def _actions(r: MonthlyReview, by_team: pl.DataFrame) -> list[str]:
    """The three things to act on, most pressing first: teams over budget, retiring models
    and anomalies by the dollars at stake, then the largest savings opportunities.
    `by_team`: `r.effects_table("team")`."""
    pressing: list[tuple[int, Decimal, str]] = []  # (rank, dollars, sentence)
    current = {row["team"]: row["current_usd"] for row in by_team.iter_rows(named=True)}
    for team, budget in sorted(r.team_budgets.items()):
        # judged as the Budgets page judges it: effective cost with contracts, list beside
        spend = r.team_spent.get(team)
        spent = spend.paid if spend else current.get(team)
        judged = spend.exact if spend else spent
        if judged is not None and judged > budget:
            paid = usd(spent)
            if r.judged_on_effective and spend and spend.listed != spend.paid:
                paid += f" at effective cost ({usd(spend.listed)} at list)"
            pressing.append(
                (
                    0,
                    spent - budget,
                    (
                        f"Team {team} spent {paid} against its {usd(budget)} budget "
                        f"({usd(spent - budget)} over): agree a higher budget or a cut with its owner."
                    ),
                )
            )
    found = r.anomalies
    if found.height:
        seen: set[str] = set()
        ranked = found.filter(pl.col("scope") != "api_key").sort(
            pl.col("impact_usd").abs(), descending=True, nulls_last=True
        )
        for row in ranked.iter_rows(named=True):
            key = f"{row['check']}:{row['key']}"
            if key in seen or row["impact_usd"] is None:
                continue
            seen.add(key)
            what = {
                "spike": f"a spend spike on {row['day']:%b %-d}",
                "drift": "a rising cost per request",
                "deprecation": "a model that is retiring",
                "new_model": "a model used for the first time",
            }.get(row["check"], row["check"])
            pressing.append(
                (
                    1,
                    abs(Decimal(row["impact_usd"])),
                    (
                        f"Look into {what} ({row['scope']} {row['key']}, "
                        f"{usd(abs(row['impact_usd']))} at stake): {row['detail']}."
                    ),
                )
            )
    for o in r.opportunities[:3]:
        low, high = o.savings_usd_low, o.savings_usd_high
        span = f" ({usd(low)} to {usd(high)})" if low is not None and high is not None else ""
        pressing.append(
            (
                2,
                o.savings_usd,
                (
                    f"Save about {usd(o.savings_usd)} a month{span}: {o.title}. "
                    f"Check it with `{o.command}`."
                ),
            )
        )
    if not pressing:
        return ["Nothing needs action: no team is over budget, no anomaly, no saving found."]
    # one of each kind first (the largest), then the largest of what is left
    firsts = {}
    for item in sorted(pressing, key=lambda p: (p[0], -p[1])):
        firsts.setdefault(item[0], item)
    chosen = list(firsts.values())
    rest = sorted((p for p in pressing if p not in chosen), key=lambda p: -p[1])
    chosen = sorted(chosen, key=lambda p: (p[0], -p[1]))[:3]
    chosen += rest[: 3 - len(chosen)]
    return [f"{i}. {text}" for i, (_, _, text) in enumerate(chosen, start=1)]


def _on_budget_basis(r: MonthlyReview, fc: Projection) -> Projection:
    """The forecast on the basis budgets are judged on: with contracts, the list forecast at
    the review month's effective rate (as the Budgets page projects the days left)."""
    if not r.judged_on_effective:
        return fc
    rate = float(r.effective_rate)

    def scaled(value: float | None) -> float | None:
        return None if value is None else value * rate

    return dataclasses.replace(fc, mean=scaled(fc.mean), lo80=scaled(fc.lo80), hi80=scaled(fc.hi80))


def _rate_pct(r: MonthlyReview) -> str:
    return f"{r.effective_rate * 100:.1f}%"


def _budget_verdict(fc: Projection, budget: Decimal) -> str:
    b = float(budget)
    if fc.lo80 is not None and fc.lo80 > b:
        return "likely over budget"
    if fc.mean > b:
        return "over budget at the forecast's mean"
    if fc.hi80 is not None and fc.hi80 > b:
        return "within budget at the mean, over at the top of the interval"
    return "within budget"


def _change_metric(
    ue: pl.DataFrame, column: str, label: str, formatter, *, points: bool = False
) -> Metric:
    """The all-teams value of a unit-economics column, with its change on last month
    (relative, or in percentage points for a rate such as the cache-hit rate)."""
    if ue.is_empty():
        return Metric(label, "—")
    now, before = ue[column][0], ue[f"prev_{column}"][0]
    delta = None
    if points and now is not None and before is not None:
        delta = f"{(now - before) * 100:+.1f} pts vs last month"
    elif now is not None and before:
        delta = f"{pct((now - before) / before * 100)} vs last month"
    return Metric(
        label,
        formatter(now),
        delta,
        help=f"last month {formatter(before)}",
        delta_color="normal" if points else "inverse",
    )


def review_sections(r: MonthlyReview) -> list[Section]:
    """The review as sections (in `SECTIONS` order): text, metrics, tables and charts."""
    titles = dict(SECTIONS)
    # the cents tables, made once: several sections read them
    by_team = r.effects_table("team")
    by_model = r.effects_table("model")
    movers_up, movers_down = _movers(r.cells_in_cents())
    out: list[Section] = []
    out.append(Section("summary", titles["summary"], text=_summary(r, movers_up, movers_down)))
    out.append(Section("actions", titles["actions"], text=_actions(r, by_team)))
    model_cents = _model_cents(by_model)
    new_models = r.new_models.with_columns(
        pl.Series(
            "cost_usd",
            [
                model_cents.get((p, m), (None, None))[1]
                for p, m in r.new_models.select("provider", "model").rows()
            ],
            pl.Decimal(38, 2),
        )
    )
    retired_models = r.retired_models.with_columns(
        pl.Series(
            "prev_cost_usd",
            [
                model_cents.get((p, m), (None, None))[0]
                for p, m in r.retired_models.select("provider", "model").rows()
            ],
            pl.Decimal(38, 2),
        )
    )

    b = r.bridge_cents()
    total_metrics = [
        Metric(
            f"Total {r.month:%B %Y}" + ("" if r.complete else " to date"),
            usd(b["total_usd"]),
            None
            if not r.prev_total_usd
            else f"{signed_usd(b['change_usd'])} ({pct(r.change_pct)})",
        ),
        Metric(f"Total {r.prev_month:%B %Y}", usd(b["prev_total_usd"])),
        Metric(
            "Per day",
            usd(r.per_day_usd),
            None if r.per_day_change_pct is None else f"{pct(r.per_day_change_pct)} per day",
            help=f"{r.days_covered} days against {r.prev_days}",
        ),
        Metric(f"Per day {r.prev_month:%B}", usd(r.prev_per_day_usd)),
    ]
    total_text = []
    if r.effective_usd != r.total_usd or r.prev_effective_usd != r.prev_total_usd:
        total_text.append(
            f"After contract discounts (effective cost): {usd(r.effective_usd)} against "
            f"{usd(r.prev_effective_usd)}."
        )
    if not r.complete:
        total_text.append(
            f"The store has data through {r.as_of}: the month is {r.days_covered} of {r.days} "
            "days, so compare per day."
        )
    out.append(
        Section(
            "total",
            titles["total"],
            text=total_text,
            metrics=total_metrics,
            figures=[figures.daily_vs_last_month(r)],
        )
    )

    out.append(
        Section(
            "drivers",
            titles["drivers"],
            text=[
                (
                    "Volume: the change had every team and model grown at the overall token growth "
                    "rate, at last month's prices. Mix: tokens moving between teams and models at "
                    "last month's prices. Price: each team-model's change in cost per token "
                    "(catalog prices and token make-up: cache hits, output share, batch). "
                    "The three add up to the change exactly; cents are allocated so that every "
                    "row and column foots to the totals shown."
                )
            ],
            metrics=[
                Metric("Change", signed_usd(b["change_usd"])),
                Metric("Volume effect", signed_usd(b["volume_usd"])),
                Metric("Mix effect", signed_usd(b["mix_usd"])),
                Metric("Price effect", signed_usd(b["price_usd"])),
            ],
            tables=[
                Table("By team", _effects_table(by_team, {"team": "team"})),
                Table(
                    "By model",
                    _effects_table(by_model, {"provider": "provider", "model": "model"}),
                ),
            ],
            figures=[
                figures.bridge_waterfall(r),
                charts.effects_by(by_team, "team"),
            ],
        )
    )

    out.append(
        Section(
            "movers",
            titles["movers"],
            text=[f"Team and model pairs with the largest change, top {TOP_MOVERS} each way."],
            tables=[
                Table("Largest increases", _movers_table(movers_up), "Nothing increased."),
                Table("Largest decreases", _movers_table(movers_down), "Nothing decreased."),
            ],
            figures=[charts.movers(movers_up, movers_down)]
            if movers_up.height or movers_down.height
            else [],
        )
    )

    out.append(
        Section(
            "models",
            titles["models"],
            metrics=[
                Metric("New models", str(r.new_models.height)),
                Metric("Retired models", str(r.retired_models.height)),
            ],
            tables=[
                Table(
                    "Used for the first time this month",
                    _fmt(
                        new_models,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "first_day": ("first used", _str),
                            "cost_usd": ("cost this month", usd),
                            "requests": ("requests", _int),
                        },
                    ),
                    "No model was used for the first time this month.",
                ),
                Table(
                    "Used last month, not this month",
                    _fmt(
                        retired_models,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "last_day": ("last used", _str),
                            "prev_cost_usd": ("cost last month", usd),
                        },
                    ),
                    "Every model used last month was used this month.",
                ),
            ],
        )
    )

    found = r.anomalies
    out.append(
        Section(
            "anomalies",
            titles["anomalies"],
            text=[
                (
                    "Spikes, unit-cost drift, first use of a model and deprecations, per team "
                    "and per model (API-key findings are on the Anomalies page)."
                )
            ]
            + [n for n in r.notes if n.startswith("Anomalies")]
            + ([] if found.height else ["No anomalies were found in the month."]),
            metrics=[Metric("Findings", str(found.height))],
            tables=[
                Table(
                    "Findings (largest impact first within each day)",
                    _fmt(
                        found.head(25),
                        {
                            "day": ("day", _str),
                            "check": ("check", _str),
                            "scope": ("scope", _str),
                            "key": ("key", _str),
                            "impact_usd": (
                                "impact",
                                lambda v: "—" if v is None else signed_usd(v),
                            ),
                            "detail": ("detail", _str),
                        },
                    ),
                )
            ]
            if found.height
            else [],
        )
    )

    out.append(
        Section(
            "coverage",
            titles["coverage"],
            text=[
                (
                    "Unpriced usage has no catalog price: it is counted here and never added as $0. "
                    "Unallocated spend has no team (add a rule to teams.yaml)."
                )
            ]
            + [n for n in r.notes if n.startswith("The unpriced")],
            metrics=[
                Metric("Unallocated", f"{usd(r.unallocated_usd)} ({_share(r.unallocated_share)})"),
                Metric("Unpriced rows", _int(r.unpriced_rows)),
                Metric("Unpriced tokens", _int(r.unpriced_tokens)),
                Metric("Unpriced share of tokens", _share(r.unpriced_token_share)),
            ],
            tables=[
                Table(
                    "Unpriced usage this month",
                    _fmt(
                        r.usage_rows_unpriced,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "reason": ("reason", _str),
                            "rows": ("rows", _int),
                            "tokens": ("tokens", _int),
                        },
                    ),
                )
            ]
            if r.usage_rows_unpriced.height
            else [],
        )
    )

    changes = r.catalog_changes
    shown = changes.filter(pl.col("cost_usd_this_month").is_not_null()).with_columns(
        pl.Series(
            "cost_usd_this_month",
            [
                model_cents.get((p, m), (None, None))[1]
                for p, m in changes.filter(pl.col("cost_usd_this_month").is_not_null())
                .select("provider", "model")
                .rows()
            ],
            pl.Decimal(38, 2),
        )
    )
    others = changes.height - shown.height
    out.append(
        Section(
            "catalog",
            titles["catalog"],
            text=[
                (
                    f"Prices that changed in {r.month:%B %Y} on models we use: "
                    f"{plural(shown.height, 'price period')}"
                    + (
                        f" ({plural(others, 'other')} in the catalog touch models we do not use)"
                        if others
                        else ""
                    )
                    + ". Rates are standard-tier USD per 1M tokens."
                )
            ],
            tables=[
                Table(
                    "Price periods starting this month",
                    _fmt(
                        shown,
                        {
                            "provider": ("provider", _str),
                            "model": ("model", _str),
                            "valid_from": ("from", _str),
                            "change": ("change", _str),
                            "input_before": ("input before", _per_mtok),
                            "input_after": ("input after", _per_mtok),
                            "output_before": ("output before", _per_mtok),
                            "output_after": ("output after", _per_mtok),
                            "cost_usd_this_month": ("our spend this month", usd),
                        },
                    ),
                    "No price change this month touched a model we use.",
                )
            ],
        )
    )

    ue = r.unit_economics
    out.append(
        Section(
            "unit_economics",
            titles["unit_economics"],
            text=[
                (
                    "Cost per 1K requests, cost per 1M priced tokens, and the share of prompt tokens "
                    "read from the prompt cache, this month against last."
                )
            ],
            metrics=[
                _change_metric(ue, "usd_per_1k_requests", "Cost per 1K requests", _rate),
                _change_metric(ue, "usd_per_mtok", "Cost per 1M tokens", _rate),
                _change_metric(ue, "cache_hit_rate", "Cache-hit rate", _share, points=True),
            ],
            tables=[
                Table(
                    "By team",
                    _fmt(
                        ue,
                        {
                            "team": ("team", _str),
                            "requests": ("requests", _int),
                            "usd_per_1k_requests": ("$/1K requests", _rate),
                            "prev_usd_per_1k_requests": ("last month", _rate),
                            "usd_per_mtok": ("$/1M tokens", _rate),
                            "prev_usd_per_mtok": ("last month ", _rate),
                            "cache_hit_rate": ("cache-hit", _share),
                            "prev_cache_hit_rate": ("last month  ", _share),
                        },
                    ),
                )
            ],
        )
    )

    fc = r.forecast
    outlook_metrics = []
    outlook_text = []
    if fc is not None and fc.available:
        outlook_metrics.append(
            Metric(
                f"Forecast {fc.period_start:%B %Y}",
                usd(fc.mean),
                None
                if not r.total_usd
                else f"{pct((fc.mean - float(r.total_usd)) / float(r.total_usd) * 100)} vs {r.month:%B}",
            )
        )
        if fc.lo80 is not None:
            outlook_metrics.append(Metric("Low (80% interval)", usd(fc.lo80)))
            outlook_metrics.append(Metric("High (80% interval)", usd(fc.hi80)))
        outlook_text.append(
            f"Forecast with {fc.method or 'the default method'} from daily spend through "
            f"{r.as_of}" + (f" ({fc.note})" if fc.note else "") + "."
        )
    else:
        outlook_text.append(
            "No forecast: " + (fc.note if fc is not None and fc.note else "not available") + "."
        )
    planned = None
    if r.planned is not None and fc is not None:
        rows = r.planned.filter(pl.col("month") == fc.period_start)
        planned = rows.row(0, named=True) if rows.height else None
    if planned is not None and planned["saving_usd"]:
        outlook_metrics.append(
            Metric(
                f"As planned {fc.period_start:%B %Y}",
                usd(planned["as_planned_usd"]),
                f"{signed_usd(-planned['saving_usd'])} planned",
            )
        )
        outlook_text.append(
            f"Planned migrations (plans.yaml) save {usd(planned['saving_usd'])} in "
            f"{fc.period_start:%B} ({usd(planned['saving_low_usd'])} to "
            f"{usd(planned['saving_high_usd'])}): {usd(planned['as_planned_usd'])} as planned "
            f"against {usd(planned['as_is_usd'])} as is (finops forecast --plan plans.yaml)."
        )
    if r.budget_usd is not None:
        outlook_metrics.append(Metric("Monthly budget", usd(r.budget_usd)))
        if fc is not None and fc.available:
            judged = _on_budget_basis(r, fc)
            basis = ""
            if judged is not fc:
                outlook_metrics.append(
                    Metric("After contract discounts (forecast)", usd(judged.mean))
                )
                basis = (
                    f" (effective cost: the forecast at {r.month:%B}'s {_rate_pct(r)} of list, "
                    "as budgets are judged)"
                )
            outlook_text.append(
                f"Against the budget{basis}: {_budget_verdict(judged, r.budget_usd)}."
            )
    else:
        outlook_text.append("No monthly budget is set (monthly_budget_usd in teams.yaml).")
    out.append(
        Section(
            "outlook",
            titles["outlook"],
            text=outlook_text,
            metrics=outlook_metrics,
            figures=[figures.outlook(r)],
        )
    )
    return out
