"""OpenAI fine-tunes (`ft:BASE:ORG:SUFFIX:JOB`) are priced at the base's fine-tuned rates, and
fine-tuning training in a cost export lands as reported cost, never as usage.

Rates (bundled catalog, https://platform.openai.com/docs/pricing, "Fine-tuning"): fine-tuned
gpt-4o-mini-2024-07-18 input $0.30, cached input $0.15, output $1.20 per million tokens, batch half;
base gpt-4o-mini $0.15 / $0.60.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from conftest import REPO

from finops.pricing.catalog import load_catalog, model_lookup_name
from finops.session.session import ingest, open_session

PRICING = REPO / "pricing"
FT = "ft:gpt-4o-mini-2024-07-18:acme::b7x9q2"
HEADER = (
    "period_start,period_end,provider,model,requests,input_tokens,cache_read_tokens,"
    "output_tokens,service_tier\n"
)


def test_a_fine_tune_resolves_to_its_bases_fine_tuned_model():
    catalog = load_catalog(PRICING)
    model = catalog.find("openai", FT)
    assert model is not None and model.id == "ft:gpt-4o-mini-2024-07-18"
    assert model.fine_tuned_of == "gpt-4o-mini"
    # a named suffix and another job of the same base resolve alike; the base itself does not
    assert catalog.find("openai", "ft:gpt-4o-mini-2024-07-18:acme:support-bot:9zz").id == model.id
    assert catalog.find("openai", "gpt-4o-mini-2024-07-18").id == "gpt-4o-mini"
    assert model_lookup_name("ft:davinci-002") == "ft:davinci-002"


def test_fine_tune_usage_is_priced_at_fine_tuned_rates(tmp_path: Path):
    """Two rows on 2025-06-02 (fine-tuned rates per Mtok: in 0.30, cached 0.15, out 1.20):

    standard: 2,000,000 input x 0.30 = 0.60; 1,000,000 cached x 0.15 = 0.15;
              500,000 output x 1.20 = 0.60                        -> $1.35
    batch (half): 1,000,000 input x 0.15 = 0.15; 1,000,000 output x 0.60 = 0.60 -> $0.75
    total $2.10. At the base gpt-4o-mini's rates the standard row alone would be
    2 x 0.15 + 0.5 x 0.60 = $0.60 for its input and output: the fine-tune must not get those.
    """
    usage = tmp_path / "ft.csv"
    usage.write_text(
        HEADER
        + f"2025-06-02T10:00:00Z,,openai,{FT},10,2000000,1000000,500000,standard\n"
        + f"2025-06-02T11:00:00Z,,openai,{FT},4,1000000,,1000000,batch\n"
    )
    with open_session(tmp_path / "s.duckdb", PRICING) as s:
        ingest(s, [usage])
        frame = s.spend(["model", "service_tier"])
    costs = {row["service_tier"]: row["cost_usd"] for row in frame.iter_rows(named=True)}
    assert costs == {"standard": Decimal("1.35"), "batch": Decimal("0.75")}
    assert frame["model"].unique().to_list() == ["ft:gpt-4o-mini-2024-07-18"]
    assert frame["unpriced_rows"].sum() == 0


def test_training_cost_lines_land_as_reported_cost_not_usage(tmp_path: Path):
    """An OpenAI Costs page with one fine-tuning training line ($12.345678) and one inference
    line: both are reported costs (what was billed), and no usage row is created."""
    page = {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": 1748822400,  # 2025-06-02
                "end_time": 1748908800,
                "results": [
                    {
                        "object": "organization.costs.result",
                        "amount": {"value": "12.345678", "currency": "usd"},
                        "line_item": "ft-gpt-4o-mini-2024-07-18, training",
                        "project_id": "proj_a",
                        "api_key_id": None,
                    },
                    {
                        "object": "organization.costs.result",
                        "amount": {"value": "1.35", "currency": "usd"},
                        "line_item": f"{FT}, input",
                        "project_id": "proj_a",
                        "api_key_id": None,
                    },
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(page))
    with open_session(tmp_path / "s.duckdb", PRICING) as s:
        ingest(s, [path])
        reported = s.con.execute(
            "SELECT model, reported_cost_usd FROM reported_costs ORDER BY model"
        ).fetchall()
        usage_rows = s.con.execute("SELECT count(*) FROM usage").fetchone()[0]
    assert reported == [  # "-" sorts before ":"
        ("ft-gpt-4o-mini-2024-07-18", Decimal("12.345678")),
        (FT, Decimal("1.35")),
    ]
    assert usage_rows == 0
