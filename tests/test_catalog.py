from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from finops.pricing.catalog import CatalogError, load_catalog

BASE = """
provider: acme
models:
  - id: alpha
    aliases: [alpha-1]
    prices:
      - valid_from: 2025-01-01
        source: https://example.com
        usd_per_mtok: {input: 2, output: 8}
"""


def _write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "cat"
    folder.mkdir(exist_ok=True)
    (folder / "acme.yaml").write_text(text)
    return folder


def test_prices_are_exact_decimals_and_periods_close_at_the_next(tmp_path):
    folder = _write(
        tmp_path,
        BASE
        + """      - valid_from: 2025-06-01
        usd_per_mtok: {input: 0.075, output: 0.3}
        batch: {multiplier: 0.5}
""",
    )
    cat = load_catalog(folder)
    (alpha,) = cat.models
    first, second = alpha.periods
    assert first.valid_to == second.valid_from
    assert second.rates[("standard", 0)]["input"] == Decimal("0.075")
    assert second.rates[("batch", 0)]["input"] == Decimal("0.0375")


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        (
            """      - valid_from: 2025-06-01
        valid_to: 2025-08-01
        usd_per_mtok: {input: 1}
      - valid_from: 2025-07-01
        usd_per_mtok: {input: 1}
""",
            "prices[1].valid_to",
            "overlaps",
        ),
        (
            """      - valid_from: 2025-06-01
        usd_per_mtok: {input: -1}
""",
            "prices[1].usd_per_mtok.input",
            "negative",
        ),
        (
            """      - valid_from: 2025-06-01
        usd_per_mtok: {inptu: 1}
""",
            "prices[1].usd_per_mtok.inptu",
            "unknown token class",
        ),
        (
            """      - valid_from: 2025-06-01
        usd_per_mtok: {input: 1}
        long_context:
          - above_tokens: 200000
""",
            "prices[1].long_context[0].usd_per_mtok",
            "needs its rates",
        ),
    ],
)
def test_validation_errors_name_file_model_and_field(tmp_path, extra, field, problem):
    folder = _write(tmp_path, BASE + extra)
    with pytest.raises(CatalogError) as info:
        load_catalog(folder)
    message = str(info.value)
    assert message.startswith(f"acme.yaml, model alpha, field {field}: ")
    assert problem in message


def test_an_alias_may_name_only_one_model(tmp_path):
    folder = _write(
        tmp_path,
        BASE
        + """  - id: beta
    aliases: [alpha-1]
    prices:
      - valid_from: 2025-01-01
        usd_per_mtok: {input: 1}
""",
    )
    with pytest.raises(
        CatalogError,
        match=r"acme.yaml, model beta, field aliases: 'alpha-1' already names model alpha",
    ):
        load_catalog(folder)


def test_bundled_catalog_loads():
    cat = load_catalog(Path(__file__).resolve().parent.parent / "pricing")
    assert len(cat.models) > 10
    assert all(p.source for m in cat.models for p in m.periods)
