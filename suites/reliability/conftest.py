"""Reliability suite: hostile input, concurrency, AWS faults, clean-up and security.

Each test module names its ``AREA``; each test says in the first line of its
docstring what it tries, and counts its cases through the ``cases`` fixture. When the
session ends, what ran is written to ``test-results/reliability.json`` (see
``report.py``), from which the table of the reliability page is made.

Fuzzing uses Hypothesis with a fixed seed (``derandomize``), no example database and
no time-based checks, so every run tries the same inputs and the case counts in the
report do not change from one run to the next.
"""

import json
import platform
import time
from contextlib import contextmanager
from pathlib import Path

import django
import hypothesis
import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings

# The browser fixtures of the end-to-end suite, for test_gateway_restart.py and
# test_escaping.py.
from tests.e2e.conftest import browser_type_launch_args, local_gateway, make_user, site  # noqa: F401
from tests.records import make_api_gateway

from . import report

API_ID = "fuzzapi123"
OTHER_API_ID = "otherapi99"


def fuzz_settings(max_examples):
    """Deterministic Hypothesis settings: the same ``max_examples`` inputs every run.

    Health checks are off because two of them depend on timing (which would make
    the run vary) and one objects to sharing function-scoped fixtures between
    examples, which these tests do on purpose: each example runs in a savepoint
    that is rolled back (``cases.isolated()``), so every example starts from the
    fixtures' state.
    """
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def pytest_collection_modifyitems(config, items):
    """Run this folder's browser tests at the very end, with the end-to-end suite's:
    once Playwright has started, the main thread has a running event loop until the
    session ends (see ``tests/e2e/conftest.py``)."""
    here = Path(__file__).resolve().parent
    in_browser = [item for item in items if item.get_closest_marker("e2e") and here in Path(str(item.path)).parents]
    if in_browser:
        chosen = set(in_browser)
        items[:] = [item for item in items if item not in chosen] + in_browser


# ---------------------------------------------------------------------------
# Counting cases and writing the report
# ---------------------------------------------------------------------------

_cases = {}
_results = {}


class Cases:
    """How many cases one test ran (a generated example, a request, a connection...)."""

    def __init__(self, nodeid):
        self.nodeid = nodeid
        _cases[nodeid] = 0

    def add(self, count=1):
        _cases[self.nodeid] += count

    @contextmanager
    def isolated(self):
        """One case whose database changes are rolled back when it ends."""
        self.add()
        with transaction.atomic():
            yield
            transaction.set_rollback(True)


@pytest.fixture
def cases(request):
    return Cases(request.node.nodeid)


def _what(item):
    doc = (item.function.__doc__ or item.name).strip()
    return doc.splitlines()[0].strip()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    result = outcome.get_result()
    if result.when == "call" or result.outcome != "passed":
        previous = _results.get(item.nodeid, {}).get("outcome")
        if previous in (None, "passed"):
            _results[item.nodeid] = {
                "test": item.nodeid,
                "area": getattr(item.module, "AREA", "Other"),
                "what": _what(item),
                "generated": bool(getattr(item.function, "is_hypothesis_test", False)),
                "outcome": result.outcome,
            }


def pytest_sessionfinish(session, exitstatus):
    if not _results:
        return
    tests = []
    for nodeid, entry in _results.items():
        tests.append({**entry, "cases": _cases.get(nodeid, 0)})
    data = {
        "database": connection.vendor,
        "python": platform.python_version(),
        "django": django.get_version(),
        "hypothesis": hypothesis.__version__,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tests": tests,
    }
    data["summary"] = report.summary(data)
    path = report.report_path(session.config.rootpath)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


# ---------------------------------------------------------------------------
# The APIs the requests name
# ---------------------------------------------------------------------------


@pytest.fixture
def api_gateway(db):
    return make_api_gateway(API_ID)


@pytest.fixture
def other_api_gateway(db):
    return make_api_gateway(OTHER_API_ID)
