"""Validate the answers before anything is written.

Cookiecutter renders this file with the answers, runs it inside the new project
folder, and deletes that folder when the script exits non-zero. Each refusal is
one line that names the answer and the rule it broke.
"""

import json
import keyword
import re
import sys
import zoneinfo

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Names a project package must not take: importing the project would shadow them,
# or they are already used inside the generated project.
RESERVED_MODULES = {
    "aiohttp",
    "boto3",
    "botocore",
    "config",
    "deploy",
    "django",
    "django_aws_api_gateway_websockets",
    "environ",
    "gunicorn",
    "manage",
    "psycopg",
    "pytest",
    "static",
    "templates",
    "test",
    "tests",
    "whitenoise",
    "chat",
    "dashboard",
    "notifications",
    "users",
    "localdev",
    "localgateway",
}

HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
AWS_ACCOUNT_ID = re.compile(r"^\d{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
VERSION = re.compile(r"^\d+(\.\d+){0,3}([abc]|rc)?\d*$")


def check_slug(slug):
    if not slug.isidentifier() or not slug.isascii():
        return "must be a valid Python identifier (letters, digits and underscores, not starting with a digit)"
    if slug != slug.lower():
        return "must be lower case"
    if keyword.iskeyword(slug) or slug in sys.stdlib_module_names:
        return "must not shadow a Python keyword or standard-library module"
    if slug in RESERVED_MODULES:
        return "must not shadow a Django, dependency or project module"
    return None


def check_domain(domain):
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(HOSTNAME_LABEL.match(label) for label in labels):
        return "must be a host name such as example.com (lower-case letters, digits, hyphens and dots)"
    if labels[-1].isdigit():
        return "must be a host name, not an IP address"
    if labels[0] in {"www", "ws"}:
        return "must be the apex domain without www. or ws.; the site runs on www.<domain>, sockets on ws.<domain>"
    return None


def check_region(region):
    if not AWS_REGION.match(region):
        return "must be an AWS region name such as eu-west-1 or us-east-1"
    return None


def check_account(account):
    if account and not AWS_ACCOUNT_ID.match(account):
        return "must be 12 digits, or blank to fill in later"
    return None


def check_email(email):
    if not EMAIL.match(email):
        return "must be an email address such as you@example.com"
    return None


def check_timezone(name):
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone name such as UTC or Europe/London"
    return None


def check_version(version):
    if not VERSION.match(version):
        return "must be a version number such as 0.1.0"
    return None


DJANGO_VERSIONS = ("6.1", "5.2")


def check_django_version(version):
    # cookiecutter itself refuses a choice outside the list when it is given on the
    # command line; a replay file or a script's context reaches this hook unchecked.
    if version not in DJANGO_VERSIONS:
        return "must be 6.1 (the current release, Python 3.12+) or 5.2 (the LTS release, Python 3.11+)"
    return None


def check_name(name):
    if not name.strip():
        return "must not be blank"
    return None


CHECKS = [
    ("project_name", check_name),
    ("project_slug", check_slug),
    ("domain_name", check_domain),
    ("aws_region", check_region),
    ("aws_account_id", check_account),
    ("email", check_email),
    ("timezone", check_timezone),
    ("version", check_version),
    ("django_version", check_django_version),
]


def main():
    for answer, check in CHECKS:
        value = str(ANSWERS.get(answer, ""))
        problem = check(value)
        if problem:
            print(f"ERROR: {answer}={value!r} {problem}.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
