"""Helpers for baking the template in tests."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TEMPLATE_CONTEXT = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())


def choices(answer):
    return TEMPLATE_CONTEXT[answer]


EXAMPLE_APPS = ["use_chat", "use_dashboard", "use_notifications"]


def every_combination():
    """Each supported combination of the answers that change what is written."""
    for database, credentials, deploy_target, apps in itertools.product(
        choices("database"),
        choices("aws_credentials"),
        choices("deploy_target"),
        itertools.product([True, False], repeat=len(EXAMPLE_APPS)),
    ):
        yield {
            "database": database,
            "aws_credentials": credentials,
            "deploy_target": deploy_target,
            **dict(zip(EXAMPLE_APPS, apps, strict=True)),
        }


DEFAULT_BAKE = {}
MINIMAL_BAKE = {"use_chat": False, "use_dashboard": False, "use_notifications": False, "database": "sqlite"}
MAXIMAL_BAKE = {
    "use_chat": True,
    "use_dashboard": True,
    "use_notifications": True,
    "database": "postgresql",
    "aws_account_id": "123456789012",
}


@pytest.fixture
def bake(cookies):
    """Bake with the given answers and return the project path; fail on any error."""

    def _bake(**answers):
        result = cookies.bake(template=str(TEMPLATE_DIR), extra_context=answers)
        assert result.exception is None, result.exception
        assert result.exit_code == 0
        return Path(result.project_path)

    return _bake


def run(command, cwd, env=None, timeout=900):
    """Run a command, returning the completed process; print its output on failure."""
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        print(completed.stdout[-20000:])
        print(completed.stderr[-20000:], file=sys.stderr)
    return completed
