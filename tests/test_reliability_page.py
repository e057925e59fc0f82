"""The reliability page shows what the reliability suite really did.

The reliability suite (``suites/reliability``) runs inside the default bake on SQLite
and the maximal one on PostgreSQL at ``TEMPLATE_TEST_POSTGRES_URL``
(``test_vendored_suites``), each run writing a JSON report. The figures between
the markers in ``docs/reliability.md`` must be exactly what those reports say
(Hypothesis runs derandomized with fixed example counts, so they do not change from
run to run). After changing the suite, rewrite
the figures from a run with::

    UPDATE_RELIABILITY_PAGE=1 .venv/bin/python -m pytest tests/test_reliability_page.py
"""

import json
import os
import re

import pytest

from .conftest import TEMPLATE_DIR, run

PAGE = TEMPLATE_DIR / "docs" / "reliability.md"
START, END = "<!-- reliability-figures:start -->", "<!-- reliability-figures:end -->"
BLOCK = re.compile(re.escape(START) + r"\n(.*?)" + re.escape(END), re.DOTALL)
MIN_GENERATED_CASES = 5000
# Report label -> (generated project run, database it ran on).
RUNS = {"SQLite": ("default-django6.1-sqlite", "sqlite"), "PostgreSQL": ("maximal-django5.2-postgresql", "postgresql")}
# The default bake has no Celery, so the worker-fault tests skip there (and the page
# says so); everything else passes in both runs.
BAKED_WITHOUT_CELERY = {"default-django6.1-sqlite"}
CELERY_ONLY_MODULE = "test_background_worker_faults.py"


def not_passed(report):
    """``{test id: outcome}`` of the report's tests that did not pass."""
    return {entry["test"]: entry["outcome"] for entry in report["tests"] if entry["outcome"] != "passed"}


def celery_only_tests(report):
    return {entry["test"] for entry in report["tests"] if CELERY_ONLY_MODULE in entry["test"]}


@pytest.mark.slow
def test_the_reliability_page_shows_the_figures_of_this_run(vendored_suites):
    reports = {}
    for label, (name, vendor) in RUNS.items():
        project, env, tests, _, _ = vendored_suites(name)
        assert tests.returncode == 0, f"{label}: {tests.stdout[-5000:]}"
        path = project / "test-results" / "reliability.json"
        report = json.loads(path.read_text())
        assert report["database"] == vendor
        skipped = dict.fromkeys(celery_only_tests(report), "skipped") if name in BAKED_WITHOUT_CELERY else {}
        assert celery_only_tests(report), f"{label}: the worker-fault tests are missing from the report"
        assert not_passed(report) == skipped, label
        assert report["summary"]["generated_cases"] >= MIN_GENERATED_CASES
        reports[label] = path

    project, env, _, _, _ = vendored_suites("default-django6.1-sqlite")
    python = str(project / ".venv" / "bin" / "python")
    rendered = run(
        [python, "-m", "tests.reliability.report", *(f"{label}={path}" for label, path in reports.items())],
        project,
        env,
    )
    assert rendered.returncode == 0, rendered.stderr
    page = PAGE.read_text()
    found = BLOCK.search(page)
    assert found, f"{PAGE.name} has no {START} ... {END} block"
    if os.environ.get("UPDATE_RELIABILITY_PAGE"):
        PAGE.write_text(page[: found.start(1)] + rendered.stdout + page[found.end(1) :])
        return
    assert found.group(1) == rendered.stdout, (
        "docs/reliability.md does not show this run's figures; rewrite them with "
        "UPDATE_RELIABILITY_PAGE=1 .venv/bin/python -m pytest tests/test_reliability_page.py"
    )
