"""FINOPS_NO_SKIPS=1 (CI) turns every kind of skip into a failure; without it a skip is a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
SKIPPING = {
    "test_marked": """
import pytest
@pytest.mark.skipif(True, reason="chromium is missing")
def test_browser():
    pass
""",
    "test_inside": """
import pytest
def test_spark():
    pytest.skip("no Java")
""",
    "test_fixture": """
import pytest
@pytest.fixture
def data():
    pytest.skip("the sample is not in the repository")
def test_sample(data):
    pass
""",
}


@pytest.fixture
def skipping_suite(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(**SKIPPING, test_passes="def test_ok():\n    assert 1 + 1 == 2\n")
    return pytester


def test_every_skip_fails_under_finops_no_skips(skipping_suite, monkeypatch):
    monkeypatch.setenv("FINOPS_NO_SKIPS", "1")
    result = skipping_suite.runpytest_subprocess("-p", "no:cacheprovider")
    # a skip in the test is a failure; a skipif mark or a skipping fixture (setup) an error
    result.assert_outcomes(passed=1, failed=1, errors=2)
    result.stdout.fnmatch_lines(["*FINOPS_NO_SKIPS=1 makes a failure*"])


def test_without_it_a_skip_is_reported_as_a_skip(skipping_suite, monkeypatch):
    monkeypatch.delenv("FINOPS_NO_SKIPS", raising=False)
    result = skipping_suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3)


MODULE_SKIP = """
import pytest
pytest.importorskip("no_such_module_for_finops_tests")
def test_never_collected():
    pass
"""


def test_a_module_skipped_at_collection_is_an_error_under_finops_no_skips(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_module=MODULE_SKIP)
    monkeypatch.setenv("FINOPS_NO_SKIPS", "1")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*skipped at collection, which FINOPS_NO_SKIPS=1 makes a failure*"]
    )
    monkeypatch.delenv("FINOPS_NO_SKIPS")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(skipped=1)
