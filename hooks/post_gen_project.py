"""Finish the baked project: remove what was not chosen (example apps, other deploy
targets, what only the other Django version needs), write a private .env with a fresh
secret key, render the IAM policies from the region and account answers, mark scripts
executable and print the next steps.

Cookiecutter renders this file with the answers and runs it inside the new project.
"""

import importlib.util
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

# What only one Django version needs. Django 6.1 sends the Content-Security-Policy
# header itself (django.middleware.csp); 5.2 gets the project's own middleware.
DJANGO_VERSION_PATHS = {
    "6.1": [],
    "5.2": [f"{SLUG}/csp.py"],
}

# What each deploy target adds on top of the parts every project gets (production
# settings, deploy/gunicorn.conf.py, deploy/release.sh, deploy/cleanup.sh, deploy/iam/).
DEPLOY_TARGET_PATHS = {
    "linux-systemd": ["deploy/linux-systemd"],
    "container": ["Dockerfile", ".dockerignore", "deploy/container"],
    "none": [],
}
# Who assumes the roles: an EC2 instance role when the server's credentials come from a
# role; on ECS always (the task execution role), and the task role too with iam_role.
ROLE_TRUST_SERVICE = {"linux-systemd": "ec2", "container": "ecs-tasks"}


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


def remove_unchosen_deploy_targets():
    target = ANSWERS["deploy_target"]
    for other, paths in DEPLOY_TARGET_PATHS.items():
        if other != target:
            for relative in paths:
                remove(relative)


def remove_other_django_versions_files():
    version = ANSWERS["django_version"]
    for other, paths in DJANGO_VERSION_PATHS.items():
        if other != version:
            for relative in paths:
                remove(relative)


def render_iam_policies():
    """Write deploy/iam/*.json with the project's own renderer, so that re-running it
    later (with a hosted zone id, say) gives the same documents."""
    script = PROJECT / "deploy" / "iam" / "render_policies.py"
    spec = importlib.util.spec_from_file_location("render_policies", script)
    renderer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(renderer)
    target = ANSWERS["deploy_target"]
    trust_service = None
    if target == "container" or ANSWERS["aws_credentials"] == "iam_role":
        trust_service = ROLE_TRUST_SERVICE.get(target)
    return renderer.render(
        script.parent,
        region=ANSWERS["aws_region"],
        account_id=ANSWERS["aws_account_id"].strip(),
        websocket_host=f"ws.{ANSWERS['domain_name']}",
        trust_service=trust_service,
    )


# Variables of .env.example that .env gets a fresh random value for.
FRESH_SECRETS = {
    "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    # Letters, digits, '-' and '_': what an API Gateway stage variable may hold.
    "WEBSOCKET_GATEWAY_SECRET": lambda: secrets.token_urlsafe(48),
}


def write_env_file():
    example = (PROJECT / ".env.example").read_text()
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={FRESH_SECRETS[name]()}" if "=" in line and name in FRESH_SECRETS else line)
    env_file = PROJECT / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    env_file.chmod(0o600)


def make_executable():
    renderer = PROJECT / "deploy" / "iam" / "render_policies.py"
    scripts = [PROJECT / "manage.py", renderer, *PROJECT.glob("deploy/**/*.sh")]
    for path in scripts:
        if path.is_file():
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


DEPLOY_NEXT_STEPS = {
    "linux-systemd": (
        "Deploy to a Linux server: deploy/linux-systemd/install.sh installs and updates it\n"
        '(systemd runs gunicorn, nginx terminates TLS); README.md, section "Deploy", walks\n'
        "from here to a live wss://ws.{domain}."
    ),
    "container": (
        "Deploy as a container: `docker build -t {slug} .` builds the image; its entrypoint runs\n"
        'web, release or cleanup. README.md, section "Deploy", walks from here to a live\n'
        "wss://ws.{domain}."
    ),
    "none": (
        "No deploy target was chosen: deploy/ holds the gunicorn config, the release and clean-up\n"
        'scripts and the IAM policies; README.md, section "Deploy", lists what AWS needs.'
    ),
}


def print_next_steps(placeholders):
    deploy = DEPLOY_NEXT_STEPS[ANSWERS["deploy_target"]].format(domain=ANSWERS["domain_name"], slug=SLUG)
    todo = ""
    if placeholders:
        todo = (
            f"\nThe IAM policies in deploy/iam/ still hold {' and '.join(placeholders)}: fill them in with\n"
            "  python3 deploy/iam/render_policies.py --account-id <12 digits> --hosted-zone-id <Z...>\n"
        )
    print(
        f"""
Your project is ready in {PROJECT}

  cd {PROJECT.name}
  make dev     # installs, migrates and runs Django with a local API Gateway
  make test    # runs every test

Then open http://127.0.0.1:8000/ and log in as the demo user that make dev prints.

{deploy}
{todo}"""
    )


def main():
    remove_unchosen_apps()
    remove_unchosen_deploy_targets()
    remove_other_django_versions_files()
    placeholders = render_iam_policies()
    write_env_file()
    make_executable()
    print_next_steps(placeholders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
