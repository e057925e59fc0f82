"""A baked project keeps its secrets out of git and passes ruff's security rules.

``test_deploy.py`` checks the Linux-server bake for its own secret key; this checks
every deploy target and credentials answer, and looks in every tracked file for any
secret at all: the ``.env`` key, AWS access key ids and secret keys, private keys and
access tokens. Dependency auditing (``pip-audit``) needs an advisory database that
this machine cannot reach, so it is a release step: see ``docs/reliability.md``.
"""

import re

import pytest

from .conftest import VENV_BIN, choices, run

# A few bakes that together use every file the template can write.
BAKES = {
    f"{target}-{credentials}": {"deploy_target": target, "aws_credentials": credentials}
    for target in choices("deploy_target")
    for credentials in choices("aws_credentials")
}
BAKES["minimal"] = {"use_chat": False, "use_dashboard": False, "use_notifications": False}
BAKES["maximal"] = {"database": "postgresql", "aws_account_id": "123456789012", "domain_name": "example.org"}

SECRET_PATTERNS = {
    "AWS access key id": re.compile(
        r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])"
    ),
    "AWS secret access key": re.compile(
        r"(?i)aws_secret_access_key[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
    ),
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
}
# What DJANGO_SECRET_KEY may be set to in a tracked file other than Python code (env
# files, shell scripts, YAML, Dockerfiles, docs): nothing, or a placeholder.
SECRET_KEY_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?DJANGO_SECRET_KEY=(\S*)", re.MULTILINE)
PLACEHOLDERS = {"", "...", "change-me-to-a-long-random-string"}


def git_tracked(project):
    """Put the project under git as a user would (``git init``, ``git add -A``); the tracked paths."""
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"]
    assert run([*git, "init", "-q"], cwd=project).returncode == 0
    assert run([*git, "add", "-A"], cwd=project).returncode == 0
    listed = run(["git", "ls-files", "-z"], cwd=project)
    assert listed.returncode == 0
    return [path for path in listed.stdout.split("\0") if path]


def env_secret(project):
    values = dict(line.split("=", 1) for line in (project / ".env").read_text().splitlines() if "=" in line)
    return values["DJANGO_SECRET_KEY"]


@pytest.mark.parametrize("name", BAKES)
def test_no_tracked_file_holds_a_secret(bake, name):
    project = bake(**BAKES[name])
    secret = env_secret(project)
    assert len(secret) >= 50
    tracked = git_tracked(project)
    assert ".env" not in tracked
    assert ".env.example" in tracked
    found = []
    for relative in tracked:
        text = (project / relative).read_text(errors="ignore")
        if secret in text:
            found.append((relative, "the .env secret key"))
        found.extend((relative, kind) for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text))
        if not relative.endswith(".py"):
            found.extend(
                (relative, f"DJANGO_SECRET_KEY={value[:8]}...")
                for value in SECRET_KEY_ASSIGNMENT.findall(text)
                if value.strip("\"'") not in PLACEHOLDERS and not value.startswith("$")
            )
    assert found == []


def test_every_bake_gets_its_own_secret_key(bake):
    assert env_secret(bake()) != env_secret(bake())


def test_the_generated_code_passes_ruffs_security_rules(bake):
    """ruff's S rules (flake8-bandit) on the whole project, with the project's own
    per-file exceptions (tests may use assert and fixed passwords)."""
    project = bake(**BAKES["maximal"])
    checked = run([VENV_BIN / "ruff", "check", "--no-cache", "--select", "S", "."], cwd=project)
    assert checked.returncode == 0, checked.stdout
    configured = (project / "pyproject.toml").read_text()
    assert re.search(r'^select = \[[^\]]*"S"', configured, re.MULTILINE), "make lint must keep the S rules"
