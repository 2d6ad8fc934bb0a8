"""The bundled catalog against LiteLLM's price map: coverage of current chat and reasoning models.

For every LiteLLM 1.110.2 key of the 16 providers the catalog covers whose mode is `chat` or
`responses`, or that LiteLLM marks `supports_reasoning`, and that LiteLLM prices per token (keys
priced only per request, per commitment or not at all have no per-token price to compare), the key
must resolve to a catalog model through the importer's own names (`finops_provider` for the
provider, `Catalog.find` for the key, the importer's model id as a fallback) whose price period in
force on CATALOG_DAY equals LiteLLM's rates, or differs for a reason listed in ALLOWED_DIFFERENCES.

"Equal" means: every standard-tier rate LiteLLM gives (for each long-context band) is the catalog's,
the catalog has no standard band LiteLLM lacks, and where both price a priority or flex tier (or
band of it) their input and output rates agree. Batch tiers are not compared: LiteLLM's batch
calculator bills classes it has no batch price for at derived rates the catalog does not copy.

Measure it with: PYTHONPATH=$PWD python -m pytest tests/test_catalog_coverage.py -q -s
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from finops.pricing.catalog import load_catalog
from finops.pricing.litellm_convert import convert_litellm, read_litellm_map
from finops.pricing.providers import finops_provider

PRICING = Path(__file__).resolve().parent.parent / "pricing"
CATALOG_DAY = dt.date(2026, 12, 7)  # "last brought up to date" in pricing/README.md
COVERAGE_FLOOR = 0.95
CHAT_MODES = {"chat", "responses"}

# Keys whose catalog price differs from LiteLLM 1.110.2 on purpose, each with its reason and source.
_SONNET45_BAND = "Anthropic bills prompts over 200k tokens on Sonnet 4.5 at the long-context rates (https://docs.anthropic.com/en/docs/about-claude/pricing#long-context-pricing); LiteLLM 1.110.2 dropped the band"
_INREGION = "AWS bills in-Region Claude 4.5+ inference 10% above the global profile (https://aws.amazon.com/bedrock/pricing/); LiteLLM prices the in-Region id at the global rate"
_NOVA_REGION = "the catalog prices Bedrock at us-east-1 (pricing/README.md); LiteLLM's apac./eu. profile entries carry other regions' prices"
_DS_WRITE = "DeepSeek bills no cache writes (a cache miss is billed as input, https://api-docs.deepseek.com/quick_start/pricing); LiteLLM lists cache_creation 0 and the catalog leaves the class out"
_DS_OLD = "LiteLLM keeps this alias at the R1/V3 launch price; the DeepSeek API serves it as deepseek-reasoner/deepseek-chat, repriced 2025-09-29 (https://api-docs.deepseek.com/news/news250929)"
_FW_V4 = "alias of the catalog's fireworks deepseek-v4-flash at its launch price; LiteLLM 1.110.2 lists a later price whose start date is not sourced"
_CACHE_UNSOURCED = "LiteLLM lists a cache-read rate that the catalog's source for this model (genai-prices) does not; no date for it is sourced, so cache reads stay unpriced"
_EXP_FREE = "experimental model, free of charge on the Gemini API (https://ai.google.dev/gemini-api/docs/models/experimental-models); LiteLLM lists paid rates"
_TTS_AUDIO = (
    "the catalog has no sourced audio rates for this TTS model; LiteLLM lists audio and cache rates"
)
_G35_AUDIO = "no separate audio-input rate on the catalog's source (https://ai.google.dev/gemini-api/docs/pricing); LiteLLM lists one"
_FLASH_BAND = "LiteLLM adds a >200k-token band that the catalog's source (genai-prices, Google's pricing page) does not list for this Flash model"
_V_HAIKU = "the catalog applies the 2024-12-03 cut to $0.80 / $4 (https://www.anthropic.com/news/trainium2-and-distillation); LiteLLM still lists the launch price"
_NEMO_VERTEX = "LiteLLM's Vertex Mistral Nemo entries disagree ($3 vs $0.15 per Mtok); the catalog keeps its sourced Vertex rate"
_GROQ_ROUND = "Groq's cache-read rate is half of $0.075 = $0.0375; LiteLLM rounds it to $0.037"
_NEMO_CUT = "Mistral cut Nemo to $0.15 on 2024-09-17 (https://mistral.ai/news/september-24-release); LiteLLM lists the launch price"
_MEDIUM_BARE = "LiteLLM prices bare `mistral-medium` as the moving alias (now Medium 3.5); the catalog names Mistral Medium 3.1 with it"
_SEARCH_CACHE = "OpenAI lists no cached-input rate for the search-preview models (https://platform.openai.com/docs/pricing); LiteLLM adds one"
_TOGETHER_LLAMA = "together.ai's pricing page lists $0.88 / $0.88 for Llama 3.3 70B Turbo (https://www.together.ai/pricing); LiteLLM 1.110.2 lists $1.04"
_XAI_IMAGE = "xAI publishes no separate image-token price (https://docs.x.ai/docs/models): image tokens are input; LiteLLM lists input_cost_per_image_token"
_XAI_EDGE = "same 200k band: LiteLLM bills xAI's long-context rate from exactly 200k tokens (importer: above_tokens 199999), the catalog above 200k; the prices are equal"
ALLOWED_DIFFERENCES: dict[str, str] = {
    "gemini/gemini-4-argon": (
        "Gemini 4 Argon's introductory $2 / $10 ended 2026-11-30; list rates $4 / $20 from 2026-12-01 "
        "(https://aistudio.google.com/docs/pricing#gemini-4-argon); LiteLLM 1.110.2 lists the old rate"
    ),
    "anthropic.claude-haiku-4-5-20251001-v1:0": _INREGION,
    "anthropic.claude-opus-4-5-20251101-v1:0": _INREGION,
    "anthropic.claude-opus-4-6-v1": _INREGION,
    "anthropic.claude-opus-4-7": _INREGION,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": _INREGION,
    "anthropic.claude-sonnet-4-6": _INREGION,
    "apac.amazon.nova-lite-v1:0": _NOVA_REGION,
    "apac.amazon.nova-pro-v1:0": _NOVA_REGION,
    "claude-sonnet-4-5": _SONNET45_BAND,
    "claude-sonnet-4-5-20250929": _SONNET45_BAND,
    "deepseek-flash": _DS_WRITE,
    "deepseek-v4-flash": _DS_WRITE,
    "deepseek-v4-flash-vision-exp": _DS_WRITE,
    "deepseek-v4-pro": _DS_WRITE,
    "deepseek/deepseek-chat": _DS_WRITE,
    "deepseek/deepseek-flash": _DS_WRITE,
    "deepseek/deepseek-r1": _DS_OLD,
    "deepseek/deepseek-v3": _DS_OLD,
    "deepseek/deepseek-v4-flash": _DS_WRITE,
    "deepseek/deepseek-v4-flash-vision-exp": _DS_WRITE,
    "deepseek/deepseek-v4-pro": _DS_WRITE,
    "eu.amazon.nova-lite-v1:0": _NOVA_REGION,
    "eu.amazon.nova-pro-v1:0": _NOVA_REGION,
    "fireworks_ai/accounts/fireworks/models/deepseek-v4-flash-0731": _FW_V4,
    "fireworks_ai/accounts/fireworks/models/glm-4p7": _CACHE_UNSOURCED,
    "fireworks_ai/accounts/fireworks/models/minimax-m2p1": _CACHE_UNSOURCED,
    "fireworks_ai/glm-4p7": _CACHE_UNSOURCED,
    "fireworks_ai/minimax-m2p1": _CACHE_UNSOURCED,
    "gemini-2.5-flash": _FLASH_BAND,
    "gemini-2.5-flash-lite": _FLASH_BAND,
    "gemini-3-flash-preview": _FLASH_BAND,
    "gemini-3.1-flash-lite": _FLASH_BAND,
    "gemini-exp-1206": _EXP_FREE,
    "gemini/gemini-2.5-pro-preview-tts": _TTS_AUDIO,
    "gemini/gemini-3.5-flash": _G35_AUDIO,
    "gpt-4o-search-preview": _SEARCH_CACHE,
    "gpt-4o-search-preview-2025-03-11": _SEARCH_CACHE,
    "groq/openai/gpt-oss-safeguard-20b": _GROQ_ROUND,
    "mistral/codestral-latest": _CACHE_UNSOURCED,
    "mistral/devstral-small-latest": _CACHE_UNSOURCED,
    "mistral/mistral-medium": _MEDIUM_BARE,
    "mistral/open-mistral-nemo": _NEMO_VERTEX,
    "mistral/pixtral-large-latest": _CACHE_UNSOURCED,
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": _TOGETHER_LLAMA,
    "vertex_ai/claude-3-5-haiku": _V_HAIKU,
    "vertex_ai/claude-3-5-haiku@20241022": _V_HAIKU,
    "vertex_ai/gemini-3-flash-preview": _FLASH_BAND,
    "vertex_ai/gemini-3.1-flash-lite": _FLASH_BAND,
    "vertex_ai/mistral-nemo@latest": _NEMO_VERTEX,
    "xai/grok-4.20": _XAI_IMAGE,
    "xai/grok-4.20-0309-non-reasoning": _XAI_IMAGE,
    "xai/grok-4.20-0309-reasoning": _XAI_IMAGE,
    "xai/grok-4.20-beta-0309-non-reasoning": _XAI_EDGE,
    "xai/grok-4.20-beta-0309-reasoning": _XAI_EDGE,
    "xai/grok-4.20-multi-agent": _XAI_IMAGE,
    "xai/grok-4.20-multi-agent-0309": _XAI_IMAGE,
    "xai/grok-4.20-multi-agent-beta-0309": _XAI_IMAGE,
    "xai/grok-4.20-multi-agent-beta-latest": _XAI_IMAGE,
    "xai/grok-4.20-multi-agent-latest": _XAI_IMAGE,
    "xai/grok-4.20-non-reasoning": _XAI_EDGE,
    "xai/grok-4.20-non-reasoning-latest": _XAI_EDGE,
    "xai/grok-4.20-reasoning": _XAI_EDGE,
    "xai/grok-4.20-reasoning-latest": _XAI_EDGE,
    "xai/grok-4.3": _XAI_IMAGE,
    "xai/grok-4.3-latest": _XAI_IMAGE,
    "xai/grok-build-0.1": _XAI_IMAGE,
}


@pytest.fixture(scope="module")
def litellm_map() -> dict:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the map
    litellm = pytest.importorskip("litellm")
    path = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    return read_litellm_map(path)


def _current(model):
    live = [
        p
        for p in model.periods
        if p.valid_from <= CATALOG_DAY and (p.valid_to is None or p.valid_to > CATALOG_DAY)
    ]
    return max(live, key=lambda p: p.valid_from) if live else None


def _differences(imported, period) -> list[str]:
    if period is None:
        return [f"no price period in force on {CATALOG_DAY}"]
    out = []
    for (tier, above), rates in imported.rates.items():
        if tier == "batch":
            continue
        ours = period.rates.get((tier, above))
        if ours is None:
            if tier == "standard":
                out.append(f"no standard band above {above}")
            continue
        for cls, rate in rates.items():
            if (tier == "standard" or cls in ("input", "output")) and ours.get(cls) != rate:
                out.append(f"{tier}/{above}/{cls}: catalog {ours.get(cls)}, LiteLLM {rate}")
    theirs = {above for (tier, above) in imported.rates if tier == "standard"}
    for tier, above in period.rates:
        if tier == "standard" and above not in theirs:
            out.append(f"catalog band above {above} that LiteLLM lacks")
    return out


def _coverage(raw: dict, catalog) -> dict:
    providers = {m.provider for m in catalog.models}
    imported = {}
    for model in convert_litellm(raw):
        for name in (model.key, *model.aliases):
            imported.setdefault(name, model)
    result = {"matched": [], "allowed": [], "differs": {}, "unresolved": [], "no_token_price": []}
    for key, entry in sorted(raw.items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("litellm_provider"), str):
            continue
        provider = finops_provider(entry["litellm_provider"])
        if provider not in providers:
            continue
        if entry.get("mode") not in CHAT_MODES and entry.get("supports_reasoning") is not True:
            continue
        model = imported.get(key) or imported.get(key.lower())
        if model is None:
            result["no_token_price"].append(key)
            continue
        found = catalog.find(provider, key) or catalog.find(provider, model.id)
        if found is None:
            result["unresolved"].append(key)
            continue
        diff = _differences(model, _current(found))
        if not diff:
            result["matched"].append(key)
        elif key in ALLOWED_DIFFERENCES:
            result["allowed"].append(key)
        else:
            result["differs"][key] = f"{provider}/{found.id}: " + "; ".join(diff[:4])
    return result


def test_litellm_chat_keys_resolve_to_catalog_models_with_litellm_prices(litellm_map):
    result = _coverage(litellm_map, load_catalog(PRICING))
    total = len(result["matched"]) + len(result["allowed"]) + len(result["differs"])
    total += len(result["unresolved"])
    covered = len(result["matched"]) + len(result["allowed"])
    share = covered / total
    print(
        f"\ncatalog coverage of LiteLLM 1.110.2 chat/reasoning keys: {covered}/{total} = {share:.1%} "
        f"({len(result['matched'])} equal, {len(result['allowed'])} allowed differences, "
        f"{len(result['differs'])} other differences, {len(result['unresolved'])} unresolved; "
        f"{len(result['no_token_price'])} keys without a per-token price not counted)"
    )
    for key, why in sorted(result["differs"].items()):
        print(f"  differs: {key}: {why}")
    for key in result["unresolved"]:
        print(f"  unresolved: {key}")
    assert share >= COVERAGE_FLOOR


def test_the_allowlist_names_only_keys_that_resolve_and_differ(litellm_map):
    result = _coverage(litellm_map, load_catalog(PRICING))
    stale = sorted(set(ALLOWED_DIFFERENCES) - set(result["allowed"]))
    assert stale == [], "allowlisted keys that now match (or no longer resolve): remove them"
    assert all(reason.strip() for reason in ALLOWED_DIFFERENCES.values())
