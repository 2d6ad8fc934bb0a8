"""`finops pricing import-litellm`: exact conversion, the report, updates, and parity with LiteLLM.

The fixtures in tests/fixtures/litellm/ are small hand-written maps in LiteLLM's format; the
expected YAML for the older one is in tests/fixtures/litellm/expected/. The parity test prices
sampled usage through the real finops path and through the real `litellm` package (a test-only
dependency) and requires the same cost for every row.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from finops.cli import main
from finops.pricing.catalog import load_catalog
from finops.pricing.catalog_yaml import dump_catalog_yaml, load_exact_yaml
from finops.pricing.costing import priced_rows
from finops.pricing.litellm_convert import convert_litellm, read_litellm_map
from finops.pricing.litellm_import import import_litellm
from finops.pricing.providers import finops_provider
from finops.session.session import ingest, open_session

LITELLM = FIXTURES / "litellm"
OLD_MAP = LITELLM / "model_prices_old.json"
NEW_MAP = LITELLM / "model_prices_new.json"
EXPECTED = LITELLM / "expected"
JAN = dt.date(2026, 1, 1)
MAR = dt.date(2026, 3, 1)


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- conversion ----------------------------------------------------------------------------------


def test_import_writes_the_expected_yaml_per_provider(tmp_path: Path):
    out = tmp_path / "catalog"
    report = import_litellm(OLD_MAP, out, valid_from=JAN)
    written = sorted(p.name for p in out.glob("*.yaml"))
    assert written == sorted(p.name for p in EXPECTED.glob("*.yaml"))
    assert report.files_written == written
    for name in written:
        assert (out / name).read_text() == (EXPECTED / name).read_text(), name
    catalog = load_catalog(out)
    assert len(catalog.models) == 10


def test_rates_are_exact_decimals_per_million_tokens(tmp_path: Path):
    import_litellm(OLD_MAP, tmp_path, valid_from=JAN)
    catalog = load_catalog(tmp_path)
    opus = catalog.find("anthropic", "anthropic/claude-opus-9")
    assert opus is not None and opus.id == "claude-opus-9"
    standard = opus.periods[0].rates[("standard", 0)]
    assert standard == {
        "input": Decimal(5),
        "cache_read": Decimal("0.5"),
        "cache_write_5m": Decimal("6.25"),
        "cache_write_1h": Decimal(10),
        "output": Decimal(25),
    }
    assert opus.periods[0].rates[("batch", 0)]["cache_write_5m"] == Decimal("3.125")
    assert opus.periods[0].usd_per_web_search == Decimal("0.01")
    assert opus.deprecated_on == dt.date(2027, 1, 15)
    assert opus.successor == "claude-opus-10"
    assert opus.kind == "reasoning" and opus.context_window == 200000


def test_long_context_bands_and_tiers_follow_litellm_resolution(tmp_path: Path):
    import_litellm(OLD_MAP, tmp_path, valid_from=JAN)
    gemini = load_catalog(tmp_path).find("google", "gemini/gemini-9-pro")
    rates = gemini.periods[0].rates
    # above 200k the whole request moves to the band's rates
    assert rates[("standard", 200000)]["input"] == Decimal("2.5")
    # priority above 200k: its own input rate; output and cache read have no priority band key,
    # so LiteLLM uses the standard band rate (its get_cost_per_unit drops the tier suffix)
    assert rates[("priority", 200000)]["input"] == Decimal("4.5")
    assert rates[("priority", 200000)]["output"] == Decimal(15)
    assert rates[("priority", 200000)]["cache_read"] == Decimal("0.25")
    # no band key for audio: the standard audio rate in every band and tier
    assert rates[("priority", 200000)]["input_audio"] == Decimal(1)


def test_inclusive_thresholds_and_tiered_tables_become_bands(tmp_path: Path):
    import_litellm(OLD_MAP, tmp_path, valid_from=JAN)
    catalog = load_catalog(tmp_path)
    grok = catalog.find("xai", "xai/grok-9")
    # LiteLLM bills xAI's long-context rate from exactly 128k prompt tokens: prompt > 127999
    assert ("standard", 127999) in grok.periods[0].rates
    qwen = catalog.find("dashscope", "dashscope/qwen-9")
    assert qwen.periods[0].rates[("standard", 256000)] == {
        "input": Decimal("1.2"),
        "output": Decimal("3.6"),
    }


def test_report_names_every_entry_left_out_and_every_unmapped_price(tmp_path: Path):
    report = import_litellm(OLD_MAP, tmp_path, valid_from=JAN)
    assert report.entries == 18
    assert report.model_count == 10
    assert report.skipped == {
        "a rate needs more than 6 decimals per million tokens": ["tiny-9"],
        "mode search (not billed per token)": ["search-co/search"],
        "no per-token price (priced per character)": ["tts-9"],
        "no per-token price (priced per image)": ["dall-e-9"],
        "no per-token price (priced per second)": ["whisper-9"],
        "sample_spec (documents the format)": ["sample_spec"],
    }
    assert report.unmapped == {
        "fedramp_uplift_multiplier": ["gpt-9"],
        "off_peak_pricing": ["deepseek/deepseek-9"],
        "provider_specific_entry": ["claude-opus-10"],
        "search_context_cost_per_query (billed per grounded prompt)": ["gemini/gemini-9-pro"],
    }
    assert report.ignored == {
        "supports_function_calling": ["gpt-9"],
        "supports_vision": ["claude-opus-9"],
    }
    assert report.names == {
        "alias_of entry: an alias of its target": ["gpt-9-latest"],
        "priced differently from another key with id 'us.anthropic.claude-opus-9-v1:0': "
        "id is the whole key": ["bedrock/us.anthropic.claude-opus-9-v1:0"],
        "same model under another key: merged as an alias": ["anthropic/claude-opus-9"],
    }
    data = report.to_dict()
    assert data["skipped"]["mode search (not billed per token)"] == {
        "count": 1,
        "keys": ["search-co/search"],
    }
    assert json.loads(json.dumps(data)) == data


def test_a_rate_needing_seven_decimals_skips_the_model_rather_than_rounding():
    data = {
        "ok-model": {"litellm_provider": "openai", "input_cost_per_token": Decimal("1.5e-7")},
        "odd-model": {
            "litellm_provider": "openai",
            "input_cost_per_token": Decimal("1.0000001e-6"),
        },
    }
    models = convert_litellm(data)
    assert [m.id for m in models] == ["ok-model"]
    assert models[0].rates[("standard", 0)] == {"input": Decimal("0.15")}


def test_aliases_stay_unique_within_a_provider():
    price = {"litellm_provider": "bedrock", "input_cost_per_token": Decimal("1e-6")}
    other = {"litellm_provider": "bedrock_converse", "input_cost_per_token": Decimal("2e-6")}
    models = convert_litellm({"bedrock/m-1": price, "m-1": other, "bedrock/x/m-1": price})
    names = [(m.id, tuple(m.aliases)) for m in models]
    assert names == [("m-1", ()), ("bedrock/m-1", ()), ("x/m-1", ("bedrock/x/m-1",))]
    every = [n for m in models for n in (m.id, *m.aliases)]
    assert len(every) == len(set(every))


@pytest.mark.parametrize(
    ("litellm_provider", "expected"),
    [
        ("openai", "openai"),
        ("gemini", "google"),
        ("vertex_ai-anthropic_models", "google-vertex"),
        ("vertex_ai", "google-vertex"),
        ("bedrock_converse", "aws-bedrock"),
        ("azure", "azure-openai"),
        ("together_ai", "together"),
        ("fireworks_ai", "fireworks"),
        ("cohere_chat", "cohere"),
        ("fal_ai", "fal-ai"),
    ],
)
def test_provider_ids(litellm_provider: str, expected: str):
    assert finops_provider(litellm_provider) == expected


def test_yaml_writer_round_trips_awkward_strings():
    doc = {
        "provider": "p",
        "models": [
            {
                "id": "anthropic.claude-v2:1",
                "aliases": ["yes", "1024-x-1024/m", "a, b", "x: y", "#tag"],
                "notes": 'line one\nline "two"',
                "prices": [{"valid_from": JAN, "usd_per_mtok": {"input": Decimal("0.000001")}}],
            }
        ],
    }
    assert load_exact_yaml(dump_catalog_yaml(doc)) == doc


def test_unreadable_maps_name_the_file(tmp_path: Path):
    bad = tmp_path / "prices.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="prices.json: expected a JSON object"):
        read_litellm_map(bad)
    bad.write_text("{")
    with pytest.raises(ValueError, match=r"prices.json: not valid JSON at line 1"):
        read_litellm_map(bad)


# --- importing a newer map over an older catalog ----------------------------------------------


def test_newer_map_adds_periods_only_for_changed_prices(tmp_path: Path):
    import_litellm(OLD_MAP, tmp_path, valid_from=JAN)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.yaml")}
    report = import_litellm(NEW_MAP, tmp_path, valid_from=MAR)
    assert report.changed == ["openai/gpt-9"]
    assert report.added == ["openai/gpt-9-mini"]
    assert report.kept == ["xai/grok-9"]
    assert len(report.unchanged) == 8
    assert report.files_written == ["openai.yaml"]
    for name, data in before.items():
        if name != "openai.yaml":
            assert (tmp_path / name).read_bytes() == data, f"{name} was rewritten"
    catalog = load_catalog(tmp_path)
    gpt9 = catalog.find("openai", "gpt-9")
    assert [(p.valid_from, p.valid_to) for p in gpt9.periods] == [(JAN, MAR), (MAR, None)]
    assert gpt9.periods[0].rates[("standard", 0)]["input"] == Decimal(2)
    assert gpt9.periods[1].rates[("standard", 0)]["input"] == Decimal("1.5")
    assert gpt9.periods[1].rates[("flex", 0)]["input"] == Decimal(1)
    assert catalog.find("openai", "gpt-9-mini").periods[0].valid_from == MAR
    assert catalog.find("xai", "grok-9") is not None
    # the same map again changes nothing
    again = import_litellm(NEW_MAP, tmp_path, valid_from=MAR)
    assert again.changed == [] and again.added == [] and again.files_written == []


def test_newer_map_prices_history_with_the_period_in_force(tmp_path: Path, db: Path):
    pricing = tmp_path / "pricing"
    import_litellm(OLD_MAP, pricing, valid_from=JAN)
    import_litellm(NEW_MAP, pricing, valid_from=MAR)
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "period_start,provider,model,input_tokens,cache_read_tokens,output_tokens,request_id\n"
        "2026-02-10T12:00:00Z,openai,gpt-9-latest,1000000,1000000,1000000,a\n"
        "2026-03-10T12:00:00Z,openai,gpt-9,1000000,1000000,1000000,b\n"
    )
    with open_session(db, pricing) as s:
        ingest(s, [usage])
        frame = priced_rows(s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds)
    assert frame["cost_usd"].to_list() == [Decimal("10.5"), Decimal("9.875")]


def test_valid_from_must_follow_the_latest_period_of_a_changed_model(tmp_path: Path):
    import_litellm(OLD_MAP, tmp_path, valid_from=MAR)
    with pytest.raises(
        ValueError, match=r"--valid-from 2026-01-01 is not after .*openai.yaml: gpt-9"
    ):
        import_litellm(NEW_MAP, tmp_path, valid_from=JAN)


# --- the command ---------------------------------------------------------------------------------


def test_cli_prints_the_summary_and_writes_the_full_report(tmp_path: Path):
    out = tmp_path / "catalog"
    report_file = tmp_path / "report.json"
    result = _run(
        "pricing", "import-litellm", str(OLD_MAP), "--valid-from", "2026-01-01",
        "--out", str(out), "--report", str(report_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "model_prices_old.json: 18 entries → 10 models from 7 providers"
    assert "  no per-token price (priced per image): 1 (e.g. dall-e-9)" in lines
    assert "  off_peak_pricing: 1 (e.g. deepseek/deepseek-9)" in lines
    assert json.loads(report_file.read_text())["models"] == 10
    check = _run("pricing", "validate", str(out))
    assert check.output.startswith("ok: 10 models from 7 providers")


def test_cli_refuses_a_bad_date_and_an_invalid_existing_catalog(tmp_path: Path):
    bad_date = _run(
        "pricing", "import-litellm", str(OLD_MAP), "--valid-from", "soon", "--out", str(tmp_path)
    )
    assert bad_date.exit_code != 0 and "--valid-from 'soon' is not a date" in bad_date.output
    (tmp_path / "broken.yaml").write_text("provider: Upper\nmodels: []\n")
    broken = _run(
        "pricing",
        "import-litellm",
        str(OLD_MAP),
        "--valid-from",
        "2026-01-01",
        "--out",
        str(tmp_path),
    )
    assert broken.exit_code == 1
    assert "broken.yaml, field provider: give the provider id, in lower case" in broken.output


# --- parity with LiteLLM's own cost_per_token ---------------------------------------------------

PARITY_SEED = 20260101
PARITY_DAY = "2026-02-02T10:00:00Z"
# LiteLLM prices these by rules the catalog does not share; each exclusion says why.
EXCLUDED_PROVIDERS = {
    # LiteLLM resolves a github_copilot model by logging in to GitHub over the network
    "github_copilot": "needs a network login",
}
# LiteLLM's own calculators for these providers skip parts of the map, so rows needing those parts
# are not compared: fireworks_ai never passes the service tier on (priority and flex requests are
# billed at standard rates although the map lists *_priority rates); perplexity uses the flat
# input, output and cache-read rates only (no long-context bands, cache writes at $0).
LITELLM_IGNORES = {"fireworks_ai": {"tiers"}, "perplexity": {"bands", "cache_writes"}}


def _parity_models(litellm_json: Path, report) -> tuple[list, dict[str, str]]:
    """The imported models to compare and, for the rest of the map, why not."""
    raw = read_litellm_map(litellm_json)
    models = convert_litellm(raw)
    # two keys priced differently that share an id: LiteLLM's own lookup of one of them can land
    # on the other entry (bare `moonshotai.kimi-k2.5` is priced from `bedrock/moonshotai.kimi-k2.5`)
    ambiguous = set()
    for reason, keys in report.names.items():
        if reason.endswith("id is the whole key"):
            shared = reason.split("'")[1]
            ambiguous.update(keys)
            ambiguous.update(m.key for m in models if m.id == shared)
    excluded: dict[str, str] = {}
    eligible = []
    for m in models:
        entry = raw[m.key]
        if entry["litellm_provider"] in EXCLUDED_PROVIDERS:
            excluded[m.key] = EXCLUDED_PROVIDERS[entry["litellm_provider"]]
        elif "off_peak_pricing" in entry:
            excluded[m.key] = "LiteLLM applies off-peak prices by the wall-clock time"
        elif m.key in ambiguous:
            excluded[m.key] = "LiteLLM's lookup of this key can price another entry"
        elif m.usd_per_request:
            excluded[m.key] = "LiteLLM's cost_per_token does not charge input_cost_per_request"
        else:
            eligible.append(m)
    return eligible, excluded


def _sample(models: list, rng: random.Random) -> list:
    """A deterministic, stratified sample: long-context models, tiered models, the rest."""
    if os.environ.get("FINOPS_PARITY_ALL"):
        return models
    banded = [m for m in models if any(above for (_t, above) in m.rates)]
    tiered = [m for m in models if m not in banded and any(t != "standard" for (t, _a) in m.rates)]
    rest = [m for m in models if m not in banded and m not in tiered]
    picked = []
    for group, size in ((banded, 160), (tiered, 160), (rest, 300)):
        picked += rng.sample(group, min(size, len(group)))
    return sorted(picked, key=lambda m: m.key)


_PROMPT_CLASSES = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "input_audio",
    "input_image",
)


def _scenarios(model, rng: random.Random, litellm_provider: str) -> list[dict]:
    """Usage rows for one model: plain, with cache, every priced class, each band edge, tiers."""
    ignores = LITELLM_IGNORES.get(litellm_provider, set())
    std = model.rates[("standard", 0)]
    if "cache_writes" in ignores:
        std = {c: r for c, r in std.items() if not c.startswith("cache_write")}
    bands = [] if "bands" in ignores else sorted({above for (_t, above) in model.rates if above})
    tiers = sorted({t for (t, _a) in model.rates if t != "standard"})
    if "tiers" in ignores:
        tiers = [t for t in tiers if t == "batch"]
    rows = []

    def row(tier: str, **tokens: int) -> None:
        rows.append({"tier": tier, **{c: tokens.get(c, 0) for c in (*_PROMPT_CLASSES,
                    "output", "output_audio", "output_image")}})  # fmt: skip

    plain = {c: rng.randint(1, 60_000) for c in ("input", "output") if c in std}
    if not plain:
        return rows
    row("standard", **plain)
    cached = dict(plain)
    for cls in ("cache_read", "cache_write_5m"):
        if cls in std:
            cached[cls] = rng.randint(1, 80_000)
    if cached != plain:
        row("standard", **cached)
    rich = dict(cached)
    for cls in ("cache_write_1h", "input_audio", "output_audio", "input_image", "output_image"):
        if cls in std:
            rich[cls] = rng.randint(1, 5_000)
    if rich != cached:
        row("standard", **rich)

    def sized(prompt: int) -> dict[str, int]:
        """The rich row's classes with `prompt` prompt tokens in all (plain when they don't fit)."""
        others = sum(rich.get(c, 0) for c in _PROMPT_CLASSES if c != "input")
        return dict(rich, input=prompt - others) if others < prompt else dict(plain, input=prompt)

    for above in bands:
        row("standard", **sized(above))  # the largest prompt below the band
        row("standard", **sized(above + 1))  # the smallest prompt in it
    for tier in tiers:
        row(tier, **rich)
        if bands:
            row(tier, **sized(bands[-1] + rng.randint(1, 10_000)))
    return rows


def _litellm_cost(litellm, key: str, provider: str, s: dict) -> float:
    """LiteLLM's cost for one usage row, through its public cost_per_token."""
    from litellm.types.utils import (
        CacheCreationTokenDetails,
        CompletionTokensDetailsWrapper,
        PromptTokensDetailsWrapper,
        Usage,
    )

    # LiteLLM's prompt_tokens include cache reads and writes (OpenAI's convention)
    prompt = sum(s[c] for c in _PROMPT_CLASSES)
    completion = s["output"] + s["output_audio"] + s["output_image"]
    extra: dict = {}
    if s["tier"] in ("priority", "flex"):
        extra["service_tier"] = s["tier"]
    elif s["tier"] == "batch":
        extra["call_type"] = "retrieve_batch"
    if any(
        s[c]
        for c in ("cache_write_1h", "input_audio", "output_audio", "input_image", "output_image")
    ):
        writes = s["cache_write_5m"] + s["cache_write_1h"]
        usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            prompt_tokens_details=PromptTokensDetailsWrapper(
                text_tokens=s["input"],
                cached_tokens=s["cache_read"] or None,
                cache_write_tokens=writes or None,
                audio_tokens=s["input_audio"] or None,
                image_tokens=s["input_image"] or None,
                cache_creation_token_details=CacheCreationTokenDetails(
                    ephemeral_5m_input_tokens=s["cache_write_5m"],
                    ephemeral_1h_input_tokens=s["cache_write_1h"],
                )
                if writes
                else None,
            ),
            completion_tokens_details=CompletionTokensDetailsWrapper(
                text_tokens=s["output"],
                audio_tokens=s["output_audio"] or None,
                image_tokens=s["output_image"] or None,
            )
            if s["output_audio"] or s["output_image"]
            else None,
        )
        call = {"model": key, "usage_object": usage, **extra}
    else:
        call = {
            "model": key,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "cache_read_input_tokens": s["cache_read"],
            "cache_creation_input_tokens": s["cache_write_5m"],
            **extra,
        }
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(**call)
    except Exception:  # noqa: BLE001 - a bare key LiteLLM cannot route: name its provider
        prompt_cost, completion_cost = litellm.cost_per_token(custom_llm_provider=provider, **call)
    return prompt_cost + completion_cost


