"""The vendored WebSocket app, its JavaScript client and the local gateway pass their
own suites (``suites/``) inside a bake: the default project on SQLite and Django 6.1,
the maximal one on PostgreSQL and Django 5.2. See ``suites/README.md``."""

import re

import pytest

from .conftest import run

SUITE_RUNS = ["default-django6.1-sqlite", "maximal-django5.2-postgresql"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SUITE_RUNS)
def test_the_vendored_suites_pass_inside_a_bake(vendored_suites, name):
    project, env, tests, node, lint = vendored_suites(name)
    assert lint.returncode == 0, lint.stdout[-5000:]
    assert tests.returncode == 0, tests.stdout[-8000:]
    assert re.search(r"^=+ \d+ passed", tests.stdout, re.MULTILINE), tests.stdout[-3000:]
    assert node.returncode == 0, node.stdout[-5000:]
    assert re.search(r"^# pass [1-9]\d*$", node.stdout, re.MULTILINE), node.stdout[-3000:]
    assert re.search(r"^# fail 0$", node.stdout, re.MULTILINE)


@pytest.mark.slow
def test_the_suites_run_on_the_database_each_bake_names(vendored_suites):
    """The PostgreSQL run really is on PostgreSQL (the reliability report records the vendor)."""
    project, env, _, _, _ = vendored_suites("maximal-django5.2-postgresql")
    python = str(project / ".venv" / "bin" / "python")
    vendor = run(
        [python, "-c", "import django; django.setup(); from django.db import connection; print(connection.vendor)"],
        project,
        {**env, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert vendor.stdout.strip() == "postgresql"
