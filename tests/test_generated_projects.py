"""Install the default, minimal and maximal projects and run their own checks and suites.

Each baked project installs itself (``make install``: a virtual environment with uv
when it is on PATH) and runs ``make test`` exactly as its README tells its users.
"""

import os
import secrets

import pytest

from .conftest import DEFAULT_BAKE, MAXIMAL_BAKE, MINIMAL_BAKE, run

POSTGRES_URL = os.environ.get("TEMPLATE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/template_tests")

# SQLite by default; the maximal project answers postgresql, so its .env points
# DATABASE_URL at PostgreSQL (TEMPLATE_TEST_POSTGRES_URL overrides where it lives).
PROJECTS = {
    "default-sqlite": (DEFAULT_BAKE, {}),
    "minimal-sqlite": (MINIMAL_BAKE, {}),
    "maximal-postgresql": (MAXIMAL_BAKE, {"DATABASE_URL": POSTGRES_URL}),
}


def project_env(extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(extra)
    return env


def production_env(project):
    """What a real server would have: a long random key and a PostgreSQL-style URL."""
    return project_env(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{project}/production-check.sqlite3",
            "DJANGO_ALLOWED_HOSTS": "www.example.com",
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", PROJECTS)
def test_baked_project_installs_checks_and_passes_its_own_suite(bake, name):
    answers, extra_env = PROJECTS[name]
    project = bake(**answers)
    env = project_env(extra_env)
    python = str(project / ".venv" / "bin" / "python")

    assert run(["make", "install"], project, env).returncode == 0
    assert run([python, "manage.py", "check", "--fail-level", "WARNING"], project, env).returncode == 0
    migrations = run([python, "manage.py", "makemigrations", "--check", "--dry-run"], project, env)
    assert migrations.returncode == 0, migrations.stdout
    deploy_check = run(
        [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], project, production_env(project)
    )
    assert deploy_check.returncode == 0, deploy_check.stdout + deploy_check.stderr
    lint = run(["make", "lint"], project, env)
    assert lint.returncode == 0, lint.stdout
    tests = run(["make", "test"], project, env, timeout=1200)
    assert tests.returncode == 0, tests.stdout[-5000:]
    assert " passed" in tests.stdout
    assert " failed" not in tests.stdout
