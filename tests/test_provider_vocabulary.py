"""One provider vocabulary across every ingest path (`finops/pricing/providers.py`).

Spellings come from LiteLLM's `litellm_provider` values, the OpenTelemetry GenAI conventions
(`gen_ai.provider.name`, the older `gen_ai.system`) and gateway ids (`openai/gpt-4o`). The sample
test writes a canonical CSV with LiteLLM's own provider names and keys and compares finops' cost
with `litellm.cost_per_token` (the pinned litellm in the venv, an independent oracle).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import REPO

from finops.pricing.catalog import load_catalog
from finops.pricing.costing import priced_rows
from finops.pricing.litellm_convert import read_litellm_map
from finops.pricing.providers import gateway_provider, normalise_provider
from finops.session.session import ingest, open_session

PRICING = REPO / "pricing"
CATALOG_DAY = dt.date(2026, 12, 7)
# Monday 02:00 UTC: inside DeepSeek's peak window, the rate LiteLLM lists
SAMPLE_AT = "2026-12-07T02:00:00Z"
SEED = 20261207
HEADER = [
    "period_start",
    "provider",
    "model",
    "requests",
    "input_tokens",
    "output_tokens",
    "request_id",
]


@pytest.mark.parametrize(
    ("spelling", "provider"),
    [
        ("azure", "azure-openai"),
        ("bedrock_converse", "aws-bedrock"),
        ("vertex_ai-anthropic_models", "google-vertex"),
        ("together_ai", "together"),
        ("fireworks_ai", "fireworks"),
        ("gemini", "google"),
        ("aws.bedrock", "aws-bedrock"),
        ("az.ai.openai", "azure-openai"),
        ("azure.ai.openai", "azure-openai"),
        ("gcp.vertex_ai", "google-vertex"),
        ("gcp.gemini", "google"),
        ("mistral_ai", "mistral"),
        ("x_ai", "xai"),
        ("moonshot", "moonshotai"),
        ("Amazon Web Services", "aws-bedrock"),  # FOCUS ProviderName
        ("openai", "openai"),
    ],
)
def test_every_spelling_names_one_catalog_provider(spelling: str, provider: str):
    assert normalise_provider(spelling) == provider


def test_gateway_ids_name_their_vendor():
    assert gateway_provider("openrouter", "google/gemini-2.5-pro") == "google"
    assert gateway_provider("openrouter", "unknownlab/model-1") == "openrouter"
    assert gateway_provider("openai", "openai/gpt-4o") == "openai"


def _write(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        out.writerows(rows)
    return path


def test_otel_and_gateway_spellings_price_and_unknown_providers_say_so(tmp_path: Path):
    """gpt-4o-mini in the bundled catalog: $0.15 input, $0.60 output per Mtok.

    `openai` with `openai/gpt-4o-mini` and `openrouter` with `openai/gpt-4o-mini` are both
    OpenAI: 1,000,000 input x 0.15 + 1,000,000 output x 0.60 = $0.75 each. `antropic` is
    unknown: unpriced, naming the closest known provider. `gcp.vertex_ai` is Vertex: Gemini 2.5
    Pro $1.25 per Mtok input (prompts up to 200k tokens): 100,000 x 1.25 / 1e6 = $0.125.
    """
    usage = _write(
        tmp_path / "u.csv",
        [
            [SAMPLE_AT, "openai", "openai/gpt-4o-mini", 1, 1_000_000, 1_000_000, "a"],
            [SAMPLE_AT, "openrouter", "openai/gpt-4o-mini", 1, 1_000_000, 1_000_000, "b"],
            [SAMPLE_AT, "antropic", "claude-sonnet-4-5", 1, 1_000_000, 1_000_000, "c"],
            [SAMPLE_AT, "gcp.vertex_ai", "gemini-2.5-pro", 1, 100_000, 0, "d"],
        ],
    )
    with open_session(tmp_path / "s.duckdb", PRICING) as s:
        ingest(s, [usage])
        rows = priced_rows(s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds)
    got = {r["request_id"]: r for r in rows.iter_rows(named=True)}
    assert got["a"]["cost_usd"] == Decimal("0.75")
    assert (got["b"]["provider"], got["b"]["cost_usd"]) == ("openai", Decimal("0.75"))
    assert got["c"]["cost_usd"] is None
    assert got["c"]["unpriced_reason"] == "unknown provider (closest known: anthropic)"
    assert (got["d"]["provider"], got["d"]["cost_usd"]) == ("google-vertex", Decimal("0.125"))


@pytest.fixture(scope="module")
def litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the map
    module = pytest.importorskip("litellm")
    module.suppress_debug_info = True
    return module


def _current_rates(model) -> dict[str, Decimal] | None:
    live = [
        p
        for p in model.periods
        if p.valid_from <= CATALOG_DAY and (p.valid_to is None or p.valid_to > CATALOG_DAY)
    ]
    return max(live, key=lambda p: p.valid_from).rates.get(("standard", 0)) if live else None


def _sample_keys(raw: dict, catalog) -> list[str]:
    """LiteLLM chat keys of the catalog's providers whose catalog model (found by the catalog's
    own provider id) has LiteLLM's input and output price today: the keys whose dollars depend
    only on the provider's spelling resolving. With the catalog's own provider ids all of them
    price; before the vocabulary, LiteLLM's spellings priced about half."""
    providers = {m.provider for m in catalog.models}
    eligible = []
    for key, entry in sorted(raw.items()):
        if not isinstance(entry, dict) or entry.get("mode") not in (
            "chat",
            "responses",
            "completion",
        ):
            continue
        spelling = entry.get("litellm_provider")
        if not isinstance(spelling, str) or normalise_provider(spelling) not in providers:
            continue
        if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
            continue
        # LiteLLM's cost_per_token leaves out per-request fees, and prices time-of-day entries
        # (`off_peak_pricing`) by the wall clock: those are tested where the time is given
        if entry.get("input_cost_per_request") or "off_peak_pricing" in entry:
            continue
        model = catalog.find(normalise_provider(spelling), key)
        rates = _current_rates(model) if model else None
        million = Decimal(1_000_000)
        if (
            rates
            and rates.get("input") == Decimal(entry["input_cost_per_token"]) * million
            and rates.get("output") == Decimal(entry["output_cost_per_token"]) * million
        ):
            eligible.append(key)
    return eligible


