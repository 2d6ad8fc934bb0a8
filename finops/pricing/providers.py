"""One provider vocabulary: every spelling of a provider that logs and exports carry, to the
catalog's provider id.

LiteLLM's `litellm_provider` / `custom_llm_provider` values (`bedrock_converse`,
`vertex_ai-anthropic_models`, `together_ai`), OpenTelemetry's `gen_ai.provider.name` and older
`gen_ai.system` values (`aws.bedrock`, `az.ai.openai`, `gcp.vertex_ai`), FOCUS `ProviderName`
values and gateway prefixes (`openai/gpt-4o`) all name the same providers differently. Every
ingest path and the LiteLLM importer normalise through :func:`normalise_provider`; a name the
table does not know keeps a normalised spelling of its own (lower case, runs of other characters
as one hyphen), and :func:`closest_provider` names the known provider it most resembles.

Sources: LiteLLM's provider list (`litellm/types/utils.py` `LlmProviders`, and the
`litellm_provider` values of its price map), the OpenTelemetry GenAI semantic conventions
(`gen_ai.provider.name` well-known values; `gen_ai.system` before v1.37), the FOCUS 1.x
`ProviderName` column.

>>> [normalise_provider(n) for n in ("bedrock_converse", "gcp.vertex_ai", "Together AI", "fal_ai")]
['aws-bedrock', 'google-vertex', 'together', 'fal-ai']
"""

from __future__ import annotations

import re

__all__ = [
    "GATEWAYS",
    "finops_provider",
    "gateway_provider",
    "normalise_provider",
]

#: Spelling (as :func:`_key` writes it: lower case, hyphens) → catalog provider id.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "openai": ("openai", "text-completion-openai", "chatgpt", "openai-api"),
    "anthropic": ("anthropic", "claude", "anthropic-api"),
    "azure-openai": (
        "azure",
        "azure-openai",
        "azure-text",
        "azure-ai-openai",  # OTel gen_ai.provider.name azure.ai.openai
        "az-ai-openai",  # OTel gen_ai.system before v1.37
        "azureopenai",
        "microsoft-azure",  # FOCUS ProviderName
        "microsoft",
    ),
    "azure-ai": ("azure-ai", "azure-ai-inference", "az-ai-inference"),
    "aws-bedrock": (
        "bedrock",
        "bedrock-converse",
        "bedrock-mantle",
        "aws-bedrock",
        "amazon-bedrock",
        "aws",  # FOCUS ProviderName
        "amazon-web-services",
        "amazon-web-services-inc",
    ),
    "google-vertex": (
        "vertex",
        "vertexai",
        "vertex-ai",
        "vertex-ai-beta",
        "google-vertex",
        "google-vertex-ai",
        "gcp-vertex-ai",  # OTel
        "google-cloud",  # FOCUS ProviderName
        "gcp",
    ),
    "google": (
        "google",
        "gemini",
        "google-ai-studio",
        "google-gemini",
        "gcp-gemini",  # OTel
        "gcp-gen-ai",  # OTel: the Gemini API or Vertex; the Gemini API is the common case
        "google-genai",
    ),
    "mistral": ("mistral", "mistral-ai", "mistralai", "codestral", "text-completion-codestral"),
    "deepseek": ("deepseek", "deepseek-ai"),
    "xai": ("xai", "x-ai", "grok"),
    "groq": ("groq",),
    "together": ("together", "together-ai", "togetherai", "together-computer"),
    "fireworks": ("fireworks", "fireworks-ai", "fireworksai"),
    "cohere": ("cohere", "cohere-chat", "cohere-ai"),
    "perplexity": ("perplexity", "perplexity-ai", "perplexityai"),
    "cerebras": ("cerebras", "cerebras-ai"),
    "moonshotai": ("moonshotai", "moonshot", "moonshot-ai", "kimi"),
}
_IDS: dict[str, str] = {s: provider for provider, names in _SPELLINGS.items() for s in names}

#: LiteLLM spells a provider's sub-catalogues as `<provider>-<what>` (`vertex_ai-anthropic_models`).
_FAMILY_PREFIXES = (
    ("vertex-ai-", "google-vertex"),
    ("fireworks-ai-", "fireworks"),
    ("bedrock-", "aws-bedrock"),
)

#: Gateways that route to other providers and name the model `provider/model` (OpenRouter ids).
GATEWAYS = frozenset({"openrouter", "vercel-ai-gateway", "litellm", "litellm-proxy", "portkey"})


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


def normalise_provider(name: str) -> str:
    """The catalog provider id for any spelling of a provider; an unknown name keeps a normalised
    spelling of its own (dots kept: `ibm.watsonx.ai`).

    >>> normalise_provider("vertex_ai-anthropic_models"), normalise_provider("az.ai.openai")
    ('google-vertex', 'azure-openai')
    >>> normalise_provider("ibm.watsonx.ai"), normalise_provider("  Fireworks_AI ")
    ('ibm.watsonx.ai', 'fireworks')
    """
    key = _key(name)
    if key in _IDS:
        return _IDS[key]
    for prefix, provider in _FAMILY_PREFIXES:
        if key.startswith(prefix):
            return provider
    return re.sub(r"[^a-z0-9.]+", "-", name.strip().lower()).strip("-")


def finops_provider(litellm_provider: str) -> str:
    """The catalog provider id for a LiteLLM `litellm_provider` value (:func:`normalise_provider`).

    >>> finops_provider("vertex_ai-anthropic_models"), finops_provider("fal_ai")
    ('google-vertex', 'fal-ai')
    """
    return normalise_provider(litellm_provider)


def gateway_provider(provider: str, model: str) -> str:
    """For a gateway's row (`openrouter`, `openai/gpt-4o`): the provider the model id names, when
    the table knows it; any other row keeps its provider.

    >>> gateway_provider("openrouter", "anthropic/claude-sonnet-4"), gateway_provider("openai", "x/y")
    ('anthropic', 'openai')
    """
    if normalise_provider(provider) not in GATEWAYS or "/" not in model:
        return provider
    head = _key(model.split("/", 1)[0])
    return _IDS.get(head, provider)
