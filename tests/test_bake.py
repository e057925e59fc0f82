"""Every supported combination of answers bakes into a clean project."""

import os
import re
import subprocess
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from .conftest import EXAMPLE_APPS, TEMPLATE_DIR, VENV_BIN, every_combination

COMBINATIONS = list(every_combination())
PLACEHOLDER = re.compile(r"cookiecutter\.")


def combination_id(answers):
    apps = "".join(name[4] if answers[name] else "-" for name in EXAMPLE_APPS)
    background = "celery" if answers["background_sends"] == "celery" else "sync"
    return (
        f"django{answers['django_version']}-{answers['database']}-{background}-{answers['aws_credentials']}-"
        f"{answers['deploy_target']}-{apps}"
    )


def bake_into(answers, output):
    return Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=answers, output_dir=str(output)))


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Every combination baked once, and what one ruff run over all of them found
    (one process for the whole matrix instead of two per project)."""
    root = tmp_path_factory.mktemp("matrix")
    # Baking changes the working directory, so parallel bakes need processes.
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        paths = pool.map(bake_into, COMBINATIONS, [root / combination_id(answers) for answers in COMBINATIONS])
        projects = {combination_id(answers): path for answers, path in zip(COMBINATIONS, paths, strict=True)}
    check = subprocess.run(
        [VENV_BIN / "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    fmt = subprocess.run(
        [VENV_BIN / "ruff", "format", "--check", "--no-cache", "."], cwd=root, capture_output=True, text=True
    )
    # Exit status 2 is ruff failing to run (a bad configuration, say), not a clean tree.
    crashes = [f"ruff {run.args[1]}: {run.stderr.strip()}" for run in (check, fmt) if run.returncode > 1]
    findings = [line for line in (check.stdout + fmt.stdout).splitlines() if line.strip()]
    return projects, root, crashes, findings


@pytest.mark.parametrize("answers", COMBINATIONS, ids=combination_id)
def test_combination_bakes_cleanly(matrix, answers):
    """No unrendered placeholder, ruff-clean, unchosen example apps fully gone, and the
    Django version's pins and files."""
    projects, root, crashes, findings = matrix
    project = projects[combination_id(answers)]
    assert_no_placeholders(project)
    assert crashes == []
    prefix = f"{project.parent.relative_to(root)}/"
    assert [line for line in findings if prefix in line] == []
    assert_unchosen_apps_removed(project, answers)
    assert_celery_only_when_chosen(project, answers)
    assert_django_version(project, answers)


def assert_no_placeholders(project):
    leftovers = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and path.suffix not in {".png", ".ico"}
        and PLACEHOLDER.search(path.read_text(errors="ignore"))
    ]
    assert leftovers == []