def test_litellm_provider_names_price_to_litellms_dollars(litellm, tmp_path: Path):
    raw = read_litellm_map(
        Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    )
    catalog = load_catalog(PRICING)
    eligible = _sample_keys(raw, catalog)
    assert len(eligible) >= 400
    sample = random.Random(SEED).sample(eligible, 400)
    spellings = {raw[k]["litellm_provider"] for k in sample}
    # the sample carries LiteLLM's spellings, not the catalog's ids
    assert {"azure", "bedrock_converse", "vertex_ai-anthropic_models", "together_ai",
            "fireworks_ai", "gemini"} <= spellings  # fmt: skip
    rng = random.Random(SEED)
    rows = [
        [
            SAMPLE_AT,
            raw[k]["litellm_provider"],
            k,
            1,
            rng.randint(1_000, 20_000),
            rng.randint(100, 4_000),
            f"r{n}",
        ]
        for n, k in enumerate(sample)
    ]
    usage = _write(tmp_path / "litellm_names.csv", rows)
    with open_session(tmp_path / "s.duckdb", PRICING) as s:
        ingest(s, [usage])
        frame = priced_rows(s.con, revision_id=s.revision_id, thresholds=s.catalog.thresholds)
    ours = {r["request_id"]: r for r in frame.iter_rows(named=True)}
    agree, differ = 0, []
    for _at, spelling, key, _n, prompt, completion, request_id in rows:
        try:
            costs = litellm.cost_per_token(
                model=key, prompt_tokens=prompt, completion_tokens=completion
            )
        except Exception:  # noqa: BLE001 - a bare key LiteLLM cannot route: name its provider
            costs = litellm.cost_per_token(
                model=key, prompt_tokens=prompt, completion_tokens=completion,
                custom_llm_provider=spelling,
            )  # fmt: skip
        expected = sum(costs)
        got = ours[request_id]["cost_usd"]
        if got is not None and abs(float(got) - expected) <= 1e-9 * abs(expected) + 1e-15:
            agree += 1
        else:
            differ.append(
                f"{spelling} {key}: finops {got} ({ours[request_id]['unpriced_reason']}), litellm {expected!r}"
            )
    print(f"LiteLLM provider spellings: {agree} of 400 rows at LiteLLM's dollars")
    assert agree >= 396, f"{len(differ)} of 400 differ:\n" + "\n".join(differ[:20])
