from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner

from finops.analysis.deprecations import usage_on_deprecated_models
from finops.cli import main
from finops.session.session import open_session


def test_usage_on_a_retiring_model_is_warned_with_its_successor(loaded):
    db, pricing = loaded
    acme = pricing / "acme.yaml"
    acme.write_text(
        acme.read_text().replace(
            "  - id: alpha\n",
            "  - id: alpha\n    deprecated_on: 2025-04-01\n    successor: thinker\n",
        )
    )
    with open_session(db, pricing) as s:
        frame = usage_on_deprecated_models(s, within_days=30)
        assert usage_on_deprecated_models(s, within_days=5).is_empty()
    (row,) = frame.to_dicts()
    # the last day with usage is 2025-03-21: alpha retires 11 days later
    assert (row["model"], row["days_left"], row["successor"]) == ("alpha", 11, "thinker")
    # alpha's priced cost in the 30 days to 2025-03-21: every alpha row of the fixture
    assert row["cost_last_30d_usd"] == Decimal("0.54") + Decimal("0.27") + Decimal(
        "0.55"
    ) + Decimal("0.60") + Decimal("0.57") + Decimal("2.60")
    out = CliRunner().invoke(main, ["spend", "--db", str(db), "--pricing", str(pricing)])
    assert "warning: acme/alpha retires in 11 days (2025-04-01); successor thinker" in out.output
