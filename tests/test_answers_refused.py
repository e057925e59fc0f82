"""A bad answer stops the bake with one line naming it, and writes nothing."""

import json
import subprocess
import sys

import pytest

from .conftest import TEMPLATE_DIR

BAD_ANSWERS = [
    ({"project_slug": "2fast"}, "project_slug", "valid Python identifier"),
    ({"project_slug": "my-site"}, "project_slug", "valid Python identifier"),
    ({"project_slug": "class"}, "project_slug", "keyword or standard-library"),
    ({"project_slug": "json"}, "project_slug", "keyword or standard-library"),
    ({"project_slug": "django"}, "project_slug", "Django, dependency or project module"),
    ({"project_slug": "config"}, "project_slug", "Django, dependency or project module"),
    ({"project_slug": "Site"}, "project_slug", "lower case"),
    ({"domain_name": "not a domain"}, "domain_name", "host name"),
    ({"domain_name": "localhost"}, "domain_name", "host name"),
    ({"domain_name": "exa_mple.com"}, "domain_name", "host name"),
    ({"domain_name": "-example.com"}, "domain_name", "host name"),
    ({"domain_name": "10.0.0.1"}, "domain_name", "not an IP address"),
    ({"domain_name": "www.example.com"}, "domain_name", "apex domain"),
    ({"aws_region": "europe"}, "aws_region", "AWS region"),
    ({"aws_region": "eu-west"}, "aws_region", "AWS region"),
    ({"aws_account_id": "12345"}, "aws_account_id", "12 digits"),
    ({"aws_account_id": "12345678901a"}, "aws_account_id", "12 digits"),
    ({"email": "nobody"}, "email", "email address"),
    ({"timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
    ({"version": "one"}, "version", "version number"),
]


@pytest.mark.parametrize(
    ("answers", "name", "rule"), BAD_ANSWERS, ids=[f"{n}={list(a.values())[0]}" for a, n, _ in BAD_ANSWERS]
)
def test_bad_answer_is_refused_with_one_line_and_nothing_written(tmp_path, answers, name, rule):
    extra = [f"{key}={value}" for key, value in answers.items()]
    completed = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR), *extra],
        capture_output=True,
        text=True,
    )
    assert completed.returncode != 0
    errors = [line for line in completed.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, completed.stderr
    assert f"{name}=" in errors[0]
    assert rule in errors[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "answers",
    [
        {"aws_account_id": ""},
        {"aws_account_id": "123456789012"},
        {"aws_region": "us-gov-west-1"},
        {"domain_name": "a-b.co.uk"},
    ],
)
def test_good_edge_answers_are_accepted(bake, answers):
    assert (bake(**answers) / "manage.py").exists()


@pytest.mark.parametrize("version", ["6.0", "5.1", ""])
def test_an_unoffered_django_version_is_refused_from_a_replay_file(tmp_path, version):
    """cookiecutter refuses a choice outside the list given on the command line by itself;
    a replay file (or a script's context) reaches the pre-generation hook unchecked."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    answers = prompt_for_config(generate_context(str(TEMPLATE_DIR / "cookiecutter.json")), no_input=True)
    answers["django_version"] = version
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": answers}))
    output = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--replay-file", str(replay), "-o", str(output), str(TEMPLATE_DIR)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode != 0
    errors = [line for line in completed.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, completed.stderr
    assert errors[0].startswith(f"ERROR: django_version={version!r} must be 6.1 ")
    assert "or 5.2" in errors[0]
    assert not output.exists() or list(output.iterdir()) == []