@pytest.fixture(scope="module")
def litellm_module():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the map
    module = pytest.importorskip("litellm")
    module.suppress_debug_info = True
    return module


def test_priced_usage_matches_litellm_cost_per_token(litellm_module, tmp_path: Path):
    litellm = litellm_module
    litellm_json = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    pricing = tmp_path / "pricing"
    report = import_litellm(litellm_json, pricing, valid_from=JAN)
    raw = read_litellm_map(litellm_json)
    eligible, excluded = _parity_models(litellm_json, report)
    rng = random.Random(PARITY_SEED)
    sample = _sample(eligible, rng)
    assert len(sample) >= 500

    rows = []
    for model in sample:
        provider = raw[model.key]["litellm_provider"]
        rows += [(model, provider, s) for s in _scenarios(model, rng, provider)]
    usage = tmp_path / "usage.csv"
    with usage.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["period_start", "provider", "model", "requests", "service_tier",
                      *[f"{c}_tokens" for c in (*_PROMPT_CLASSES, "output", "output_audio",
                        "output_image")], "request_id"])  # fmt: skip
        for n, (model, _provider, s) in enumerate(rows):
            tokens = [s[c] for c in (*_PROMPT_CLASSES, "output", "output_audio", "output_image")]
            out.writerow([PARITY_DAY, model.provider, model.key, 1, s["tier"], *tokens, f"r{n}"])
    with open_session(tmp_path / "store.duckdb", pricing) as session:
        ingest(session, [usage])
        frame = priced_rows(
            session.con, revision_id=session.revision_id, thresholds=session.catalog.thresholds
        )
        catalog = session.catalog
    finops_cost = {r["request_id"]: r for r in frame.iter_rows(named=True)}
    assert len(finops_cost) == len(rows)
    # every LiteLLM key names its own model in the catalog
    misnamed = [m.key for m in convert_litellm(raw) if catalog.find(m.provider, m.key).id != m.id]
    assert misnamed == []

    mismatches = []
    for n, (model, provider, s) in enumerate(rows):
        priced = finops_cost[f"r{n}"]
        expected = _litellm_cost(litellm, model.key, provider, s)
        got = priced["cost_usd"]
        if got is None or abs(float(got) - expected) > 1e-9 * abs(expected) + 1e-15:
            mismatches.append(f"{model.key} {s}: finops {got} ({priced['unpriced_reason']}), "
                              f"litellm {expected!r}")  # fmt: skip
    assert not mismatches, f"{len(mismatches)} of {len(rows)} rows differ:\n" + "\n".join(
        mismatches[:15]
    )
    # the comparison is not vacuous: real money, every kind of row
    assert sum(1 for r in frame.iter_rows(named=True) if r["cost_usd"]) > 0.95 * len(rows)
    assert {s["tier"] for _m, _p, s in rows} == {"standard", "batch", "priority", "flex"}
    assert sum(1 for _m, _p, s in rows if s["cache_write_1h"]) > 20
    assert sum(1 for _m, _p, s in rows if s["input"] > 100_000) > 100
    assert len(excluded) < 0.05 * len(eligible)
