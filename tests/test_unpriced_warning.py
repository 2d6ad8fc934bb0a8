"""More than 1% of tokens unpriced: `finops spend`, the Overview and the upload result warn and
name the command that fixes it; at or under 1% they keep the plain footnote.

Usage on 2025-06-02 (bundled catalog): gpt-4o-mini 600,000 input + 400,000 output tokens
(priced), and `mystery-model` 20,000 input tokens (unknown model, unpriced).
Share unpriced: 20,000 / 1,020,000 = 1.96...% -> "2.0% of tokens (20,000 of 1,020,000)".
With 5,000 unpriced tokens instead: 5,000 / 1,005,000 = 0.50% -> no warning.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import REPO

from finops.cli import main
from finops.session.session import ingest, open_session
from finops.views.overview import build_overview

PRICING = REPO / "pricing"
WARNING = "2.0% of tokens (20,000 of 1,020,000) have no catalog price"
FIX = "finops pricing update --from model_prices_and_context_window.json"


def _usage(tmp_path: Path, unpriced_tokens: int) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(
        "period_start,provider,model,requests,input_tokens,output_tokens\n"
        "2025-06-02T10:00:00Z,openai,gpt-4o-mini,10,600000,400000\n"
        f"2025-06-02T11:00:00Z,openai,mystery-model,1,{unpriced_tokens},0\n"
    )
    return path


def test_over_one_percent_warns_everywhere_naming_the_fix(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with open_session(db, PRICING) as s:
        report = ingest(s, [_usage(tmp_path, 20_000)])
        overview = build_overview(s, project=False)
    assert report.unpriced_warning is not None and WARNING in report.unpriced_warning
    assert FIX in report.unpriced_warning
    assert overview.tokens == 1_020_000
    assert overview.unpriced_warning == report.unpriced_warning
    result = CliRunner().invoke(
        main, ["spend", "--by", "model", "--db", str(db), "--pricing", str(PRICING)]
    )
    assert result.exit_code == 0, result.output
    assert f"warning: {WARNING}" in result.output and FIX in result.output


def test_at_most_one_percent_keeps_the_footnote(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with open_session(db, PRICING) as s:
        report = ingest(s, [_usage(tmp_path, 5_000)])
        overview = build_overview(s, project=False)
    assert report.unpriced_warning is None and overview.unpriced_warning is None
    result = CliRunner().invoke(
        main, ["spend", "--by", "model", "--db", str(db), "--pricing", str(PRICING)]
    )
    assert "unpriced usage: 1 row / 5,000 tokens" in result.output
    assert "warning:" not in result.output
