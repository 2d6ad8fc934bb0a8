from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import HAND_PRICED

from finops.cli import main


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def opts(db, pricing_dir):
    return ["--db", str(db), "--pricing", str(pricing_dir)]


def test_ingest_then_spend_as_json(opts):
    out = _run("ingest", str(HAND_PRICED), *opts)
    assert out.exit_code == 0, out.output
    assert "10 rows read — 10 new, 0 duplicate, 0 replaced\n  days: 2025-03-10 .. 2025-03-21\n" in (
        out.output
    )
    assert "unpriced: mystery" in out.output
    out = _run("spend", "--by", "team,month", "--format", "json", *opts)
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output, parse_float=Decimal)
    keys = {
        "team",
        "month",
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "requests",
        "unpriced_rows",
    }
    assert keys <= set(rows[0])
    assert sum(r["cost_usd"] for r in rows if r["cost_usd"] is not None) == Decimal("9.01")
    ads = next(r for r in rows if r["team"] == "ads")
    assert (ads["cost_usd"], ads["unpriced_rows"]) == (Decimal("1.17"), 2)


def test_table_output_reports_unpriced_beside_the_total(opts):
    _run("ingest", str(HAND_PRICED), *opts)
    out = _run("spend", "--by", "model", *opts)
    assert "total: $9.01 list, $9.01 effective" in out.output
    assert "unpriced usage: 2 rows / 3,500 tokens" in out.output


def test_a_window_without_usage_says_where_the_usage_is_instead_of_zero(opts):
    out = _run("spend", "--by", "team", *opts)
    assert (
        out.output == "no usage in the store: load some with finops ingest FILE, or finops demo\n"
    )
    _run("ingest", str(HAND_PRICED), *opts)
    out = _run("spend", "--by", "team", "--from", "2025-04-01", *opts)
    assert out.exit_code == 0, out.output
    # the fixture's rows run 2025-03-10 .. 2025-03-21: no table, no "$0.00"
    assert out.output == (
        "no usage from 2025-04-01; the store holds usage from 2025-03-10 to 2025-03-21\n"
    )
    assert "$0.00" not in out.output


def test_bad_input_is_one_line_and_exit_1(opts, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("period_start,provider,model,input_tokens\n2025-01-01,acme,alpha,-5\n")
    out = _run("ingest", str(bad), *opts)
    assert out.exit_code == 1
    assert out.output.strip() == (
        f"Error: {bad}, row 1, field input_tokens: '-5' is not a count; token and request "
        "counts are whole numbers ≥ 0"
    )
    assert "Traceback" not in out.output


def test_unknown_spend_key_is_refused(opts):
    out = _run("spend", "--by", "colour", *opts)
    assert out.exit_code == 1
    assert "cannot group by colour" in out.output


def test_pricing_commands(opts, pricing_dir):
    out = _run("pricing", "validate", str(pricing_dir))
    assert out.exit_code == 0 and out.output.startswith("ok: 3 models from 2 providers")
    out = _run("pricing", "show", "acme/alpha", "--format", "json", "--pricing", str(pricing_dir))
    history = json.loads(out.output, parse_float=Decimal)
    standard = [
        r for r in history if r["service_tier"] == "standard" and r["prompt_over_tokens"] is None
    ]
    assert [(r["valid_from"], r["output"]) for r in standard] == [
        ("2025-01-01", 8),
        ("2025-03-15", 4),
    ]
    _run("ingest", str(HAND_PRICED), *opts)
    (pricing_dir / "beta.yaml").write_text(
        (pricing_dir / "beta.yaml").read_text().replace("output: 0.6", "output: 0.5")
    )
    _run("spend", *opts)  # records revision 2
    out = _run("pricing", "diff", "1", "2", "--format", "json", *opts)
    assert json.loads(out.output, parse_float=Decimal) == [
        {
            "provider": "beta",
            "model_id": "small",
            "valid_from": "2025-01-01",
            "service_tier": "standard",
            "above_tokens": 0,
            "price": "output",
            "change": "changed",
            "rate_a": Decimal("0.6"),
            "rate_b": Decimal("0.5"),
            "valid_to_a": None,
            "valid_to_b": None,
        }
    ]
    out = _run("pricing", "revisions", "--format", "json", *opts)
    assert [r["revision_id"] for r in json.loads(out.output)] == [2, 1]


def test_every_command_documents_an_example():
    def walk(group, prefix=""):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from walk(cmd, prefix + name + " ")
            else:
                yield prefix + name, cmd

    for name, cmd in walk(main):
        assert "Example" in (cmd.help or ""), f"finops {name} has no example in its help"


def test_pricing_impact_reports_the_dollar_change_by_model(opts, pricing_dir):
    _run("ingest", str(HAND_PRICED), *opts)
    acme = pricing_dir / "acme.yaml"
    cut = "usd_per_mtok: {input: 1, cache_read: 0.1, cache_write_5m: 1.25, cache_write_1h: 2, output: 4}"
    acme.write_text(acme.read_text().replace(cut, cut.replace("output: 4}", "output: 5}")))
    _run("spend", *opts)  # records revision 2
    out = _run("pricing", "impact", "1", "2", "--format", "json", *opts)
    rows = json.loads(out.output, parse_float=Decimal)
    # only r2 (30,000 output tokens on 2025-03-20) uses the changed rate: +$0.03
    assert [(r["model"], r["change_usd"]) for r in rows] == [("alpha", Decimal("0.03"))]
    out = _run("pricing", "impact", "1", "2", "--from", "2025-03-01", "--to", "2025-03-19", *opts)
    assert "no model's cost changes" in out.output


def test_prices_per_million_tokens_print_exactly_never_as_cents():
    """The bundled catalog's gpt-4o-mini batch input is $0.075 per 1M tokens (half the
    standard $0.15): the table and the CSV say 0.075, not a cent-rounded 0.08."""
    args = ["pricing", "show", "gpt-4o-mini", "--provider", "openai"]
    csv_rows = _run(*args, "--format", "csv").output.splitlines()
    assert any(",batch,,0.075000,,0.300000," in row for row in csv_rows), csv_rows[:3]
    assert "$0.075" in _run(*args).output
