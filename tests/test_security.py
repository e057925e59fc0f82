"""A baked project keeps its secrets out of git and passes ruff's security rules.

``test_deploy.py`` checks the Linux-server bake for its own secret key; this checks
every deploy target and credentials answer, and looks in every tracked file for any
secret at all: the ``.env`` secret key and API Gateway shared secret (and any value
assigned to either outside Python code), AWS access key ids and secret keys, private
keys and access tokens. Dependency auditing (``pip-audit``) needs an advisory database that
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
# The variables whose values are secrets the bake or the server generates. What they may
# be set to in a tracked file other than Python code (env files, shell scripts, YAML,
# Dockerfiles, docs, JSON): nothing, a placeholder (CHANGE_ME, <...>, ...) or a shell
# expansion ($...).
SECRET_ASSIGNMENT = re.compile(
    r"""^[ \t]*(?:export\s+)?["']?(DJANGO_SECRET_KEY|WEBSOCKET_GATEWAY_SECRET(?:_PREVIOUS)?)["']?"""
    r"""[ \t]*[=:][ \t]*(\S*)""",
    re.MULTILINE,
)
# The two the bake writes into .env, fresh each time.
GENERATED_SECRETS = ("DJANGO_SECRET_KEY", "WEBSOCKET_GATEWAY_SECRET")
PLACEHOLDER = re.compile(r"(?i)^(?:|\.\.\.|<.*|\$.*|.*change[-_]?me.*)$")


def git_tracked(project):
    """Put the project under git as a user would (``git init``, ``git add -A``); the tracked paths."""
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"]
    assert run([*git, "init", "-q"], cwd=project).returncode == 0
    assert run([*git, "add", "-A"], cwd=project).returncode == 0
    listed = run(["git", "ls-files", "-z"], cwd=project)
    assert listed.returncode == 0
    return [path for path in listed.stdout.split("\0") if path]


def env_values(project):
    """The active assignments of the bake's private .env."""
    lines = (project / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))


def env_secret(project, name="DJANGO_SECRET_KEY"):
    return env_values(project)[name]


def secret_assignments(text):
    """(name, value) of every secret variable given a real-looking value in ``text``."""
    return [
        (name, value) for name, value in SECRET_ASSIGNMENT.findall(text) if not PLACEHOLDER.match(value.strip("\"',"))
    ]


def test_the_scan_recognises_assignments_and_placeholders():
    assert secret_assignments("WEBSOCKET_GATEWAY_SECRET=q2Yv9-x_Lk\n") == [("WEBSOCKET_GATEWAY_SECRET", "q2Yv9-x_Lk")]
    assert secret_assignments('  "WEBSOCKET_GATEWAY_SECRET_PREVIOUS": "abc"') == [
        ("WEBSOCKET_GATEWAY_SECRET_PREVIOUS", '"abc"')
    ]
    assert secret_assignments("export DJANGO_SECRET_KEY=s3cr3t") == [("DJANGO_SECRET_KEY", "s3cr3t")]
    harmless = [
        "WEBSOCKET_GATEWAY_SECRET=",
        "# WEBSOCKET_GATEWAY_SECRET_PREVIOUS=",
        "DJANGO_SECRET_KEY=change-me-to-a-long-random-string",
        "WEBSOCKET_GATEWAY_SECRET=CHANGE_ME",
        'WEBSOCKET_GATEWAY_SECRET="$(new_secret 48)"',
        "WEBSOCKET_GATEWAY_SECRET=<a fresh secret>",
        "DJANGO_SECRET_KEY=...",
    ]
    assert [secret_assignments(line) for line in harmless] == [[]] * len(harmless)


@pytest.mark.parametrize("name", BAKES)
def test_no_tracked_file_holds_a_secret(bake, name):
    project = bake(**BAKES[name])
    generated = {variable: env_secret(project, variable) for variable in GENERATED_SECRETS}
    assert len(generated["DJANGO_SECRET_KEY"]) >= 50
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", generated["WEBSOCKET_GATEWAY_SECRET"]), "a stage variable's characters"
    tracked = git_tracked(project)
    assert ".env" not in tracked
    assert ".env.example" in tracked
    assert scan(project, tracked, generated) == []


def scan(project, tracked, generated):
    """(file, what) for each secret found in the tracked files."""
    found = []
    for relative in tracked:
        text = (project / relative).read_text(errors="ignore")
        found.extend((relative, f"the .env {variable}") for variable, value in generated.items() if value in text)
        found.extend((relative, kind) for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text))
        if not relative.endswith(".py"):
            found.extend((relative, f"{variable}={value[:4]}...") for variable, value in secret_assignments(text))
    return found


def test_the_scan_finds_a_gateway_secret_in_a_tracked_file(bake):
    project = bake(deploy_target="container")
    secret = env_secret(project, "WEBSOCKET_GATEWAY_SECRET")
    task = project / "deploy/container/ecs-task-definition.json"
    task.write_text(task.read_text().replace('"GUNICORN_WORKERS"', f'"X", "value": "{secret}"}}, {{"name": "W"'))
    script = project / "deploy/release.sh"
    script.write_text(script.read_text() + "WEBSOCKET_GATEWAY_SECRET_PREVIOUS=an-old-value-left-here\n")
    tracked = git_tracked(project)
    generated = {"WEBSOCKET_GATEWAY_SECRET": secret}
    assert scan(project, tracked, generated) == [
        ("deploy/container/ecs-task-definition.json", "the .env WEBSOCKET_GATEWAY_SECRET"),
        ("deploy/release.sh", "WEBSOCKET_GATEWAY_SECRET_PREVIOUS=an-o..."),
    ]


@pytest.mark.parametrize("variable", GENERATED_SECRETS)
def test_every_bake_gets_its_own_secrets(bake, variable):
    first, second = bake(), bake()
    assert env_secret(first, variable) != env_secret(second, variable)
    assert env_secret(first, "DJANGO_SECRET_KEY") != env_secret(first, "WEBSOCKET_GATEWAY_SECRET")
    assert [line.split("=", 1)[0] for line in (first / ".env").read_text().splitlines()].count(variable) == 1


def test_the_generated_code_passes_ruffs_security_rules(bake):
    """ruff's S rules (flake8-bandit) on the whole project, with the project's own
    per-file exceptions (tests may use assert and fixed passwords)."""
    project = bake(**BAKES["maximal"])
    checked = run([VENV_BIN / "ruff", "check", "--no-cache", "--select", "S", "."], cwd=project)
    assert checked.returncode == 0, checked.stdout
    configured = (project / "pyproject.toml").read_text()
    assert re.search(r'^select = \[[^\]]*"S"', configured, re.MULTILINE), "make lint must keep the S rules"
