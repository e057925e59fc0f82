"""Helpers for baking the template in tests."""

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
SUITES_DIR = TEMPLATE_DIR / "suites"
VENV_BIN = Path(sys.executable).parent
# By its full path: some tests give the bakes a PATH of their own.
MAKE = shutil.which("make")
TEMPLATE_CONTEXT = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())


def choices(answer):
    return TEMPLATE_CONTEXT[answer]


EXAMPLE_APPS = ["use_chat", "use_dashboard", "use_notifications"]


def every_combination():
    """Each supported combination of the answers that change what is written.

    Every Django version, database, credentials answer, deploy target and set of example
    apps in full; background sends are not multiplied in on top (that would double a
    matrix that is already the largest part of the template's test time): for each
    combination of the others exactly one of the three credentials answers bakes with
    Celery, a different one as the deploy target and database change, so that each
    answer of every question meets both background answers, and every Django version,
    database, deploy target and set of apps meets them together.
    """
    credentials_answers = choices("aws_credentials")
    targets = choices("deploy_target")
    databases = choices("database")
    for django_version, database, credentials, deploy_target, apps in itertools.product(
        choices("django_version"),
        databases,
        credentials_answers,
        targets,
        itertools.product([True, False], repeat=len(EXAMPLE_APPS)),
    ):
        turn = credentials_answers.index(credentials) + targets.index(deploy_target) + databases.index(database)
        yield {
            "django_version": django_version,
            "database": database,
            "background_sends": "celery" if turn % len(credentials_answers) == 0 else "none",
            "aws_credentials": credentials,
            "deploy_target": deploy_target,
            **dict(zip(EXAMPLE_APPS, apps, strict=True)),
        }


# The oldest Python each Django version on offer runs on (the bake's requires-python).
MINIMUM_PYTHON = {"6.1": (3, 12), "5.2": (3, 11)}

# The default bake is on Django 6.1 (Python 3.12+); the minimal and maximal ones answer
# 5.2 (Python 3.11+), so the examples, the vendored suites (default and maximal) and the
# project's own suite each run on both versions; the maximal answers also bake on 6.1
# (PROJECTS below), so PostgreSQL and background sends are tried on both.
DEFAULT_BAKE = {}
MINIMAL_BAKE = {
    "use_chat": False,
    "use_dashboard": False,
    "use_notifications": False,
    "database": "sqlite",
    "django_version": "5.2",
}
MAXIMAL_BAKE = {
    "background_sends": "celery",
    "use_chat": True,
    "use_dashboard": True,
    "use_notifications": True,
    "database": "postgresql",
    "aws_account_id": "123456789012",
    "django_version": "5.2",
}


def bake_project(output_dir, **answers):
    """Bake into ``output_dir`` with cookiecutter's API; returns the project path."""
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=answers, output_dir=str(output_dir)))


@pytest.fixture
def bake(cookies):
    """Bake with the given answers and return the project path; fail on any error."""

    def _bake(**answers):
        result = cookies.bake(template=str(TEMPLATE_DIR), extra_context=answers)
        assert result.exception is None, result.exception
        assert result.exit_code == 0
        return Path(result.project_path)

    return _bake


def bake_interpreter(project, env=None):
    """The interpreter a bake's ``make install`` would make its virtual environment from
    (its Makefile's own search, printed instead of used); empty when there is none."""
    rule = "print-interpreter: ; $(info $(find_python))"
    completed = run([MAKE, "-s", "--no-print-directory", "--eval", rule, "print-interpreter"], project, env)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def run(command, cwd, env=None, timeout=900):
    """Run a command, returning the completed process; print its output on failure."""
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        print(completed.stdout[-20000:])
        print(completed.stderr[-20000:], file=sys.stderr)
    return completed


POSTGRES_URL = os.environ.get("TEMPLATE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/template_tests")

# SQLite by default; the maximal project answers postgresql, so its .env points
# DATABASE_URL at PostgreSQL (TEMPLATE_TEST_POSTGRES_URL overrides where it lives).
PROJECTS = {
    "default-django6.1-sqlite": (DEFAULT_BAKE, {}),
    "minimal-django5.2-sqlite": (MINIMAL_BAKE, {}),
    "maximal-django5.2-postgresql": (MAXIMAL_BAKE, {"DATABASE_URL": POSTGRES_URL}),
    # The maximal answers on the default Django: background sends and PostgreSQL on 6.1 too.
    "maximal-django6.1-postgresql": ({**MAXIMAL_BAKE, "django_version": "6.1"}, {"DATABASE_URL": POSTGRES_URL}),
}

# What a user's shell would not have: this run's own settings, and make's variables
# (``make test PYTHON=...`` at the template's root must not choose the bakes' interpreter).
NOT_PASSED_TO_BAKES = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON"}


def project_env(extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL")) and key not in NOT_PASSED_TO_BAKES
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def generated_projects(tmp_path_factory):
    """Bake, install and run ``make test`` for a named project once per session.

    Returns a function ``name -> (project path, env, completed make test)``; the
    reliability page test reads the suites' reports from the same runs.
    """
    runs = {}

    def _run(name):
        if name not in runs:
            answers, extra_env = PROJECTS[name]
            project = bake_project(tmp_path_factory.mktemp(name), **answers)
            env = project_env(extra_env)
            assert run(["make", "install"], project, env).returncode == 0
            runs[name] = (project, env, run(["make", "test"], project, env, timeout=1200))
        return runs[name]

    return _run


@pytest.fixture(scope="session")
def vendored_suites(generated_projects):
    """Run ``suites/`` (the vendored app's and the local gateway's own tests) inside a
    named bake, once per session, after that bake's own ``make test``.

    Returns a function ``name -> (project path, env, completed pytest, completed node
    --test, completed ruff)``. The suites are copied into the bake's ``tests/``, whose
    layout they mirror, and run with the bake's virtual environment.
    """
    runs = {}

    def _run(name):
        if name not in runs:
            project, env, _ = generated_projects(name)
            tests = project / "tests"
            shutil.copytree(SUITES_DIR, tests, dirs_exist_ok=True)
            # The suites' own test files, where the copy put them (not the bake's own tests).
            suite_files = sorted(
                str(Path("tests") / path.relative_to(SUITES_DIR)) for path in SUITES_DIR.rglob("test_*.py")
            )
            python = str(project / ".venv" / "bin" / "python")
            pytest_run = run(
                [python, "-m", "pytest", "-p", "no:cacheprovider", *suite_files], project, env, timeout=1500
            )
            node_run = run(["node", "--test", "tests/js/"], project, env)
            lint = run([str(project / ".venv" / "bin" / "ruff"), "check", "tests"], project, env)
            runs[name] = (project, env, pytest_run, node_run, lint)
        return runs[name]

    return _run
