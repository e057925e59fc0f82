"""Finish the baked project: remove what was not chosen (example apps, other deploy
targets, Celery without background sends, what only the other Django version needs),
write a private .env with fresh secrets (the Django secret key and the shared secret API
Gateway sends to Django), render the IAM policies from the region and account answers,
mark scripts executable and print the next steps.

Cookiecutter renders this file with the answers and runs it inside the new project.
"""

import importlib.util
import json
import os
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


# What only a project with background sends (Celery) needs.
BACKGROUND_SEND_PATHS = [
    "config/celery.py",
    f"deploy/linux-systemd/{SLUG}-worker.service",
    "deploy/container/ecs-worker-task-definition.json",
]


def remove_unchosen_background_sends():
    if ANSWERS["background_sends"] != "celery":
        for relative in BACKGROUND_SEND_PATHS:
            remove(relative)


def remove_unchosen_deploy_targets():
    target = ANSWERS["deploy_target"]
    for other, paths in DEPLOY_TARGET_PATHS.items():
        if other != target:
            for relative in paths:
                remove(relative)
    # How the Linux target's release unit gets the release identity: a profile that assumes
    # the release role (aws-config), or the release user's access keys (release.env).
    keys = ANSWERS["aws_credentials"] == "access_keys"
    remove("deploy/linux-systemd/aws-config" if keys else "deploy/linux-systemd/release.env")


def remove_other_django_versions_files():
    version = ANSWERS["django_version"]
    for other, paths in DJANGO_VERSION_PATHS.items():
        if other != version:
            for relative in paths:
                remove(relative)


def render_iam_policies():
    """Write deploy/iam/*.json with the project's own renderer, so that re-running it
    later (with a hosted zone id or the API id, say) gives the same documents: the web
    role's runtime policy and the release role's policy, each with its trust policy."""
    script = PROJECT / "deploy" / "iam" / "render_policies.py"
    spec = importlib.util.spec_from_file_location("render_policies", script)
    renderer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(renderer)
    return renderer.render(
        script.parent,
        region=ANSWERS["aws_region"],
        account_id=ANSWERS["aws_account_id"].strip(),
        websocket_host=f"ws.{ANSWERS['domain_name']}",
        target=ANSWERS["deploy_target"],
        credentials=ANSWERS["aws_credentials"],
    )


def fresh_secrets():
    """The private values .env gets, each fresh per bake.

    WEBSOCKET_GATEWAY_SECRET travels as an API Gateway stage variable, whose values
    allow letters, digits and a few symbols: token_urlsafe gives letters, digits,
    ``-`` and ``_`` only (64 of them for 48 bytes).
    """
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "WEBSOCKET_GATEWAY_SECRET": secrets.token_urlsafe(48),
    }


def write_env_file():
    """.env = .env.example with a fresh value on each secret's line (appended if the
    example has none), private to the user (mode 0600) and gitignored."""
    values = fresh_secrets()
    lines, written = [], set()
    for line in (PROJECT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        if name in values and "=" in line:
            line = f"{name}={values[name]}"
            written.add(name)
        lines.append(line)
    missing = [name for name in values if name not in written]
    if missing:
        lines.append("")
        lines.append("# Generated for this project by the template (.env is private and gitignored).")
        lines.extend(f"{name}={values[name]}" for name in missing)
    env_file = PROJECT / ".env"
    # Created private: never readable by others, not even for a moment.
    descriptor = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as output:
        output.write("\n".join(lines) + "\n")
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


def print_next_steps(policies):
    deploy = DEPLOY_NEXT_STEPS[ANSWERS["deploy_target"]].format(domain=ANSWERS["domain_name"], slug=SLUG)
    written = "\n".join(f"  {name}: {purpose}" for name, purpose in policies.files.items())
    todo = f"\nIAM policies in deploy/iam/, one identity per job (README.md, Deploy):\n{written}\n"
    if policies.placeholders:
        todo += (
            f"They still hold {' and '.join(policies.placeholders)}: fill them in with\n"
            "  python3 deploy/iam/render_policies.py --account-id <12 digits> --hosted-zone-id <Z...>\n"
        )
    todo += "".join(f"WARNING: {warning}\n" for warning in policies.warnings)
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
    remove_unchosen_background_sends()
    remove_other_django_versions_files()
    policies = render_iam_policies()
    write_env_file()
    make_executable()
    print_next_steps(policies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
