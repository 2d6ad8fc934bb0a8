"""The `finops` group, loaded before anything else: it imports only click.

A command's module (and so duckdb, polars, plotly, the library) is imported only when that
command runs; `finops --help` and every command's start stay fast (issue 16: start ≤ 0.3 s).
Each command is listed in `COMMANDS` with the modules that define it and its one-line help;
`tests/test_cli_start.py` checks the table against the commands the modules really define.

To add a command: write it in a `finops/cli/<area>.py` module with `@main.command()` (or on
`pricing` / `export` below) and add one line to the table here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os

import click

__all__ = [
    "COMMANDS",
    "EXPORT_COMMANDS",
    "PRICING_COMMANDS",
    "export",
    "main",
    "pricing",
    "register_user_errors",
    "user_errors",
]

# name → (modules that define it, one-line help shown by --help without importing them)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "alerts": (("finops.cli.control",), "What fires today (budgets, anomalies); webhooks."),
    "allocation": (("finops.cli.allocation",), "Check the ownership map (teams.yaml)."),
    "anomalies": (
        ("finops.cli.control",),
        "Spend spikes, unit-cost drift, new and retiring models.",
    ),
    "app": (("finops.cli.root",), "Start the Streamlit app on the store."),
    "backtest": (("finops.cli.forecast",), "Rolling-origin forecast accuracy per series."),
    "budgets": (("finops.cli.control",), "Monthly budgets: to date, projected, status."),
    "demo": (("finops.cli.root",), "Load a realistic synthetic company into the store."),
    "export": ((), "Export priced usage: FOCUS, showback, Parquet."),
    "forecast": (("finops.cli.forecast",), "Spend forecast with intervals, by any split."),
    "forecast-series": (("finops.cli.forecast",), "Forecast any daily series from a CSV."),
    "ingest": (("finops.cli.root",), "Load usage exports into the store, all or nothing."),
    "lake": (
        ("finops.cli.lake",),
        "Lake usage costed on Spark; the rollup attached to a store.",
    ),
    "opportunities": (
        ("finops.cli.opportunities",),
        "Savings you could act on now, ranked by $/month.",
    ),
    "pricing": ((), "Inspect, check and update the price catalog."),
    "reconcile": (("finops.cli.reconcile",), "Computed cost beside provider-billed cost."),
    "review": (("finops.cli.review",), "Write the monthly spend review (HTML or Markdown)."),
    "rollup": (("finops.cli.scale",), "Maintain the daily rollup that reading commands use."),
    "simulate": (("finops.cli.simulate",), "What moving a workload to another model saves."),
    "spark": (("finops.cli.scale",), "Run the costing pipeline on Apache Spark."),
    "spend": (("finops.cli.root",), "Spend by any keys, unpriced usage beside every total."),
    "unpriced": (("finops.cli.root",), "Usage the catalog cannot price, and why."),
}

PRICING_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "deprecations": (("finops.cli.root",), "Models in use that retire soon."),
    "diff": (("finops.cli.root",), "What changed between two catalog revisions."),
    "impact": (("finops.cli.root",), "Dollar impact of a catalog revision on stored usage."),
    "import-litellm": (("finops.cli.pricing_import",), "LiteLLM's price map → catalog YAML."),
    "list": (("finops.cli.root",), "Models in the catalog, with current prices."),
    "revisions": (("finops.cli.root",), "Catalog revisions stored with the usage."),
    "show": (("finops.cli.root",), "One model's price history."),
    "update": (("finops.cli.pricing_update",), "New models and dated prices from a reference map."),
    "validate": (("finops.cli.root",), "Check a catalog folder."),
}

EXPORT_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "focus": (("finops.cli.root",), "Priced usage as FOCUS 1.2 (CSV or Parquet)."),
    "parquet": (("finops.cli.scale",), "The store's usage as partitioned Parquet."),
    "showback": (("finops.cli.control",), "Cost per team for finance (CSV, formula-safe)."),
}

#: errors a user can fix, by dotted name: their modules load only when a command runs
_user_errors: list[str] = []


def register_user_errors(*names: str) -> None:
    """Errors a user can fix, named ``module.Class`` (a builtin by its name): `main` prints
    them as one line (exit 1), never a traceback."""
    _user_errors.extend(names)


def user_errors() -> tuple[type[BaseException], ...]:
    """The registered error classes (importing their modules, which a failing command has).

    >>> import finops.cli.options  # registers the library's errors, by name
    >>> from finops.ingest import IngestError
    >>> IngestError in user_errors()
    True
    """
    kinds = []
    for name in _user_errors:
        module, _, kind = name.rpartition(".")
        kinds.append(getattr(importlib.import_module(module or "builtins"), kind))
    return tuple(kinds)


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use, from a name → module table."""

    def __init__(self, *args, lazy: dict[str, tuple[tuple[str, ...], str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            # lazy by design: the table names the module; importing it registers the command
            for module in self.lazy.get(cmd_name, ((), ""))[0]:
                importlib.import_module(module)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        rows += [
            (n, c.get_short_help_str())
            for n, c in sorted(self.commands.items())
            if n not in self.lazy
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own (--help exits this way): no need to load the library's errors
        except Exception as exc:
            if isinstance(exc, user_errors()):
                raise click.ClickException(str(exc)) from None
            raise


#: the variable `finops.core.today` reads (kept here as text so --help imports nothing heavy)
TODAY_ENV = "FINOPS_TODAY"


def _pin_today(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--today` pins "today" for every view the command shows (`finops.core.today`)."""
    if value is not None:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            msg = f"--today {value!r} is not a date; write YYYY-MM-DD"
            raise click.BadParameter(msg) from None
        os.environ[TODAY_ENV] = value
    return value


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="finops")
@click.option(
    "--today",
    default=None,
    expose_value=False,
    callback=_pin_today,
    help="Judge everything as of this day (YYYY-MM-DD; env FINOPS_TODAY); "
    "default: the last day with data.",
)
def main() -> None:
    """Cost analytics and forecasting for AI API spend.

    \b
    Examples:
      finops demo && finops spend --by month,team
      finops --today 2026-01-15 review --month 2026-01
    """


@main.group(cls=LazyGroup, lazy=PRICING_COMMANDS)
def pricing() -> None:
    """Inspect, check and update the price catalog."""


@main.group("export", cls=LazyGroup, lazy=EXPORT_COMMANDS)
def export() -> None:
    """Export priced usage: FOCUS, showback, Parquet."""