def assert_ruff_clean(project):
    ruff = subprocess.run([VENV_BIN / "ruff", "check", "--no-cache", "."], cwd=project, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout
    fmt = subprocess.run(
        [VENV_BIN / "ruff", "format", "--check", "--no-cache", "."], cwd=project, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def assert_celery_only_when_chosen(project, answers):
    """Without background sends, nothing outside the vendored app and the development
    tooling (which starts a worker when the project has Celery) knows of Celery."""
    mentions = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and not {"django_aws_api_gateway_websockets", "localdev"} & set(path.parts)
        and "celery" in path.read_text(errors="ignore").lower()
    ]
    if answers["background_sends"] == "celery":
        assert {"config/celery.py", "config/settings/base.py", "pyproject.toml"} <= set(mentions)
    else:
        assert mentions == []


def assert_unchosen_apps_removed(project, answers):
    slug = project.name
    for answer in EXAMPLE_APPS:
        app = answer.removeprefix("use_")
        present = (project / slug / app).is_dir()
        assert present == answers[answer]
        if not answers[answer]:
            mentions = [
                str(path.relative_to(project))
                for path in project.rglob("*.py")
                if re.search(rf"\b{slug}\.{app}\b|\bfrom \.{app}\b|\b{app}\.urls\b", path.read_text())
            ]
            assert mentions == []
            assert not (project / "tests" / app).exists()
            assert not (project / "tests" / "e2e" / f"test_{app}.py").exists()
            # Nothing points the reader at the removed tests either.
            removed_tests = re.compile(rf"\btests/{app}\b|\btest_{app}\.py\b")
            pointers = [
                str(path.relative_to(project))
                for path in project.rglob("*")
                if path.is_file()
                and path.suffix not in {".png", ".ico"}
                and removed_tests.search(path.read_text(errors="ignore"))
            ]
            assert pointers == []


# Django version -> (its pin, requires-python, ruff's target, the image's and CI's Python).
DJANGO_PINS = {
    "6.1": ("Django>=6.1,<6.2", ">=3.12", "py312", "3.12"),
    "5.2": ("Django>=5.2,<5.3", ">=3.11", "py311", "3.11"),
}
CSP_MIDDLEWARE = {
    "6.1": "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "5.2": "{slug}.csp.ContentSecurityPolicyMiddleware",
}


def assert_django_version(project, answers):
    version = answers["django_version"]
    pin, requires_python, target, python = DJANGO_PINS[version]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert [dep for dep in pyproject["project"]["dependencies"] if dep.startswith("Django")] == [pin]
    assert pyproject["project"]["requires-python"] == requires_python
    assert pyproject["tool"]["ruff"]["target-version"] == target
    # Django 6.1 sends the Content-Security-Policy itself; 5.2 has the project's middleware.
    assert (project / project.name / "csp.py").exists() == (version == "5.2")
    settings = (project / "config/settings/base.py").read_text()
    assert settings.count("ContentSecurityPolicyMiddleware") == 1
    assert f'"{CSP_MIDDLEWARE[version].format(slug=project.name)}",' in settings
    if answers["deploy_target"] == "container":
        images = re.findall(r"^FROM (\S+)", (project / "Dockerfile").read_text(), re.MULTILINE)
        assert images == [f"python:{python}-slim-bookworm"] * 2
    assert f'python-version: "{python}"' in (project / ".github/workflows/ci.yml").read_text()


def test_env_file_has_a_fresh_secret_and_is_gitignored(bake):
    first, second = bake(), bake(project_name="Other Site")
    secrets = []
    for project in (first, second):
        env = dict(
            line.split("=", 1)
            for line in (project / ".env").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        assert len(env["DJANGO_SECRET_KEY"]) >= 50
        secrets.append(env["DJANGO_SECRET_KEY"])
        assert ".env" in (project / ".gitignore").read_text().splitlines()
        assert "change-me" in (project / ".env.example").read_text()
    assert secrets[0] != secrets[1]


def test_slug_is_derived_from_the_project_name(bake):
    assert bake(project_name="Acme Live-Chat").name == "acme_live_chat"


def test_postgresql_answer_points_database_url_at_postgresql(bake):
    project = bake(database="postgresql")
    assert "DATABASE_URL=postgres://" in (project / ".env").read_text()
    assert "psycopg" in (project / "pyproject.toml").read_text()


def test_generated_ci_workflow_is_valid_and_runs_the_readme_test_command(bake):
    import yaml

    project = bake()
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert any(command.strip() == "make test" for command in commands)
    assert "make test" in (project / "README.md").read_text()
    services = workflow["jobs"]["test"]["services"]
    assert services["postgres"]["image"].startswith("postgres")
    pre_commit = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert {hook["id"] for repo in pre_commit["repos"] for hook in repo["hooks"]} >= {"ruff", "ruff-format"}


@pytest.mark.parametrize("project_name", ["Acme Site", "Zulu Site"])
def test_any_project_name_bakes_ruff_clean(bake, project_name):
    """Import order must not depend on where the slug sorts next to other packages."""
    assert_ruff_clean(bake(project_name=project_name))
