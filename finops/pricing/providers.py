"""One provider vocabulary: every spelling of a provider that logs and exports carry, to the
catalog's provider id.

LiteLLM's `litellm_provider` / `custom_llm_provider` values, OpenTelemetry's `gen_ai.system` /
`gen_ai.provider.name` values and gateway prefixes all name the same providers differently; every
ingest path and the LiteLLM importer normalise through this one table.
"""

from __future__ import annotations

import re

__all__ = ["finops_provider"]

#: LiteLLM `litellm_provider` values whose finops provider id is not just the normalised name.
_PROVIDER_IDS: dict[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "bedrock_mantle": "aws-bedrock",
    "azure": "azure-openai",
    "azure_text": "azure-openai",
    "mistral": "mistral",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "moonshot": "moonshotai",
}


def finops_provider(litellm_provider: str) -> str:
    """The finops provider id for a LiteLLM `litellm_provider` value.

    >>> finops_provider("vertex_ai-anthropic_models"), finops_provider("fal_ai")
    ('google-vertex', 'fal-ai')
    """
    name = litellm_provider.strip().lower()
    if name in _PROVIDER_IDS:
        return _PROVIDER_IDS[name]
    if name.startswith("vertex_ai"):
        return "google-vertex"
    if name.startswith("fireworks_ai"):
        return "fireworks"
    return re.sub(r"[^a-z0-9.]+", "-", name).strip("-")
