"""`finops simulate`: what moving a workload to another model would have saved.

Parses options, builds scenarios, calls :func:`finops.analysis.simulate.simulate_many`, prints the result
(JSON is :meth:`SimulationResult.to_dict`, the same numbers the app shows).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from finops.cli.group import main
from finops.cli.options import (
    contracts_option,
    db_option,
    emit,
    exact_json,
    format_option,
    pricing_option,
    reading_session,
    teams_option,
)
from finops.core.schema import ASSUMPTION_NAMES

if TYPE_CHECKING:
    import polars as pl

    from finops.analysis import simulate as sim


__all__ = ["BLOCKED_EXIT", "simulate"]

#: Exit status when a finding blocks a scenario (the move cannot run as stated).
BLOCKED_EXIT = 3

# --scope KEY -> scenario scope field
_SCOPE_KEYS = {
    "team": "teams",
    "model": "models",
    "provider": "providers",
    "project": "projects",
    "api_key": "api_keys",
    "tag": "tags",
    "first_day": "first_day",
    "last_day": "last_day",
}


def _quick_scenario(
    from_model: str,
    to_models: tuple[str, ...],
    scope_items: tuple[str, ...],
    assume_items: tuple[str, ...],
) -> dict[str, Any]:
    """The scenario mapping the quick form describes (validated like a scenario file)."""
    scope: dict[str, Any] = {}
    for item in scope_items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in _SCOPE_KEYS or not value.strip():
            msg = f"{item!r}: write KEY=VALUE with KEY one of {', '.join(_SCOPE_KEYS)}"
            raise click.BadParameter(msg, param_hint="--scope")
        field = _SCOPE_KEYS[key]
        if field == "tags":
            name, colon, tag_value = value.partition(":")
            if not colon:
                msg = f"{item!r}: write tag=NAME:VALUE"
                raise click.BadParameter(msg, param_hint="--scope")
            scope.setdefault("tags", {})[name.strip()] = tag_value.strip()
        elif field in ("first_day", "last_day"):
            scope[field] = value.strip()
        else:
            scope.setdefault(field, []).append(value.strip())
    assumptions: dict[str, str] = {}
    for item in assume_items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in ASSUMPTION_NAMES:
            msg = f"{item!r}: write NAME=VALUE with NAME one of {', '.join(ASSUMPTION_NAMES)}"
            raise click.BadParameter(msg, param_hint="--assume")
        assumptions[name] = value.strip()
    move: dict[str, Any] = {"from": from_model}
    if len(to_models) == 1:
        move["to"] = to_models[0]
    else:
        move["to_cheapest_of"] = list(to_models)
    name = f"{from_model} → {' or '.join(to_models)}"
    return {"name": name, "scope": scope, "moves": [move], "assumptions": assumptions}


# column names for the narrow terminal tables (JSON and the library keep the full names)
_SHORT = {
    "actual_cost_usd": "actual",
    "scenario_cost_usd": "scenario",
    "savings_usd": "savings",
    "savings_pct": "%",
    "savings_usd_low": "low",
    "savings_usd_high": "high",
    "effective_savings_usd": "after contracts",
}


def _breakdown(frame: pl.DataFrame) -> pl.DataFrame:
    """A by-month or by-team frame for the terminal: short names, the share as a percent."""
    import polars as pl

    from finops.core import format as fmt

    shares = [fmt.exact_pct(v) for v in frame["savings_pct"]]
    return frame.with_columns(pl.Series("savings_pct", shares, dtype=pl.Utf8)).rename(
        _SHORT, strict=False
    )


def _headline(result: sim.SimulationResult) -> list[str]:
    """The answer first: the saving per month on the moved workload, and what share that is."""
    from finops.core import format as fmt

    m = result.monthly
    if m is None:
        return ["no priced usage in scope: nothing to compare"]
    if result.view == "forward":
        basis = (
            f"Forward view: prices in force on {result.pricing_day}, usage of {m['first_day']} .. "
            f"{m['last_day']} ({m['days']} days), per month"
        )
    else:
        basis = (
            f"As billed: each day at its own prices, {m['first_day']} .. {m['last_day']} "
            f"({m['days']} days), averaged per month"
        )
    moved_pct = m["savings_pct_of_moved"]
    share = f" = {moved_pct}% of the moved workload" if moved_pct is not None else ""
    moved = (
        f"  moved workload: {fmt.usd(m['moved_actual_cost_usd'])}/month today → "
        f"{fmt.usd(m['moved_scenario_cost_usd'])}/month"
    )
    savings = (
        f"  savings:        {fmt.usd(m['savings_usd'])}/month{share} "
        f"(range {fmt.usd(m['savings_usd_low'])} to {fmt.usd(m['savings_usd_high'])})"
    )
    of_scope = (
        f"                  {fmt.exact_pct(m['savings_pct_of_scope'])} of the scope's "
        f"{fmt.usd(m['actual_cost_usd'])}/month"
    )
    return [basis, moved, savings, of_scope]


def _print_result(result: sim.SimulationResult) -> None:
    from finops.core import format as fmt
    from finops.views.simulation import left_out

    click.echo(f"Scenario: {result.scenario.name} (catalog revision {result.revision_id})")
    for index, move in enumerate(result.moves):
        chosen = f" (cheapest of {', '.join(move['chosen_from'])})" if move["chosen_from"] else ""
        click.echo(f"  move {index}: {move['from']} → {move['to']}{chosen}")
        for name, value in move["assumptions"].items():
            if isinstance(value, dict):
                figures = f"{value['low']} / {value['expected']} / {value['high']}"
                source = f" ({value['source']})" if value.get("source") else ""
                click.echo(f"    {name}: {figures}{source}")
    for line in _headline(result):
        click.echo(line)
    span = f"{result.first_day} .. {result.last_day}" if result.first_day else "no usage in scope"
    click.echo(f"Totals over {span}:")
    click.echo(f"actual cost:   {fmt.usd(result.actual_cost_usd)}")
    click.echo(
        f"scenario cost: {fmt.usd(result.scenario_cost_usd)} "
        f"(range {fmt.usd(result.scenario_cost_usd_low)} to {fmt.usd(result.scenario_cost_usd_high)})"
    )
    click.echo(
        f"savings:       {fmt.usd(result.savings_usd)} ({fmt.exact_pct(result.savings_pct)}); "
        f"range {fmt.usd(result.savings_usd_low)} to {fmt.usd(result.savings_usd_high)}"
    )
    if result.effective_savings_usd != result.savings_usd:
        click.echo(
            f"after contracts: {fmt.usd(result.actual_effective_cost_usd)} actual, "
            f"{fmt.usd(result.scenario_effective_cost_usd)} scenario, "
            f"savings {fmt.usd(result.effective_savings_usd)}"
        )
    sentence = left_out(result)
    if sentence:
        click.echo(sentence)
    if result.by_month:
        emit(_breakdown(result.months_frame()), "table", title="By month")
        emit(_breakdown(result.teams_frame()), "table", title="By team")
    if result.forecast:
        f = result.forecast
        click.echo(
            f"forward savings, next {f['horizon_days']} days: {fmt.usd(f['savings_usd'])} "
            f"(range {fmt.usd(f['savings_usd_low'])} to {fmt.usd(f['savings_usd_high'])})"
        )
    if result.forecast_note:
        click.echo(f"  {result.forecast_note}")
    if result.quality:
        best = result.quality["cheapest_meeting_min_score"]
        if best:
            click.echo(
                f"cheapest model scoring ≥ {result.quality['min_score']:g} "
                f"({result.quality['basis']}): {best['provider']}/{best['model']} "
                f"at {fmt.usd(best['cost_usd'])} (score {best['score']:.3g})"
            )
        frontier = [p for p in result.quality["points"] if p["on_frontier"]]
        click.echo(
            "cost–quality frontier: "
            + ", ".join(
                f"{p['model']} {fmt.usd(p['cost_usd'])} / {p['score']:.3g}" for p in frontier
            )
        )
    if result.quality_note:
        click.echo(f"quality: {result.quality_note}")
    for finding in result.findings:
        label = "BLOCKED" if finding.severity == "block" else "warning"
        click.echo(f"{label} [{finding.check}]: {finding.message}")


@main.command()
@click.option(
    "--scenario",
    "scenario_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario YAML file; repeat to compare scenarios side by side.",
)
@click.option("--from", "from_model", default=None, help="Quick form: the model to move away from.")
@click.option(
    "--to",
    "to_models",
    multiple=True,
    help="Quick form: the target model; repeat to take the cheapest that can run the workload.",
)
@click.option(
    "--scope",
    "scope_items",
    multiple=True,
    help="Quick form: KEY=VALUE, repeatable; KEY is team, model, provider, project, api_key, "
    "tag (tag=NAME:VALUE), first_day or last_day.",
)
@click.option(
    "--assume",
    "assume_items",
    multiple=True,
    help="Quick form: NAME=VALUE or NAME=LOW:EXPECTED:HIGH, repeatable; NAME is "
    f"{', '.join(ASSUMPTION_NAMES)}.",
)
@click.option(
    "--evals",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Eval results CSV (model, task, score) for the cost–quality view.",
)
@click.option("--task", default=None, help="Eval task to score on (default: mean over tasks).")
@click.option("--min-score", type=float, default=None, help="Find the cheapest model scoring this.")
@click.option(
    "--horizon", type=int, default=None, help="As billed: forecast horizon in days (default 30)."
)
@click.option(
    "--as-billed",
    is_flag=True,
    help="Price each day of the scope's whole history at its own prices (default: the forward "
    "view, the last 28 days at the prices in force on the pricing day, per month).",
)
@click.option(
    "--pricing-day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Forward view: price at the prices in force on this day (default today).",
)
@click.option(
    "--token-ratios",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="FINOPS_TOKEN_RATIOS",
    default=None,
    help="Token-ratio table (env FINOPS_TOKEN_RATIOS; default: the bundled one).",
)
@format_option("table", "json")
@db_option
@pricing_option
@teams_option
@contracts_option
def simulate(
    scenario_files: tuple[Path, ...],
    from_model: str | None,
    to_models: tuple[str, ...],
    scope_items: tuple[str, ...],
    assume_items: tuple[str, ...],
    evals: Path | None,
    task: str | None,
    min_score: float | None,
    horizon: int | None,
    as_billed: bool,
    pricing_day,
    token_ratios: Path | None,
    fmt: str,
    db: Path,
    pricing: Path | None,
    teams: Path | None,
    contracts: Path | None,
) -> None:
    """What moving a workload to another model would save per month, from your stored usage.

    By default the forward view: the scope's last 28 days of usage, priced today and on the
    target at the prices in force on the pricing day (today), scaled to a month; --as-billed
    reprices the whole history at each day's prices instead. Low / expected / high come from
    the assumptions (token ratios, output verbosity, cache hits), with their sources. Exits
    with status 3 when a capability or price check blocks the move.

    \b
    Examples:
      finops simulate --from gpt-4o --to gpt-4o-mini --scope team=search
      finops simulate --from o3 --to o4-mini --to google/gemini-2.5-flash --assume cache_hit_rate=0.3:0.5:0.6
      finops simulate --scenario move-search.yaml --evals evals.csv --min-score 0.8 --format json
      finops simulate --scenario a.yaml --scenario b.yaml      # side by side
    """
    from finops.analysis import simulate as sim

    if as_billed and pricing_day is not None:
        msg = "--pricing-day prices the forward view; --as-billed prices each day as billed"
        raise click.UsageError(msg)
    quick = from_model is not None or to_models or scope_items or assume_items
    if scenario_files and quick:
        msg = "give --scenario files, or the quick form (--from, --to, --scope, --assume), not both"
        raise click.UsageError(msg)
    if not scenario_files and (from_model is None or not to_models):
        msg = "give --scenario FILE.yaml, or --from MODEL --to MODEL"
        raise click.UsageError(msg)
    if scenario_files:
        scenarios = [s for path in scenario_files for s in sim.load_scenarios(path)]
    else:
        data = _quick_scenario(from_model, to_models, scope_items, assume_items)
        scenarios = [sim.scenario_from_dict(data)]
    overrides: dict[str, Any] = {}
    if horizon is not None:
        overrides["horizon_days"] = horizon
    if task is not None or min_score is not None:
        scenarios = [
            dataclasses.replace(
                s,
                quality=dataclasses.replace(
                    s.quality,
                    task=task if task is not None else s.quality.task,
                    min_score=min_score if min_score is not None else s.quality.min_score,
                ),
            )
            for s in scenarios
        ]
    if overrides:
        scenarios = [dataclasses.replace(s, **overrides) for s in scenarios]
    eval_frame = sim.load_evals(evals) if evals is not None else None
    table = sim.load_token_ratios(token_ratios)
    with reading_session(db, pricing, teams, contracts) as s:
        results = sim.simulate_many(
            s,
            scenarios,
            evals=eval_frame,
            token_ratios=table,
            as_billed=as_billed,
            pricing_day=pricing_day.date() if pricing_day else None,
        )
    if fmt == "json":
        click.echo(exact_json([r.to_dict() for r in results]))
    else:
        if len(results) > 1:
            emit(sim.comparison_frame(results), "table", title="Scenarios side by side")
        for result in results:
            _print_result(result)
    if not all(r.feasible for r in results):
        raise SystemExit(BLOCKED_EXIT)
