"""`finops pricing update --from PATH`: new models and dated periods, history never edited, the
diff and its dollar impact printed, nothing written without --yes.

Catalog (tmp): openai gpt-test $2 in / $8 out per Mtok since 2026-01-01, gpt-same $1 / $4.
Reference (LiteLLM's format): gpt-test $3 / $8 (changed), gpt-same $1 / $4 (unchanged),
gpt-new $0.50 / $1 (new), and a model of a provider the catalog does not cover.

Stored usage (1,000,000 input + 1,000,000 output tokens each, one request):
  gpt-test 2026-11-10: 2 + 8 = $10.00 before and after (history before 2026-12-01 unchanged)
  gpt-test 2026-12-10: $10.00 before; 3 + 8 = $11.00 after
  gpt-new  2026-12-10 (2,000,000 input, 0 output): unpriced before; 2 x 0.50 = $1.00 after
Total $20.00 → $22.00, a change of +$2.00.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops.cli import main
from finops.pricing.catalog import load_catalog
from finops.session.session import ingest, open_session

CATALOG = """\
provider: openai
models:
  - id: gpt-test
    aliases: [openai/gpt-test]
    prices:
      - valid_from: 2026-01-01
        # a curated comment that must survive the update
        usd_per_mtok: {input: 2, output: 8}
  - id: gpt-same
    prices:
      - valid_from: 2026-01-01
        usd_per_mtok: {input: 1, output: 4}
"""
REFERENCE = {
    "gpt-test": {"litellm_provider": "openai", "mode": "chat",
                 "input_cost_per_token": 3e-06, "output_cost_per_token": 8e-06},
    "gpt-same": {"litellm_provider": "openai", "mode": "chat",
                 "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06},
    "gpt-new": {"litellm_provider": "openai", "mode": "chat",
                "input_cost_per_token": 5e-07, "output_cost_per_token": 1e-06},
    "fal_ai/some-model": {"litellm_provider": "fal_ai", "mode": "chat",
                          "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
}  # fmt: skip
USAGE = """\
period_start,provider,model,requests,input_tokens,output_tokens
2026-11-10T10:00:00Z,openai,gpt-test,1,1000000,1000000
2026-12-10T10:00:00Z,openai,gpt-test,1,1000000,1000000
2026-12-10T11:00:00Z,openai,gpt-new,1,2000000,0
"""


@pytest.fixture
def setup(tmp_path: Path):
    pricing = tmp_path / "pricing"
    pricing.mkdir()
    (pricing / "openai.yaml").write_text(CATALOG)
    reference = tmp_path / "model_prices.json"
    reference.write_text(json.dumps(REFERENCE))
    usage = tmp_path / "usage.csv"
    usage.write_text(USAGE)
    db = tmp_path / "store.duckdb"
    with open_session(db, pricing) as s:
        ingest(s, [usage])
    return pricing, reference, db


def _update(pricing: Path, reference: Path, db: Path, *extra: str):
    args = ["pricing", "update", "--from", str(reference), "--valid-from", "2026-12-01"]
    args += ["--db", str(db), "--pricing", str(pricing), *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_dry_run_prints_the_diff_and_its_impact_and_writes_nothing(setup):
    pricing, reference, db = setup
    before = (pricing / "openai.yaml").read_bytes()
    result = _update(pricing, reference, db)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "1 new price period, 1 new model, 1 model unchanged" in out
    assert "~ openai/gpt-test from 2026-12-01: input 2, output 8 → input 3, output 8" in out
    assert "+ openai/gpt-new from 2026-12-01: input 0.5, output 1" in out
    assert "impact on stored usage: $20.00 → $22.00 (+2.00)" in out
    assert "dry run: nothing written" in out
    assert (pricing / "openai.yaml").read_bytes() == before
    with open_session(db, pricing, read_only=True) as s:
        assert s.con.execute("SELECT count(*) FROM catalog_revisions").fetchone()[0] == 1


def test_yes_adds_a_dated_period_and_a_model_and_keeps_history(setup):
    pricing, reference, db = setup
    result = _update(pricing, reference, db, "--yes")
    assert result.exit_code == 0, result.output
    assert "wrote 1 file: openai.yaml" in result.output
    assert "recorded catalog revision 2" in result.output
    text = (pricing / "openai.yaml").read_text()
    # every existing line as it was, comment included; the period after gpt-test's last one
    assert text == CATALOG.replace(
        "        usd_per_mtok: {input: 2, output: 8}\n",
        "        usd_per_mtok: {input: 2, output: 8}\n"
        "      - valid_from: 2026-12-01\n"
        "        usd_per_mtok: {input: 3, output: 8}\n",
    ) + (
        "  - id: gpt-new\n"
        "    kind: chat\n"
        "    prices:\n"
        "      - valid_from: 2026-12-01\n"
        "        usd_per_mtok: {input: 0.5, output: 1}\n"
    )
    catalog = load_catalog(pricing)
    test = catalog.find("openai", "gpt-test")
    periods = [(p.valid_from, p.valid_to, p.rates[("standard", 0)]) for p in test.periods]
    assert periods == [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 1), {"input": Decimal(2), "output": Decimal(8)}),
        (dt.date(2026, 12, 1), None, {"input": Decimal(3), "output": Decimal(8)}),
    ]
    new = catalog.find("openai", "gpt-new")
    assert [p.valid_from for p in new.periods] == [dt.date(2026, 12, 1)]
    assert catalog.find("fal-ai", "fal_ai/some-model") is None
    with open_session(db, pricing) as s:
        frame = s.spend(["day", "model"])
    costs = {(r["day"].isoformat(), r["model"]): r["cost_usd"] for r in frame.iter_rows(named=True)}
    assert costs == {
        ("2026-11-10", "gpt-test"): Decimal(10),
        ("2026-12-10", "gpt-test"): Decimal(11),
        ("2026-12-10", "gpt-new"): Decimal(1),
    }
    # a second run finds the catalog current
    again = _update(pricing, reference, db)
    assert "0 new price periods, 0 new models, 3 models unchanged" in again.output


def test_genai_prices_data_brings_its_own_start_date(setup, tmp_path: Path):
    """genai-prices dates gpt-test's $2.50 input from 2026-12-15: the new period starts there,
    not on --valid-from; its earlier unconditional price ($2 / $8) is the catalog's already."""
    pricing, _reference, db = setup
    data = [{"id": "openai", "models": [{"id": "gpt-test", "match": {"equals": "gpt-test"},
             "prices": [{"prices": {"input_mtok": 2, "output_mtok": 8}},
                        {"constraint": {"start_date": "2026-12-15"},
                         "prices": {"input_mtok": 2.5, "output_mtok": 8}}]}]}]  # fmt: skip
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    result = _update(pricing, path, db, "--yes")
    assert result.exit_code == 0, result.output
    assert (
        "~ openai/gpt-test from 2026-12-15: input 2, output 8 → input 2.5, output 8"
        in result.output
    )
    starts = [p.valid_from for p in load_catalog(pricing).find("openai", "gpt-test").periods]
    assert starts == [dt.date(2026, 1, 1), dt.date(2026, 12, 15)]


def test_a_bad_reference_is_one_line(setup, tmp_path: Path):
    pricing, _reference, db = setup
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(
        main, ["pricing", "update", "--from", str(bad), "--db", str(db), "--pricing", str(pricing)]
    )
    assert result.exit_code == 1
    assert "bad.json: not valid JSON at line 1" in result.output
