"""Production settings pass Django's deployment checks, and gunicorn's timeout stays
inside API Gateway's 29-second integration limit. Run as the release does: in a fresh
process with the production environment."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def production_environment(tmp_path, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "AWS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
        # A developer's .env may switch DEBUG on for make dev; production must not inherit it.
        DJANGO_DEBUG="False",
        # Whatever the credentials answer, the checks need no real AWS.
        AWS_ACCESS_KEY_ID="check-only",
        AWS_SECRET_ACCESS_KEY="check-only",
    )
    env.update(extra)
    return env


def check_deploy(env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    completed = check_deploy(production_environment(tmp_path))
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize(
    ("override", "check_id"),
    [
        ({"DJANGO_DEBUG": "True"}, "security.W018"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_SESSION_COOKIE_SECURE": "False"}, "security.W012"),
    ],
)
def test_an_insecure_override_fails_the_checks_the_release_runs(tmp_path, override, check_id):
    completed = check_deploy(production_environment(tmp_path, **override))
    assert completed.returncode != 0
    assert check_id in completed.stderr


def _gunicorn_config(monkeypatch, **environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT / "deploy" / "gunicorn.conf.py"))


def test_gunicorn_reads_its_settings_from_the_environment(monkeypatch):
    config = _gunicorn_config(monkeypatch, GUNICORN_WORKERS="3", GUNICORN_TIMEOUT="20", GUNICORN_BIND="0.0.0.0:9000")
    assert (config["workers"], config["timeout"], config["bind"]) == (3, 20, "0.0.0.0:9000")
    assert config["timeout"] < config["API_GATEWAY_INTEGRATION_TIMEOUT"] == 29


@pytest.mark.parametrize("timeout", ["29", "60", "0"])
def test_gunicorn_refuses_a_timeout_outside_api_gateways_limit(monkeypatch, timeout):
    with pytest.raises(ValueError, match="29-second integration timeout"):
        _gunicorn_config(monkeypatch, GUNICORN_TIMEOUT=timeout)
