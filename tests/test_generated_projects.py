"""Install the default, minimal and maximal projects and run their own checks and suites:
the default on Django 6.1 (Python 3.12+), the minimal and maximal ones on 5.2 (3.11+), and
the maximal answers once more on 6.1 (PostgreSQL and Celery on both versions).

Each baked project installs itself (``make install``: a virtual environment with uv
when it is on PATH) and runs ``make test`` exactly as its README tells its users.
"""

import re
import secrets

import pytest

from .conftest import MINIMUM_PYTHON, PROJECTS, TEMPLATE_CONTEXT, project_env, run


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
def test_baked_project_installs_checks_and_passes_its_own_suite(generated_projects, name):
    project, env, tests = generated_projects(name)
    python = str(project / ".venv" / "bin" / "python")

    # make install chose an interpreter for the bake's Django version by itself.
    django_version = PROJECTS[name][0].get("django_version", TEMPLATE_CONTEXT["django_version"][0])
    versions = run(
        [python, "-c", "import django, sys; print(*django.VERSION[:2], *sys.version_info[:2])"], project, env
    )
    django_major, django_minor, *python_version = (int(part) for part in versions.stdout.split())
    assert f"{django_major}.{django_minor}" == django_version
    assert tuple(python_version) >= MINIMUM_PYTHON[django_version]

    assert run([python, "manage.py", "check", "--fail-level", "WARNING"], project, env).returncode == 0
    migrations = run([python, "manage.py", "makemigrations", "--check", "--dry-run"], project, env)
    assert migrations.returncode == 0, migrations.stdout
    deploy_check = run(
        [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], project, production_env(project)
    )
    assert deploy_check.returncode == 0, deploy_check.stdout + deploy_check.stderr
    lint = run(["make", "lint"], project, env)
    assert lint.returncode == 0, lint.stdout
    assert tests.returncode == 0, tests.stdout[-5000:]
    assert re.search(r"^=+ \d+ passed", tests.stdout, re.MULTILINE), tests.stdout[-3000:]
