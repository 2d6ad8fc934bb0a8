"""Catalog YAML with exact decimals: read (floats become Decimal) and write (the house layout).

The loader reads every float as a :class:`~decimal.Decimal`, so ``0.075`` stays ``0.075``; the
writer puts rate blocks and alias lists inline, quotes only what YAML would read differently,
and writes decimals in plain notation, so a written file reads back to the same document.

>>> doc = {"provider": "acme", "models": [{"id": "m-1", "aliases": ["yes"],
...        "prices": [{"valid_from": dt.date(2026, 1, 1), "usd_per_mtok": {"input": Decimal("0.075")}}]}]}
>>> print(dump_catalog_yaml(doc), end="")
provider: acme
models:
  - id: m-1
    aliases: ["yes"]
    prices:
      - valid_from: 2026-01-01
        usd_per_mtok: {input: 0.075}
>>> load_exact_yaml(dump_catalog_yaml(doc))["models"][0]["prices"][0]["usd_per_mtok"]
{'input': Decimal('0.075')}
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DecimalLoader", "dump_catalog_yaml", "load_exact_yaml", "read_catalog_docs"]


class DecimalLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present
    """SafeLoader that reads floats as Decimal, so 0.075 stays 0.075."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    return Decimal(text)


DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def load_exact_yaml(text: str) -> Any:
    """Parse YAML text with every float as an exact Decimal (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=DecimalLoader)


def read_catalog_docs(folder: Path) -> dict[str, dict[str, Any]]:
    """Every YAML file of a catalog folder as a raw document, keyed by file name."""
    docs = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        docs[path.name] = load_exact_yaml(path.read_text(encoding="utf-8"))
    return docs


# a name YAML reads back as the same string in block and flow context; anything else is quoted
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9._/@+-]*(?::[A-Za-z0-9][A-Za-z0-9._/@+-]*)*$")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _is_flow(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(not isinstance(v, (dict, list)) for v in value.values())
    return True


def _flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def _emit(mapping: dict[str, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        if _is_flow(value):
            lines.append(f"{pad}{_scalar(key)}: {_flow(value)}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{_scalar(key)}:")
            _emit(value, indent + 2, lines)
        else:
            lines.append(f"{pad}{_scalar(key)}:")
            for item in value:
                if isinstance(item, dict):
                    sub: list[str] = []
                    _emit(item, indent + 4, sub)
                    sub[0] = f"{pad}  - {sub[0][indent + 4 :]}"
                    lines.extend(sub)
                else:
                    lines.append(f"{pad}  - {_flow(item)}")


def dump_catalog_yaml(doc: dict[str, Any], header: str = "") -> str:
    """A catalog document as YAML in the house layout (rate blocks and alias lists inline)."""
    lines: list[str] = []
    _emit(doc, 0, lines)
    return header + "\n".join(lines) + "\n"
