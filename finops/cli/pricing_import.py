"""`finops pricing import-litellm`: LiteLLM's price map → catalog YAML files, with a report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from finops.cli.group import pricing
from finops.cli.options import parse_day

__all__ = ["pricing_import_litellm"]


@pricing.command("import-litellm")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--valid-from",
    "valid_from",
    required=True,
    help="First day (YYYY-MM-DD) of the imported prices: LiteLLM's map carries no dates.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog folder to write; an existing catalog there gets new periods for changed prices.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full report (every skipped entry and unmapped field) as JSON.",
)
@click.option("--examples", default=3, show_default=True, help="Example keys shown per reason.")
def pricing_import_litellm(
    path: Path, valid_from: str, out: Path, report_path: Path | None, examples: int
) -> None:
    """Convert LiteLLM's model_prices_and_context_window.json into catalog files, one per provider.

    Never downloads anything: give the path of a copy (the litellm wheel ships one as
    litellm/model_prices_and_context_window_backup.json). Prices are converted exactly;
    what cannot be mapped (per-image, per-second or per-character prices, skipped modes,
    rates needing more than 6 decimals per million tokens) is reported with counts and examples.
    Run it again with a newer map and a later --valid-from to add price periods for the models
    whose prices changed; files without changes are left alone (a rewritten file loses comments).

    \b
    Example:
      finops pricing import-litellm model_prices_and_context_window.json \\
          --valid-from 2026-01-01 --out pricing-litellm/ --report import-report.json
    """
    from finops.pricing.litellm_import import import_litellm

    day = parse_day(valid_from, "--valid-from")
    report = import_litellm(path, out, valid_from=day)
    for line in report.summary_lines(examples=examples):
        click.echo(line)
    if report_path is not None:
        report_path.write_text(json.dumps(report.to_dict(), indent=1) + "\n", encoding="utf-8")
        click.echo(f"full report: {report_path}")
