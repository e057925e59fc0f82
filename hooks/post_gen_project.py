"""Finish the baked project: remove what was not chosen, write a private .env with a
fresh secret key, mark scripts executable and print the next steps.

Cookiecutter renders this file with the answers and runs it inside the new project.
"""

import json
import secrets
import shutil
import stat
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
PROJECT = Path.cwd()
SLUG = ANSWERS["project_slug"]

# Every path that belongs to one optional example app. Settings, URLs and the
# navigation include an app only when its answer is yes, so removing these files
# leaves nothing dangling.
EXAMPLE_APP_PATHS = {
    "use_chat": [f"{SLUG}/chat", "tests/chat", "tests/e2e/test_chat.py"],
    "use_dashboard": [f"{SLUG}/dashboard", "tests/dashboard", "tests/e2e/test_dashboard.py"],
    "use_notifications": [f"{SLUG}/notifications", "tests/notifications", "tests/e2e/test_notifications.py"],
}


def chosen(answer):
    value = ANSWERS.get(answer)
    if isinstance(value, str):
        return value.strip().lower() in {"y", "yes", "true", "1", "on"}
    return bool(value)


def remove(relative):
    path = PROJECT / relative
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def remove_unchosen_apps():
    for answer, paths in EXAMPLE_APP_PATHS.items():
        if not chosen(answer):
            for relative in paths:
                remove(relative)


def write_env_file():
    example = (PROJECT / ".env.example").read_text()
    secret = secrets.token_urlsafe(50)
    lines = [
        f"DJANGO_SECRET_KEY={secret}" if line.startswith("DJANGO_SECRET_KEY=") else line
        for line in example.splitlines()
    ]
    env_file = PROJECT / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    env_file.chmod(0o600)


def make_executable():
    for path in [PROJECT / "manage.py", *PROJECT.glob("deploy/**/*.sh")]:
        if path.is_file():
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def print_next_steps():
    print(
        f"""
Your project is ready in {PROJECT}

  cd {PROJECT.name}
  make dev     # installs, migrates and runs Django with a local API Gateway
  make test    # runs every test

Then open http://127.0.0.1:8000/ and log in as the demo user that make dev prints.
Deploying to AWS is described in README.md (section "Deploy").
"""
    )


def main():
    remove_unchosen_apps()
    write_env_file()
    make_executable()
    print_next_steps()
    return 0


if __name__ == "__main__":
    sys.exit(main())
