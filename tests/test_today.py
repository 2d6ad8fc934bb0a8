"""One "today" (issue 13 item 5): the last day with data, unless `--today` / FINOPS_TODAY pins
another, for every view, command and countdown.

The hand-priced fixture's usage runs to 2025-03-21 (its last row), so that is today unless
something pins a day.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from finops.analysis.budgets import budget_status
from finops.analysis.deprecations import usage_on_deprecated_models
from finops.cli import main
from finops.core.today import TODAY_ENV, resolve_today
from finops.session.session import open_session
from finops.views.overview import build_overview

LAST_DAY = dt.date(2025, 3, 21)


def _retire_alpha(pricing):
    acme = pricing / "acme.yaml"
    acme.write_text(
        acme.read_text().replace(
            "  - id: alpha\n",
            "  - id: alpha\n    deprecated_on: 2025-04-01\n    successor: thinker\n",
        )
    )


def test_today_is_the_last_day_with_data_unless_pinned(loaded, monkeypatch):
    db, pricing = loaded
    monkeypatch.delenv(TODAY_ENV, raising=False)
    with open_session(db, pricing) as s:
        assert resolve_today(s.con) == LAST_DAY
        # a filter ending 2025-03-20 (exclusive): rows fall on 10, 12 and 20 March -> the 12th
        assert resolve_today(s.con, before=dt.date(2025, 3, 20)) == dt.date(2025, 3, 12)
        monkeypatch.setenv(TODAY_ENV, "2025-03-11")
        assert resolve_today(s.con) == dt.date(2025, 3, 11)
        # an explicit day (a command's --today) wins over the environment
        assert resolve_today(s.con, dt.date(2025, 3, 2)) == dt.date(2025, 3, 2)
        # a pinned day past a filter's end is capped at the day before the end
        assert resolve_today(s.con, before=dt.date(2025, 3, 5)) == dt.date(2025, 3, 4)


def test_every_view_counts_from_the_same_pinned_day(loaded, monkeypatch):
    db, pricing = loaded
    _retire_alpha(pricing)
    monkeypatch.setenv(TODAY_ENV, "2025-03-25")
    with open_session(db, pricing) as s:
        # alpha retires 2025-04-01: 7 days after the pinned 25 March (not 11 after the 21st)
        (row,) = usage_on_deprecated_models(s, within_days=30).to_dicts()
        assert row["days_left"] == 7
        assert budget_status(s)["today"].unique().to_list() == [dt.date(2025, 3, 25)]
        assert build_overview(s, project=False).as_of == dt.date(2025, 3, 25)
    monkeypatch.delenv(TODAY_ENV)
    with open_session(db, pricing) as s:
        (row,) = usage_on_deprecated_models(s, within_days=30).to_dicts()
        assert row["days_left"] == 11
        assert build_overview(s, project=False).as_of == LAST_DAY


def test_cli_today_option_pins_every_command(loaded, monkeypatch):
    db, pricing = loaded
    _retire_alpha(pricing)
    # `--today` sets FINOPS_TODAY for the process: an empty value (unset) restored afterwards
    monkeypatch.setenv(TODAY_ENV, "")
    args = ["spend", "--db", str(db), "--pricing", str(pricing)]
    out = CliRunner().invoke(main, ["--today", "2025-03-29", *args])
    assert out.exit_code == 0, out.output
    # 2025-03-29 -> 2025-04-01 is 3 days
    assert "warning: acme/alpha retires in 3 days (2025-04-01)" in out.output
    monkeypatch.setenv(TODAY_ENV, "")
    out = CliRunner().invoke(main, args)
    assert "warning: acme/alpha retires in 11 days (2025-04-01)" in out.output


def test_a_bad_pinned_day_is_one_line_naming_the_variable(loaded, monkeypatch):
    db, pricing = loaded
    monkeypatch.setenv(TODAY_ENV, "21/03/2025")
    with open_session(db, pricing) as s, pytest.raises(ValueError, match="FINOPS_TODAY"):
        resolve_today(s.con)
    monkeypatch.setenv(TODAY_ENV, "")
    out = CliRunner().invoke(main, ["--today", "tomorrow", "spend", "--db", str(db)])
    assert out.exit_code != 0
    assert "--today 'tomorrow' is not a date; write YYYY-MM-DD" in out.output
