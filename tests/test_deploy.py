"""Deploying a baked project: each deploy target bakes only its own files, its scripts
and units pass their linters, the IAM policies hold exactly what the answers call for,
and (slow) a release runs end to end against the local gateway before a gunicorn with
production settings serves pages and hashed static files on 127.0.0.1."""

import configparser
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from .conftest import TEMPLATE_DIR, VENV_BIN, choices, run

DEPLOY_TARGETS = choices("deploy_target")
SLUG = "realtime_site"
SHELLCHECK = VENV_BIN / "shellcheck"
HADOLINT = VENV_BIN / "hadolint"

COMMON_FILES = [
    "deploy/gunicorn.conf.py",
    "deploy/release.sh",
    "deploy/cleanup.sh",
    "deploy/iam/render_policies.py",
    "deploy/iam/web-runtime-policy.json",
    "deploy/iam/release-policy.json",
]
UNITS = [f"{SLUG}.service", f"{SLUG}-release.service", f"{SLUG}-cleanup.service", f"{SLUG}-cleanup.timer"]
TARGET_FILES = {
    "linux-systemd": [
        *(f"deploy/linux-systemd/{unit}" for unit in UNITS),
        "deploy/linux-systemd/nginx-site.conf",
        "deploy/linux-systemd/server.env",
        "deploy/linux-systemd/install.sh",
        # How the release unit gets the release role (with iam_role, the default answer).
        "deploy/linux-systemd/aws-config",
    ],
    "container": [
        "Dockerfile",
        ".dockerignore",
        "deploy/container/entrypoint.sh",
        "deploy/container/ecs-task-definition.json",
        "deploy/container/ecs-release-task-definition.json",
        "deploy/iam/ecs-execution-policy.json",
        "deploy/iam/ecs-execution-trust-policy.json",
    ],
    "none": [],
}
EXECUTABLES = {
    "linux-systemd": ["deploy/linux-systemd/install.sh"],
    "container": ["deploy/container/entrypoint.sh"],
    "none": [],
}


def test_the_deploy_targets_on_offer():
    assert DEPLOY_TARGETS[0] == "linux-systemd"
    assert set(DEPLOY_TARGETS) == set(TARGET_FILES)


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_each_target_bakes_its_own_files_and_nothing_of_the_others(bake, target):
    project = bake(deploy_target=target)
    for relative in COMMON_FILES + TARGET_FILES[target]:
        assert (project / relative).is_file(), relative
    for other, files in TARGET_FILES.items():
        if other != target:
            for relative in files:
                assert not (project / relative).exists(), relative
    if target != "linux-systemd":
        assert not (project / "deploy/linux-systemd").exists()
    if target != "container":
        assert not (project / "deploy/container").exists()
    for relative in ["deploy/release.sh", "deploy/cleanup.sh", "deploy/iam/render_policies.py", *EXECUTABLES[target]]:
        assert os.access(project / relative, os.X_OK), relative
    assert sorted(p.relative_to(project).as_posix() for p in project.glob("deploy/**/*.sh")) == sorted(
        ["deploy/release.sh", "deploy/cleanup.sh", *EXECUTABLES[target]]
    )


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_shell_scripts_pass_shellcheck(bake, target):
    project = bake(deploy_target=target)
    scripts = sorted(str(path) for path in project.glob("deploy/**/*.sh"))
    completed = run([SHELLCHECK, "--shell=bash", "--severity=style", *scripts], cwd=project)
    assert completed.returncode == 0, completed.stdout


def test_shellcheck_would_catch_a_bad_script(tmp_path):
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    assert run([SHELLCHECK, str(script)], cwd=tmp_path).returncode != 0


@pytest.mark.parametrize(("django_version", "python"), [("6.1", "3.12"), ("5.2", "3.11")])
def test_dockerfile_passes_hadolint(bake, django_version, python):
    project = bake(deploy_target="container", django_version=django_version)
    completed = run([HADOLINT, "Dockerfile"], cwd=project)
    assert completed.returncode == 0, completed.stdout
    dockerfile = (project / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == [f"python:{python}-slim-bookworm"] * 2
    assert 'ENTRYPOINT ["/app/deploy/container/entrypoint.sh"]' in dockerfile
    assert re.search(r"^USER \d+:\d+$", dockerfile, re.MULTILINE), "the image must not run as root"
    ignored = (project / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and ".venv" in ignored and ".git" in ignored


def _systemd_root(project, tmp_path):
    """A scratch root holding the units, systemd's own units and the programs the units run."""
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for unit in UNITS:
        (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
        shutil.copy(project / "deploy/linux-systemd" / unit, root / "etc/systemd/system" / unit)
    app = root / "srv" / SLUG
    shutil.copytree(project / "deploy", app / "deploy")
    for program in [app / ".venv/bin/gunicorn", root / "bin/kill"]:
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    return root


def _verify(root):
    completed = run(["systemd-analyze", "verify", f"--root={root}", *UNITS], cwd=root)
    complaints = [line for line in (completed.stdout + completed.stderr).splitlines() if SLUG in line]
    return completed.returncode, complaints


def test_systemd_units_pass_systemd_analyze_verify(bake, tmp_path):
    project = bake(deploy_target="linux-systemd")
    root = _systemd_root(project, tmp_path)
    assert _verify(root) == (0, [])

    # The same check reports a unit that runs a missing program or has a bad key.
    service = root / "etc/systemd/system" / f"{SLUG}.service"
    service.write_text(service.read_text().replace("Type=notify", "Type=sometimes"))
    assert _verify(root)[1]
    (root / "srv" / SLUG / ".venv/bin/gunicorn").unlink()
    assert _verify(root)[0] != 0


def test_systemd_units_run_the_deploy_scripts_as_the_service_user(bake):
    units = bake(deploy_target="linux-systemd") / "deploy/linux-systemd"
    web = (units / f"{SLUG}.service").read_text()
    assert f"ExecStart=/srv/{SLUG}/.venv/bin/gunicorn --config deploy/gunicorn.conf.py config.wsgi:application" in web
    assert f"EnvironmentFile=/etc/{SLUG}/env" in web and f"User={SLUG}" in web
    assert f"ExecStart=/srv/{SLUG}/deploy/release.sh" in (units / f"{SLUG}-release.service").read_text()
    assert f"ExecStart=/srv/{SLUG}/deploy/cleanup.sh" in (units / f"{SLUG}-cleanup.service").read_text()
    assert "OnCalendar=hourly" in (units / f"{SLUG}-cleanup.timer").read_text()
    nginx = (units / "nginx-site.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    # The WebSocket view takes the client's address from the last X-Forwarded-For entry, the
    # one API Gateway wrote; nginx must not append its own peer (API Gateway) after it.
    assert "proxy_set_header X-Forwarded-For $http_x_forwarded_for;" in nginx
    assert "$proxy_add_x_forwarded_for" not in nginx
    # ... so no proxy of the deployment's own appends an entry: the view skips none.
    environment = (units / "server.env").read_text()
    assert re.search(r"^WEBSOCKET_FORWARDED_FOR_PROXIES=0$", environment, re.MULTILINE)
    assert re.search(r"^WEBSOCKET_GATEWAY_SECRET=$", environment, re.MULTILINE), "filled in by install.sh"
    assert "proxy_read_timeout 28s;" in nginx


# Variables that would put the query string, and with it ?ws_token=, into a log line.
QUERY_VARIABLES = re.compile(r"\$(?:request|request_uri|args|query_string|is_args|arg_\w+)\b")


def test_nginx_logs_api_gateways_calls_without_their_query_string(bake):
    """Static: nginx may not be installed here. The /ws/ location (where $connect brings
    the single-use token in ?ws_token=) logs with a format that has no query string."""
    nginx = (bake(deploy_target="linux-systemd") / "deploy/linux-systemd/nginx-site.conf").read_text()
    formats = dict(re.findall(r"^log_format\s+(\w+)\s+(.*?);\s*$", nginx, re.MULTILINE | re.DOTALL))
    locations = dict(re.findall(r"^\s*location\s+(\S+)\s*\{(.*?)\}", nginx, re.MULTILINE | re.DOTALL))
    (log,) = re.findall(r"^\s*access_log\s+(\S+)\s+(\w+);", locations["/ws/"], re.MULTILINE)
    assert log[1] in formats, "the /ws/ location names a log_format of the site"
    assert "$request_method $uri $server_protocol" in formats[log[1]]
    assert not QUERY_VARIABLES.search(formats[log[1]])
    assert QUERY_VARIABLES.search('"$request" $status') and not QUERY_VARIABLES.search("$request_method $uri")
    # The location still reaches gunicorn, with the server's proxy headers.
    assert f"proxy_pass http://{SLUG}_gunicorn;" in locations["/ws/"]
    assert "proxy_set_header" not in locations["/ws/"], "a location's own proxy_set_header drops the server's"


# -- IAM policies --------------------------------------------------------------------------
#
# One identity per job: the web role (gunicorn, clean-up) may only manage the WebSocket
# connections of this API's stage; the release role (deploy/release.sh) provisions.

WEB_ROLE, RELEASE_ROLE = f"{SLUG}-web", f"{SLUG}-release"
API_ID = "abcdef1234"


def _statements(document):
    """(sorted actions, sorted resources, condition) per statement; every one an Allow."""
    assert document["Version"] == "2012-10-17"
    found = []
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, "no NotAction, NotResource"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        found.append((sorted(actions), sorted(resources), statement.get("Condition")))
    return found


def _grants(document):
    """Every (action, resource) pair a permission policy allows."""
    return [
        (action, resource)
        for actions, resources, _ in _statements(document)
        for action in actions
        for resource in resources
    ]


def expected_web_runtime(partition, region, account, api_id="*"):
    resources = sorted(
        f"arn:{partition}:execute-api:{region}:{account}:{api_id}/production/{method}/@connections/*"
        for method in ("POST", "GET", "DELETE")
    )
    return [(["execute-api:ManageConnections"], resources, None)]


def expected_release(partition, region, account, zone, api_id="*", host="ws.example.com"):
    control = f"arn:{partition}:apigateway:{region}::"
    domain = f"{control}/domainnames/{host}"
    create = [(["apigateway:POST"], [f"{control}/apis"], None)] if api_id == "*" else []
    return [
        *create,
        (["apigateway:GET", "apigateway:PATCH"], [f"{control}/apis/{api_id}"], None),
        (
            ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST"],
            [f"{control}/apis/{api_id}/*"],
            None,
        ),
        (["apigateway:POST"], [f"{control}/domainnames"], None),
        (["apigateway:GET"], sorted([domain, f"{domain}/apimappings", f"{domain}/apimappings/*"]), None),
        (["apigateway:POST"], [f"{domain}/apimappings"], None),
        (
            ["iam:CreateServiceLinkedRole"],
            [
                f"arn:{partition}:iam::{account}:role/aws-service-role/ops.apigateway.amazonaws.com/"
                "AWSServiceRoleForAPIGateway"
            ],
            {"StringEquals": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}},
        ),
        (
            ["route53:ChangeResourceRecordSets"],
            [f"arn:{partition}:route53:::hostedzone/{zone}"],
            {
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [host],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                    "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                }
            },
        ),
    ]


def _policies(project, directory="deploy/iam"):
    iam = project / directory
    return (json.loads((iam / name).read_text()) for name in ("web-runtime-policy.json", "release-policy.json"))


def _render(project, *arguments):
    return run([sys.executable, "deploy/iam/render_policies.py", *arguments], cwd=project)


@pytest.mark.parametrize(
    ("region", "account", "partition", "account_in_arns"),
    [
        ("eu-west-1", "123456789012", "aws", "123456789012"),
        ("eu-west-1", "", "aws", "ACCOUNT_ID"),
        ("us-gov-west-1", "210987654321", "aws-us-gov", "210987654321"),
        ("cn-north-1", "", "aws-cn", "ACCOUNT_ID"),
    ],
)
def test_policies_hold_exactly_the_expected_actions_and_resources(bake, region, account, partition, account_in_arns):
    project = bake(aws_region=region, aws_account_id=account)
    runtime, release = _policies(project)
    assert _statements(runtime) == expected_web_runtime(partition, region, account_in_arns)
    assert _statements(release) == expected_release(partition, region, account_in_arns, "HOSTED_ZONE_ID")
    everything = json.dumps([runtime, release])
    assert '"*:' not in everything and ':*"' not in everything, "no wildcard actions"


def test_the_web_role_may_only_manage_connections_and_the_release_role_never_invokes(bake):
    runtime, release = _policies(bake(aws_account_id="123456789012"))
    assert {action for action, _ in _grants(runtime)} == {"execute-api:ManageConnections"}
    assert all(resource.startswith("arn:aws:execute-api:") for _, resource in _grants(runtime))
    assert not [grant for grant in _grants(release) if "execute-api" in grant[0] + grant[1]]


SAMPLE = ["--account-id", "123456789012", "--hosted-zone-id", "Z123", "--region", "eu-west-1"]


def test_pinning_names_the_api_in_both_policies_and_drops_creating_one(bake):
    project = bake(aws_account_id="")
    unpinned = _render(project, *SAMPLE)
    assert unpinned.returncode == 0
    assert "NO API ID YET" in unpinned.stderr and "ANY" in unpinned.stderr, "said loudly"
    pinned = _render(project, *SAMPLE, "--hosted-zone-id", "/hostedzone/Z123", "--api-id", API_ID)
    assert pinned.returncode == 0
    assert "Still to fill in" not in pinned.stdout and "NO API ID" not in pinned.stderr
    runtime, release = _policies(project)
    assert _statements(runtime) == expected_web_runtime("aws", "eu-west-1", "123456789012", API_ID)
    assert _statements(release) == expected_release("aws", "eu-west-1", "123456789012", "Z123", API_ID)
    # The web role: exactly ManageConnections on this API's stage, for POST, GET and DELETE.
    stage = f"arn:aws:execute-api:eu-west-1:123456789012:{API_ID}/production"
    assert sorted(_grants(runtime)) == sorted(
        ("execute-api:ManageConnections", f"{stage}/{method}/@connections/*") for method in ("POST", "GET", "DELETE")
    )
    # The release role: no wildcard API id left, and no way to create another API.
    for _, resource in _grants(release):
        assert "/apis/*" not in resource and not resource.endswith("/apis"), resource
    assert f"/apis/{API_ID}" in json.dumps(release)
    assert "ACCOUNT_ID" not in json.dumps([runtime, release])


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("--account-id=12345", "12-digit"),
        ("--hosted-zone-id=z lower", "hosted zone"),
        ("--api-id=../x", "API id"),
        ("--websocket-host=ws.example.com/x", "DNS name"),
        ("--release-principal=arn:aws:iam::123456789012:root", "role or user ARN"),
    ],
)
def test_rerendering_refuses_bad_values_and_keeps_the_files(bake, argument, message):
    project = bake()
    before = [path.read_text() for path in sorted((project / "deploy/iam").glob("*.json"))]
    completed = _render(project, argument)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert [path.read_text() for path in sorted((project / "deploy/iam").glob("*.json"))] == before


def _trust(project, name):
    """(principal, condition) of a trust policy, or None if the bake has none of that name."""
    path = project / "deploy/iam" / name
    if not path.exists():
        return None
    (statement,) = json.loads(path.read_text())["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    return statement["Principal"], statement.get("Condition")


ECS_TASKS = {"Service": "ecs-tasks.amazonaws.com"}
IN_ACCOUNT = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
WEB_USER = {"AWS": f"arn:aws:iam::123456789012:user/{WEB_ROLE}"}


@pytest.mark.parametrize(
    ("credentials", "target", "web", "release"),
    [
        # EC2: the instance role is the web role; the release unit's profile assumes the
        # release role with the instance role's credentials.
        (
            "iam_role",
            "linux-systemd",
            ({"Service": "ec2.amazonaws.com"}, None),
            ({"AWS": f"arn:aws:iam::123456789012:role/{WEB_ROLE}"}, None),
        ),
        # ECS: each task definition has its own task role, assumed by this account's tasks.
        ("iam_role", "container", (ECS_TASKS, IN_ACCOUNT), (ECS_TASKS, IN_ACCOUNT)),
        # Your own compute: you write both trusts.
        ("iam_role", "none", None, None),
        # A profile's keys belong to the web IAM user, whose profile the release profile uses.
        ("profile", "linux-systemd", None, (WEB_USER, None)),
        ("profile", "none", None, (WEB_USER, None)),
        # Access keys: two IAM users, no role at all.
        ("access_keys", "linux-systemd", None, None),
        ("access_keys", "container", None, None),
    ],
)
def test_each_role_has_its_own_trust_and_the_web_never_carries_the_release_policy(
    bake, credentials, target, web, release
):
    project = bake(aws_credentials=credentials, deploy_target=target, aws_account_id="123456789012")
    assert _trust(project, "web-trust-policy.json") == web
    assert _trust(project, "release-trust-policy.json") == release
    assert not (project / "deploy/iam/trust-policy.json").exists(), "one trust policy per role, named for it"
    assert _trust(project, "ecs-execution-trust-policy.json") == (
        (ECS_TASKS, IN_ACCOUNT) if target == "container" else None
    )
    if target == "container":
        assert _statements(json.loads((project / "deploy/iam/ecs-execution-policy.json").read_text())) == [
            (["ssm:GetParameters"], [f"arn:aws:ssm:eu-west-1:123456789012:parameter/{SLUG}/*"], None)
        ]
    # Permissions and trust are separate documents: only a trust policy names a principal.
    for path in (project / "deploy/iam").glob("*.json"):
        for statement in json.loads(path.read_text())["Statement"]:
            assert ("Principal" in statement) == path.name.endswith("trust-policy.json"), path.name
    # The deploy steps attach the runtime policy to the web identity and the release policy
    # to the release identity, and nothing else.
    readme = (project / "README.md").read_text()
    attached = set(
        re.findall(
            r"attach-(?:role|user)-policy --(?:role|user)-name (\S+) \\?\s*--policy-arn \S*?policy/([\w-]+)", readme
        )
    )
    ours = {
        (identity, policy)
        for identity, policy in attached
        if policy.startswith(SLUG) or identity in (WEB_ROLE, RELEASE_ROLE)
    }
    assert ours == {(WEB_ROLE, f"{SLUG}-web-runtime"), (RELEASE_ROLE, f"{SLUG}-release")}
    assert f"--role-name {WEB_ROLE} --assume-role-policy-document file://deploy/iam/release-trust" not in readme


def test_a_release_principal_of_your_own_replaces_the_default(bake):
    project = bake(aws_account_id="123456789012")
    ci_role = "arn:aws:iam::123456789012:role/ci-deploy"
    assert _render(project, "--release-principal", ci_role).returncode == 0
    assert _trust(project, "release-trust-policy.json") == ({"AWS": ci_role}, None)
    keys = bake(aws_account_id="123456789012", aws_credentials="access_keys")
    refused = _render(keys, "--release-principal", ci_role)
    assert refused.returncode == 2 and "IAM user" in refused.stderr


def _uncommented(text):
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("credentials", choices("aws_credentials"))
def test_the_release_unit_alone_takes_the_release_identity(bake, credentials):
    """The site and the clean-up keep the web identity; the release unit switches to the
    release one, which the shared environment file may not override."""
    project = bake(deploy_target="linux-systemd", aws_credentials=credentials, aws_account_id="123456789012")
    units = project / "deploy/linux-systemd"
    release = _uncommented((units / f"{SLUG}-release.service").read_text())
    for unit in (f"{SLUG}.service", f"{SLUG}-cleanup.service"):
        text = _uncommented((units / unit).read_text())
        assert not re.search(r"^Environment=AWS_", text, re.MULTILINE), unit
        assert "release" not in text, unit
    assert not re.search(r"^AWS_(IAM_)?PROFILE=", (units / "server.env").read_text(), re.MULTILINE)
    if credentials == "access_keys":
        # Read after the site's environment, so the release user's keys replace the web user's.
        files = re.findall(r"^EnvironmentFile=(\S+)$", release, re.MULTILINE)
        assert files == [f"/etc/{SLUG}/env", f"/etc/{SLUG}/release.env"]
        assert "AWS_ACCESS_KEY_ID=CHANGE_ME" in (units / "release.env").read_text()
        assert not (units / "aws-config").exists()
        return
    assert not (units / "release.env").exists()
    environment = dict(re.findall(r"^Environment=(AWS_\w+)=(\S+)$", release, re.MULTILINE))
    assert environment == {
        "AWS_CONFIG_FILE": f"/etc/{SLUG}/aws/config",
        "AWS_PROFILE": RELEASE_ROLE,
        "AWS_IAM_PROFILE": RELEASE_ROLE,
    }
    config = configparser.ConfigParser()
    config.read_string((units / "aws-config").read_text())
    profile = dict(config[f"profile {RELEASE_ROLE}"])
    assert profile["role_arn"] == f"arn:aws:iam::123456789012:role/{RELEASE_ROLE}"
    if credentials == "iam_role":
        assert profile["credential_source"] == "Ec2InstanceMetadata" and "source_profile" not in profile
        assert not config.has_section(f"profile {SLUG}")
    else:
        assert profile["source_profile"] == SLUG and config.has_section(f"profile {SLUG}")


@pytest.mark.parametrize("credentials", choices("aws_credentials"))
@pytest.mark.parametrize("account", ["123456789012", ""])
def test_ecs_task_definitions_take_secrets_from_parameter_store_and_each_its_own_role(bake, credentials, account):
    project = bake(deploy_target="container", aws_credentials=credentials, aws_account_id=account)
    arn_account = account or "ACCOUNT_ID"
    parameters = f"arn:aws:ssm:eu-west-1:{arn_account}:parameter/{SLUG}"
    definitions = {
        "web": json.loads((project / "deploy/container/ecs-task-definition.json").read_text()),
        "release": json.loads((project / "deploy/container/ecs-release-task-definition.json").read_text()),
    }
    for job, task in definitions.items():
        assert task["family"] == (SLUG if job == "web" else f"{SLUG}-release")
        assert task["executionRoleArn"] == f"arn:aws:iam::{arn_account}:role/{SLUG}-execution"
        # Each job its own task role: the web task never runs with the release role.
        role = f"arn:aws:iam::{arn_account}:role/{SLUG}-{job}"
        assert task.get("taskRoleArn") == (role if credentials == "iam_role" else None)
        (container,) = task["containerDefinitions"]
        assert container["command"] == [job]
        expected = {
            "DJANGO_SECRET_KEY": f"{parameters}/DJANGO_SECRET_KEY",
            "DATABASE_URL": f"{parameters}/DATABASE_URL",
            "WEBSOCKET_GATEWAY_SECRET": f"{parameters}/WEBSOCKET_GATEWAY_SECRET",
        }
        if credentials == "access_keys":
            # Each job's own IAM user.
            expected["AWS_ACCESS_KEY_ID"] = f"{parameters}/{job}/AWS_ACCESS_KEY_ID"
            expected["AWS_SECRET_ACCESS_KEY"] = f"{parameters}/{job}/AWS_SECRET_ACCESS_KEY"
        assert {item["name"]: item["valueFrom"] for item in container["secrets"]} == expected
        plain = {item["name"]: item["value"] for item in container["environment"]}
        assert not set(plain) & {*SECRET_VARIABLES, "DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
        profile = RELEASE_ROLE if job == "release" and credentials == "profile" else None
        assert plain.get("AWS_IAM_PROFILE") == profile
        if job == "web":
            assert container["portMappings"] == [{"containerPort": 8000, "protocol": "tcp"}]
            # An Application Load Balancer appends one X-Forwarded-For entry after API Gateway's.
            assert plain["WEBSOCKET_FORWARDED_FOR_PROXIES"] == "1"
            assert "WEBSOCKET_CERTIFICATE_ARN" not in plain, "a release setting"
        else:
            assert "portMappings" not in container
            assert {"WEBSOCKET_CERTIFICATE_ARN", "WEBSOCKET_HOSTED_ZONE_ID"} <= set(plain)
    assert "ecs-release-task-definition.json" in (project / "deploy/container/entrypoint.sh").read_text()


SECRET_VARIABLES = ("DJANGO_SECRET_KEY", "WEBSOCKET_GATEWAY_SECRET", "WEBSOCKET_GATEWAY_SECRET_PREVIOUS")


# -- background sends: the Celery worker of each target ------------------------------------------

WORKER_FILES = {
    "linux-systemd": f"deploy/linux-systemd/{SLUG}-worker.service",
    "container": "deploy/container/ecs-worker-task-definition.json",
}


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_only_projects_with_background_sends_get_a_worker(bake, target):
    without = bake(deploy_target=target)
    assert not (without / "config/celery.py").exists()
    assert "celery" not in (without / "pyproject.toml").read_text()
    for relative in WORKER_FILES.values():
        assert not (without / relative).exists(), relative
    if target == "container":
        assert "worker)" not in (without / "deploy/container/entrypoint.sh").read_text()
        web = json.loads((without / "deploy/container/ecs-task-definition.json").read_text())
        assert "CELERY_BROKER_URL" not in json.dumps(web)

    with_celery = bake(deploy_target=target, background_sends="celery")
    assert (with_celery / "config/celery.py").is_file()
    assert '"celery[redis,sqs]' in (with_celery / "pyproject.toml").read_text()
    if target in WORKER_FILES:
        assert (with_celery / WORKER_FILES[target]).is_file()


def test_the_systemd_worker_runs_celery_as_the_service_user_on_the_local_redis(bake, tmp_path):
    project = bake(deploy_target="linux-systemd", background_sends="celery")
    units = project / "deploy/linux-systemd"
    worker = (units / f"{SLUG}-worker.service").read_text()
    assert f"ExecStart=/srv/{SLUG}/.venv/bin/python -m celery -A config worker --loglevel INFO" in worker
    assert f"User={SLUG}" in worker and f"EnvironmentFile=/etc/{SLUG}/env" in worker
    assert "KillMode=mixed" in worker, "SIGTERM to Celery alone: its warm shutdown finishes running chunks"
    assert re.search(r"^CELERY_BROKER_URL=redis://127\.0\.0\.1:6379/0$", (units / "server.env").read_text(), re.M)
    install = (units / "install.sh").read_text()
    assert "redis-server" in install and 'UNITS+=("$SLUG-worker.service")' in install
    assert 'systemctl restart "$SLUG-worker.service"' in install

    root = _systemd_root(project, tmp_path)
    unit = f"{SLUG}-worker.service"
    shutil.copy(units / unit, root / "etc/systemd/system" / unit)
    python = root / "srv" / SLUG / ".venv/bin/python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    completed = run(["systemd-analyze", "verify", f"--root={root}", unit], cwd=root)
    complaints = [line for line in (completed.stdout + completed.stderr).splitlines() if SLUG in line]
    assert (completed.returncode, complaints) == (0, [])


@pytest.mark.parametrize("credentials", choices("aws_credentials"))
def test_the_ecs_worker_runs_with_the_web_identity_and_the_broker_from_parameter_store(bake, credentials):
    project = bake(
        deploy_target="container", background_sends="celery", aws_credentials=credentials, aws_account_id="123456789012"
    )
    container_dir = project / "deploy/container"
    web = json.loads((container_dir / "ecs-task-definition.json").read_text())
    worker = json.loads((container_dir / "ecs-worker-task-definition.json").read_text())
    assert worker["family"] == f"{SLUG}-worker"
    # It sends to connections, as the site does, and nothing more: the web role.
    assert worker.get("taskRoleArn") == web.get("taskRoleArn")
    (container,) = worker["containerDefinitions"]
    assert container["command"] == ["worker"] and "portMappings" not in container
    broker = f"arn:aws:ssm:eu-west-1:123456789012:parameter/{SLUG}/CELERY_BROKER_URL"
    (web_container,) = web["containerDefinitions"]
    for definition in (container, web_container):
        assert {item["name"]: item["valueFrom"] for item in definition["secrets"]}["CELERY_BROKER_URL"] == broker
    assert container["secrets"] == web_container["secrets"]
    entrypoint = (container_dir / "entrypoint.sh").read_text()
    assert 'worker) exec "${PYTHON:-python}" -m celery -A config worker --loglevel INFO "$@" ;;' in entrypoint


# -- environment and secrets ------------------------------------------------------------------

ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")
OS_ENVIRON = re.compile(
    r"""os\.environ(?:\.get)?[(\[]\s*["']([A-Z][A-Z0-9_]+)["']"""  # os.environ.get("X") / os.environ["X"]
    r"""|_int\(\s*["']([A-Z][A-Z0-9_]+)["']"""  # gunicorn.conf.py's _int("X", default)
)
SHELL_DEFAULT = re.compile(r"\$\{([A-Z][A-Z0-9_]+):-")
SCRIPTS_READING_THE_ENVIRONMENT = [
    "deploy/release.sh",
    "deploy/cleanup.sh",
    "deploy/container/entrypoint.sh",
    "deploy/linux-systemd/install.sh",
]
# Set by the scripts for themselves, not read from the environment.
SCRIPT_INTERNAL = {"PROJECT_DIR"}


def variables_read(project):
    names = set()
    for path in project.glob("config/settings/*.py"):
        names |= set(ENV_READ.findall(path.read_text()))
    for path in project.glob("deploy/*.py"):
        for groups in OS_ENVIRON.findall(path.read_text()):
            names |= {name for name in groups if name}
    for relative in SCRIPTS_READING_THE_ENVIRONMENT:
        if (project / relative).exists():
            names |= set(SHELL_DEFAULT.findall((project / relative).read_text()))
    return names - SCRIPT_INTERNAL


@pytest.mark.parametrize("background_sends", choices("background_sends"))
@pytest.mark.parametrize("target", DEPLOY_TARGETS)
@pytest.mark.parametrize("credentials", choices("aws_credentials"))
def test_env_example_documents_every_variable_the_project_reads(bake, credentials, target, background_sends):
    project = bake(aws_credentials=credentials, deploy_target=target, background_sends=background_sends)
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (project / ".env.example").read_text(), re.MULTILINE))
    read = variables_read(project)
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "GUNICORN_WORKERS", "WEBSOCKET_CERTIFICATE_ARN"} <= read
    assert read - documented == set()


def env_file_values(path):
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


@pytest.mark.parametrize("credentials", choices("aws_credentials"))
def test_no_secret_is_written_into_a_tracked_file(bake, credentials, tmp_path):
    project = bake(aws_credentials=credentials, deploy_target="linux-systemd")
    values = env_file_values(project / ".env")
    generated = [values["DJANGO_SECRET_KEY"], values["WEBSOCKET_GATEWAY_SECRET"]]
    assert oct((project / ".env").stat().st_mode & 0o777) == "0o600"
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    assert run([*git, "init", "-q"], cwd=project).returncode == 0
    assert run([*git, "add", "-A"], cwd=project).returncode == 0
    tracked = run(["git", "ls-files"], cwd=project).stdout.split()
    assert ".env" not in tracked and ".env.example" in tracked
    for relative in tracked:
        text = (project / relative).read_text(errors="ignore")
        assert not [secret for secret in generated if secret in text], relative
        assert not re.search(r"AWS_SECRET_ACCESS_KEY\s*=\s*[\"']?[A-Za-z0-9/+]{30,}", text), relative


def test_the_gateway_secret_replaces_the_line_of_env_example_when_it_has_one(tmp_path):
    """The hook fills in a ``WEBSOCKET_GATEWAY_SECRET=`` line of .env.example where it
    stands, and appends one only when the example has none."""
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, template, ignore=shutil.ignore_patterns(".git", ".venv", ".scratch", "site"))
    example = template / "{{cookiecutter.project_slug}}/.env.example"
    lines = example.read_text().splitlines()
    lines = [line for line in lines if not line.startswith("WEBSOCKET_GATEWAY_SECRET=")]
    lines.insert(10, "WEBSOCKET_GATEWAY_SECRET=")
    example.write_text("\n".join(lines) + "\n")
    project = Path(cookiecutter(str(template), no_input=True, output_dir=str(tmp_path / "out")))
    written = (project / ".env").read_text().splitlines()
    assigned = [index for index, line in enumerate(written) if line.startswith("WEBSOCKET_GATEWAY_SECRET=")]
    assert len(assigned) == 1
    assert re.fullmatch(r"WEBSOCKET_GATEWAY_SECRET=[A-Za-z0-9_-]{64}", written[assigned[0]])
    example_lines = (project / ".env.example").read_text().splitlines()
    assert example_lines[assigned[0]] == "WEBSOCKET_GATEWAY_SECRET=", "in place of the example's line"


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_next_steps_name_the_chosen_target(tmp_path, target):
    completed = run(
        [VENV_BIN / "cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR), f"deploy_target={target}"],
        cwd=tmp_path,
    )
    assert completed.returncode == 0
    expected = {"linux-systemd": "install.sh", "container": "docker build", "none": "No deploy target"}[target]
    assert expected in completed.stdout
    assert "render_policies.py --account-id" in completed.stdout


README_TARGET_MARKERS = {
    "linux-systemd": "deploy/linux-systemd/install.sh",
    "container": "aws ecs register-task-definition",
    "none": "No deploy target was chosen",
}


def test_readme_deploy_section_walks_from_bake_to_a_live_socket(bake):
    for target in DEPLOY_TARGETS:
        readme = (bake(deploy_target=target, aws_account_id="123456789012") / "README.md").read_text()
        deploy = readme.split("## Deploy", 1)[1]
        # Written for the chosen target, and for no other.
        for other, marker in README_TARGET_MARKERS.items():
            assert (marker in deploy) == (other == target), (target, marker)
        for command in [
            "aws acm request-certificate",
            "aws route53 list-hosted-zones-by-name",
            "render_policies.py",
            "aws iam create-policy",
            "deploy/release.sh",
            "createCustomDomain",
            "wss://ws.example.com",
        ]:
            assert command in deploy, (target, command)
        assert "{{" not in deploy and "{%" not in deploy


# -- slow: install a bake, release against the local gateway, serve with gunicorn ------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """Bake and install a project per set of answers, once per session."""
    projects = {}

    def _installed(**answers):
        answers = {"aws_credentials": "iam_role", **answers}
        key = tuple(sorted(answers.items()))
        if key not in projects:
            output = tmp_path_factory.mktemp("installed")
            project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=answers, output_dir=output))
            env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
            assert run(["make", "install"], cwd=project, env=env).returncode == 0
            projects[key] = project
        return projects[key]

    return _installed


def production_env(project, tmp_path, **extra):
    """The environment a server would give the project: production settings, a fresh
    secret, a private SQLite database and static root, no AWS settings from outside."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DJANGO_", "GUNICORN_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        PATH=f"{project / '.venv/bin'}{os.pathsep}{os.environ['PATH']}",
    )
    env.update(extra)
    return env


def settings_values(project, env, names):
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))"
    )
    completed = run([project / ".venv/bin/python", "-c", script], cwd=project, env=env)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.slow
def test_production_settings_are_secure_and_every_value_comes_from_the_environment(installed, tmp_path):
    project = installed(deploy_target="none")
    env = production_env(project, tmp_path)
    check_deploy = [project / ".venv/bin/python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    check = run(check_deploy, project, env)
    assert check.returncode == 0, check.stdout + check.stderr

    names = [
        "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SESSION_COOKIE_DOMAIN", "CSRF_COOKIE_DOMAIN",
        "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT",
        "STATIC_ROOT", "LOGGING", "WEBSOCKETS",
    ]  # fmt: skip
    values = settings_values(project, env, names)
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["www.example.com"]
    # Only the site's own pages open sockets; the session and CSRF cookies stay host-only
    # on www., and the handshake to ws. carries only the token's binding cookie (apex).
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://www.example.com"]
    assert values["SESSION_COOKIE_DOMAIN"] is values["CSRF_COOKIE_DOMAIN"] is None
    assert values["WEBSOCKETS"]["BINDING_COOKIE_DOMAIN"] == ".example.com"
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["STATIC_ROOT"] == str(tmp_path / "static")
    stdout_handler = values["LOGGING"]["handlers"]["stdout"]
    assert stdout_handler["stream"] == "ext://sys.stdout"
    assert values["LOGGING"]["root"]["handlers"] == ["stdout"]

    overridden = settings_values(
        project,
        {
            **env,
            "DOMAIN_NAME": "example.org",
            "DJANGO_ALLOWED_HOSTS": "www.example.org,example.org",
            "DJANGO_SECURE_HSTS_SECONDS": "600",
        },
        ["ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SESSION_COOKIE_DOMAIN", "SECURE_HSTS_SECONDS", "WEBSOCKETS"],
    )
    assert overridden.pop("WEBSOCKETS")["BINDING_COOKIE_DOMAIN"] == ".example.org"
    assert overridden == {
        "ALLOWED_HOSTS": ["www.example.org", "example.org"],
        "CSRF_TRUSTED_ORIGINS": ["https://www.example.org"],
        "SESSION_COOKIE_DOMAIN": None,
        "SECURE_HSTS_SECONDS": 600,
    }

    # DEBUG can be switched on from the environment, but then the release gate refuses.
    debug = run(check_deploy, project, {**env, "DJANGO_DEBUG": "True"})
    assert debug.returncode != 0
    assert "security.W018" in debug.stderr + debug.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("credentials", "extra_env", "expected"),
    [
        ("iam_role", {}, "the default chain (instance or task role)"),
        ("profile", {}, "profile realtime_site"),
        ("access_keys", {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}, "access key AKIAEXAMPLE"),
        ("access_keys", {}, "Set the AWS_ACCESS_KEY_ID environment variable"),
    ],
)
def test_aws_credentials_follow_the_answer(installed, tmp_path, credentials, extra_env, expected):
    project = installed(aws_credentials=credentials, deploy_target="none")
    env = production_env(project, tmp_path, **extra_env)
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "profile, key = settings.AWS_IAM_PROFILE, settings.AWS_ACCESS_KEY_ID; "
        "print(f'profile {profile}' if profile else f'access key {key}' if key "
        "else 'the default chain (instance or task role)')"
    )
    completed = run([project / ".venv/bin/python", "-c", script], cwd=project, env=env)
    assert expected in completed.stdout + completed.stderr
    assert (completed.returncode == 0) == ("Set the" not in expected)


class Server:
    """A process started for one test, stopped by its PID."""

    def __init__(self, command, cwd, env, log):
        self.log = log
        with open(log, "wb") as output:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)

    def wait_until(self, ready, what, limit=60):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{what} exited with {self.process.returncode}:\n{Path(self.log).read_text()}")
            if ready():
                return
            time.sleep(0.2)
        pytest.fail(f"{what} did not become ready:\n{Path(self.log).read_text()}")

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def fetch(url, headers=None):
    """(status, headers, body) of one GET, redirects not followed; status None if unreachable."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http://127.0.0.1 only
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, {}, b""


@pytest.fixture
def local_gateway(tmp_path):
    servers = []

    def _start(project):
        port = free_port()
        server = Server(
            [project / ".venv/bin/python", "manage.py", "localgateway", "--port", str(port)],
            cwd=project,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
            log=tmp_path / "localgateway.log",
        )
        servers.append(server)
        url = f"http://127.0.0.1:{port}"
        server.wait_until(lambda: fetch(f"{url}/@local/health")[0] == 200, "the local gateway")
        return url

    yield _start
    for server in servers:
        server.stop()


def unit_command(project, unit, key="ExecStart"):
    """A systemd unit's command and Environment=, with /srv/<slug> pointing at the bake."""
    text = (project / "deploy/linux-systemd" / unit).read_text().replace(f"/srv/{SLUG}", str(project))
    command = shlex.split(re.search(rf"^{key}=(.*)$", text, re.MULTILINE).group(1))
    environment = dict(line.split("=", 1) for line in re.findall(r"^Environment=(.*)$", text, re.MULTILINE))
    return command, environment


def release_and_serve_commands(project, target):
    """How the chosen target runs the release, the web server and the clean-up."""
    if target == "linux-systemd":
        release, release_env = unit_command(project, f"{SLUG}-release.service")
        web, web_env = unit_command(project, f"{SLUG}.service")
        cleanup, cleanup_env = unit_command(project, f"{SLUG}-cleanup.service")
        return (release, release_env), (web, web_env), (cleanup, cleanup_env)
    if target == "container":
        entrypoint = str(project / "deploy/container/entrypoint.sh")
        # What the image's ENV lines set (PATH aside); the image collects static files at build time.
        image_env = {"RELEASE_COLLECTSTATIC": "0", "PYTHON": "python", "GUNICORN_FORWARDED_ALLOW_IPS": "*"}
        dockerfile = (project / "Dockerfile").read_text()
        for name, value in image_env.items():
            assert f"{name}={value}" in dockerfile
        return ([entrypoint, "release"], image_env), ([entrypoint], image_env), ([entrypoint, "cleanup"], image_env)
    python = str(project / ".venv/bin/python")
    gunicorn = [str(project / ".venv/bin/gunicorn"), "--config", "deploy/gunicorn.conf.py", "config.wsgi:application"]
    return (["deploy/release.sh"], {}), (gunicorn, {"PYTHON": python}), (["deploy/cleanup.sh"], {})


GATEWAY_REPORT = """
import json, os, boto3
kwargs = dict(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
control = boto3.client("apigatewayv2", endpoint_url=os.environ["GATEWAY"], **kwargs)
route53 = boto3.client("route53", endpoint_url=os.environ["GATEWAY"], **kwargs)
apis = control.get_apis()["Items"]
domain = control.get_domain_name(DomainName="ws.example.com")
mappings = control.get_api_mappings(DomainName="ws.example.com")["Items"]
records = route53.list_resource_record_sets(HostedZoneId="Z0TESTZONE")["ResourceRecordSets"]
print(json.dumps({
    "apis": [(api["Name"], api["ApiId"]) for api in apis],
    "routes": sorted(r["RouteKey"] for r in control.get_routes(ApiId=apis[0]["ApiId"])["Items"]),
    "targets": sorted(i["IntegrationUri"] for i in control.get_integrations(ApiId=apis[0]["ApiId"])["Items"]),
    "mapping": [(m["ApiId"], m["Stage"]) for m in mappings],
    "alias": [(r["Name"], r["Type"], r.get("AliasTarget", {}).get("DNSName")) for r in records],
    "gateway_domain": domain["DomainNameConfigurations"][0]["ApiGatewayDomainName"],
}))
"""

STALE_ROWS = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketToken
user = get_user_model().objects.create_user("cleanup-probe")
# Used, and older than the token rate limit's window, which counts used tokens too.
WebSocketToken.objects.create(token="0" * 64, user=user, used=True, created_at=timezone.now() - timedelta(minutes=10))
# Older than the seven days of connection attempts that deploy/cleanup.sh keeps.
ConnectionRateLimit.objects.create(ip_address="203.0.113.9", attempt_time=timezone.now() - timedelta(days=8))
"""

COUNT_ROWS = """
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketToken
print(WebSocketToken.objects.count(), ConnectionRateLimit.objects.count())
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "credentials"), [("linux-systemd", "profile"), ("container", "iam_role"), ("none", "access_keys")]
)
def test_release_runs_against_the_local_gateway_then_gunicorn_serves_pages_and_hashed_static_files(
    installed, local_gateway, tmp_path, target, credentials
):
    project = installed(deploy_target=target, aws_credentials=credentials)
    gateway = local_gateway(project)
    aws = {"AWS_ACCESS_KEY_ID": "AKIALOCALGATEWAY", "AWS_SECRET_ACCESS_KEY": "local-gateway-secret"}
    if credentials == "profile":
        # The web profile, and the release profile the release unit selects. On a server the
        # release profile assumes the release role (role_arn); the local gateway plays no
        # STS, so here it has keys of its own.
        (tmp_path / "aws-config").write_text(
            f"[profile {SLUG}]\nregion = eu-west-1\n[profile {SLUG}-release]\nregion = eu-west-1\n"
        )
        (tmp_path / "aws-credentials").write_text(
            f"[{SLUG}]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n"
            f"[{SLUG}-release]\naws_access_key_id = AKIARELEASE\naws_secret_access_key = release-secret\n"
        )
        aws = {
            "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        }
    web_port = free_port()
    env = production_env(
        project,
        tmp_path,
        AWS_ENDPOINT_URL_APIGATEWAYV2=gateway,
        AWS_ENDPOINT_URL_ROUTE53=gateway,
        WEBSOCKET_CERTIFICATE_ARN="arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0b0a-4090-8070-605040302010",
        WEBSOCKET_HOSTED_ZONE_ID="Z0TESTZONE",
        GUNICORN_BIND=f"127.0.0.1:{web_port}",
        GUNICORN_WORKERS="2",
        **aws,
    )
    (release, release_env), (web, web_env), (cleanup, cleanup_env) = release_and_serve_commands(project, target)
    if release_env.get("AWS_CONFIG_FILE") == f"/etc/{SLUG}/aws/config":
        release_env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")
    # Each job with its own identity: only the release takes the release profile.
    profiles = {
        job: settings_values(project, {**env, **job_env}, ["AWS_IAM_PROFILE"])["AWS_IAM_PROFILE"]
        for job, job_env in (("release", release_env), ("web", web_env), ("cleanup", cleanup_env))
    }
    if target == "linux-systemd":
        assert profiles == {"release": f"{SLUG}-release", "web": SLUG, "cleanup": SLUG}
    else:
        assert profiles["release"] == profiles["web"] == profiles["cleanup"]
    if target == "container":
        # The image build step: static files collected with base settings.
        build_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DJANGO_SECRET_KEY": "collectstatic-only"}
        collect = run([project / ".venv/bin/python", "manage.py", "collectstatic", "--noinput"], project, build_env)
        assert collect.returncode == 0
        assert (
            "DJANGO_SETTINGS_MODULE=config.settings.base DJANGO_SECRET_KEY=collectstatic-only"
            in (project / "Dockerfile").read_text()
        )

    # Released twice: the second run finds everything in place and creates nothing.
    for attempt in (1, 2):
        released = run(release, cwd=project, env={**env, **release_env})
        assert released.returncode == 0, f"release {attempt}"
        assert "==> Released" in released.stdout
    assert "already up to date, nothing changed" in released.stdout

    report = run([project / ".venv/bin/python", "-c", GATEWAY_REPORT], cwd=project, env={**env, "GATEWAY": gateway})
    assert report.returncode == 0, report.stderr
    state = json.loads(report.stdout)
    assert [name for name, _ in state["apis"]] == [f"{SLUG}-production"]
    api_id = state["apis"][0][1]
    # The release knows the API id, and prints the command that pins the IAM policies to it.
    pin = re.search(r"^\s*(python3 deploy/iam/render_policies\.py --api-id .*)$", released.stdout, re.MULTILINE)
    assert pin and f"--api-id {api_id} " in pin.group(1), released.stdout
    pinned = run([sys.executable, *shlex.split(pin.group(1))[1:], "--output-dir", str(tmp_path / "iam")], cwd=project)
    assert pinned.returncode == 0 and "NO API ID" not in pinned.stderr
    runtime, release_policy = _policies(tmp_path, "iam")
    assert _statements(runtime) == expected_web_runtime("aws", "eu-west-1", "ACCOUNT_ID", api_id)
    assert _statements(release_policy) == expected_release("aws", "eu-west-1", "ACCOUNT_ID", "Z0TESTZONE", api_id)
    # The three standard routes, plus the one each example app declares (websocket_routes).
    apps = ("chat", "dashboard", "notifications")
    assert state["routes"] == ["$connect", "$default", "$disconnect", *apps]
    assert state["targets"] == sorted(
        [f"https://www.example.com/ws/{route}" for route in ("connect", "default", "disconnect")]
        + [f"https://www.example.com/{app}/ws/" for app in apps]
    )
    assert state["mapping"] == [[api_id, "production"]]
    ((name, kind, alias),) = state["alias"]
    assert (name, kind, alias.rstrip(".")) == ("ws.example.com.", "A", state["gateway_domain"])

    server = Server(web, cwd=project, env={**env, **web_env}, log=tmp_path / "gunicorn.log")
    token = secrets.token_urlsafe(32)
    try:
        site = f"http://127.0.0.1:{web_port}"
        proxy = {"Host": "www.example.com", "X-Forwarded-Proto": "https"}
        server.wait_until(lambda: fetch(f"{site}/", proxy)[0] == 200, "gunicorn")
        status, headers, page = fetch(f"{site}/", proxy)
        assert status == 200
        assert "preload" in headers["Strict-Transport-Security"]
        stylesheets = re.findall(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
        assert stylesheets, page[:2000]
        assert b'href="/static/css/site.css"' not in page

        status, headers, body = fetch(f"{site}{stylesheets[0].decode()}", {**proxy, "Accept-Encoding": "gzip"})
        assert status == 200
        assert "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
        assert headers.get("Content-Encoding") == "gzip"
        status, headers, _ = fetch(f"{site}/static/css/site.css", proxy)
        assert status == 200 and "immutable" not in headers["Cache-Control"]

        # Plain HTTP is redirected to HTTPS, a foreign Host is refused.
        assert fetch(f"{site}/", {"Host": "www.example.com"})[0] == 301
        assert fetch(f"{site}/", {"Host": "evil.example.net", "X-Forwarded-Proto": "https"})[0] == 400
        # A $connect callback's single-use token stays out of the access log.
        assert post(f"{site}/ws/connect?ws_token={token}&channel=default", proxy) is not None
    finally:
        server.stop()
    assert server.process.returncode == 0
    served = Path(server.log).read_text()
    assert "Starting gunicorn" in served
    assert '"POST /ws/connect HTTP/1.1"' in served and token not in served

    # The scheduled clean-up removes spent tokens and old rate-limit rows.
    python = [project / ".venv/bin/python", "manage.py", "shell", "--no-imports", "-c"]
    assert run([*python, STALE_ROWS], cwd=project, env=env).returncode == 0
    assert run([*python, COUNT_ROWS], cwd=project, env=env).stdout.split() == ["1", "1"]
    cleaned = run(cleanup, cwd=project, env={**env, **cleanup_env})
    assert cleaned.returncode == 0
    assert run([*python, COUNT_ROWS], cwd=project, env=env).stdout.split() == ["0", "0"]


@pytest.mark.slow
def test_a_failing_check_stops_the_release_before_it_touches_the_database(installed, tmp_path):
    project = installed(deploy_target="none")
    env = production_env(project, tmp_path, DJANGO_SECURE_HSTS_SECONDS="0", RELEASE_PROVISION="0")
    released = run(["deploy/release.sh"], cwd=project, env=env)
    assert released.returncode != 0
    assert "security.W004" in released.stdout + released.stderr
    assert "Migrating" not in released.stdout
    # Django 6's checks open a connection to ask what the database supports (JSONField),
    # which creates an empty SQLite file; nothing is written before the checks pass.
    database = tmp_path / "production.sqlite3"
    assert not database.exists() or database.stat().st_size == 0


@pytest.mark.slow
def test_gunicorn_refuses_a_timeout_beyond_api_gateways_limit(installed, tmp_path):
    project = installed(deploy_target="none")
    env = production_env(project, tmp_path, GUNICORN_TIMEOUT="30", GUNICORN_BIND=f"127.0.0.1:{free_port()}")
    completed = run(
        [project / ".venv/bin/gunicorn", "--config", "deploy/gunicorn.conf.py", "--check-config", "config.wsgi"],
        cwd=project,
        env=env,
        timeout=60,
    )
    assert completed.returncode != 0
    assert "29-second integration timeout" in completed.stdout + completed.stderr


def post(url, headers):
    """The status of one POST with an empty body; None if unreachable."""
    request = urllib.request.Request(url, data=b"", headers=headers, method="POST")  # noqa: S310 - 127.0.0.1 only
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@pytest.mark.slow
def test_gunicorn_access_log_leaves_out_the_query_string(installed, tmp_path):
    """A $connect callback brings the single-use token in ?ws_token=: gunicorn, started with
    deploy/gunicorn.conf.py and production settings on 127.0.0.1, logs the request without it."""
    project = installed(deploy_target="none")
    port = free_port()
    env = production_env(project, tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1")
    gunicorn = [project / ".venv/bin/gunicorn", "--config", "deploy/gunicorn.conf.py", "config.wsgi:application"]
    server = Server(gunicorn, cwd=project, env=env, log=tmp_path / "gunicorn.log")
    token = secrets.token_urlsafe(32)
    proxy = {"Host": "www.example.com", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    try:
        site = f"http://127.0.0.1:{port}"
        server.wait_until(lambda: fetch(f"{site}/healthz")[0] == 200, "gunicorn")
        assert post(f"{site}/ws/connect?ws_token={token}&channel=default", proxy) is not None
        assert fetch(f"{site}/ws/connect?ws_token={token}", proxy)[0] is not None
    finally:
        server.stop()
    log = Path(server.log).read_text()
    assert '"POST /ws/connect HTTP/1.1"' in log and '"GET /ws/connect HTTP/1.1"' in log, log
    assert token not in log
    assert "ws_token" not in log


@pytest.mark.slow
def test_linux_install_script_sets_up_a_server_in_a_scratch_root(installed, tmp_path):
    """install.sh against a scratch root, with the system's commands stubbed and logged."""
    project = installed(deploy_target="linux-systemd")
    script, env, root, app, calls = install_harness(project, tmp_path)

    first = run(script, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    env_file = root / "etc" / SLUG / "env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600", "secrets: root only"
    secret = re.search(r"^DJANGO_SECRET_KEY=(\S{50,})$", env_file.read_text(), re.MULTILINE)
    assert secret, "a fresh secret key"
    gateway_secret = re.search(r"^WEBSOCKET_GATEWAY_SECRET=([A-Za-z0-9_-]{64})$", env_file.read_text(), re.MULTILINE)
    assert gateway_secret, "a fresh gateway secret, in a stage variable's characters"
    assert gateway_secret.group(1) != secret.group(1)
    assert env_file_values(env_file)["WEBSOCKET_FORWARDED_FOR_PROXIES"] == "0"
    assert "Review" in first.stdout
    assert not (root / "etc/systemd/system").exists(), "the first run stops for the review"
    # The release's own identity: the profile that assumes the release role, readable by
    # the service (group), writable by root only. The bake has no account id yet.
    aws_config = root / "etc" / SLUG / "aws/config"
    assert oct(aws_config.stat().st_mode & 0o777) == "0o640"
    assert aws_config.read_text() == (app / "deploy/linux-systemd/aws-config").read_text()
    assert f"chown root:{SLUG} {aws_config}.new" in calls.read_text()
    assert "role_arn = arn:aws:iam::CHANGE_ME:role" in aws_config.read_text()
    unfilled = run(script, cwd=tmp_path, env=env)
    assert unfilled.returncode != 0 and f"/etc/{SLUG}/aws/config still contains CHANGE_ME" in unfilled.stderr
    aws_config.write_text(aws_config.read_text().replace("CHANGE_ME", "123456789012"))
    # A profile in the shared environment would make the release run as the web identity.
    env_file.write_text(env_file.read_text() + f"AWS_PROFILE={SLUG}\n")
    overriding = run(script, cwd=tmp_path, env=env)
    assert overriding.returncode != 0 and "AWS_PROFILE or AWS_IAM_PROFILE" in overriding.stderr
    env_file.write_text(env_file.read_text().replace(f"AWS_PROFILE={SLUG}\n", ""))

    second = run(script, cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert "role_arn = arn:aws:iam::123456789012:role" in aws_config.read_text(), "kept"
    for unit in UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == (app / "deploy/linux-systemd" / unit).read_text()
    assert (root / f"etc/nginx/sites-enabled/{SLUG}.conf").is_symlink()
    log = calls.read_text()
    for expected in [
        f"useradd --system --user-group --home-dir /var/lib/{SLUG}",
        f"chown root:root {root}/etc/{SLUG}/env.new",
        f"pip install --quiet {app}",
        "certbot certonly --nginx --non-interactive --agree-tos --deploy-hook systemctl reload nginx",
        "nginx -t",
        f"systemctl start {SLUG}-release.service",
        f"systemctl enable --quiet {SLUG}.service {SLUG}-cleanup.timer",
        f"systemctl reload-or-restart {SLUG}.service",
    ]:
        assert expected in log, expected
    assert log.index("release.service") < log.index("reload-or-restart"), "release before the restart"
    assert env_file.read_text().count(secret.group(1)) == 1, "the secret key is kept on updates"
    assert env_file.read_text().count(gateway_secret.group(1)) == 1, "the gateway secret is kept on updates"

    # An environment from before the gateway secret (group-readable, as install.sh wrote it
    # then) gets a fresh one on the next run, and becomes root only; the rest stays.
    older = re.sub(r"(?m)^WEBSOCKET_GATEWAY_SECRET=.*\n", "", env_file.read_text())
    env_file.write_text(older)
    env_file.chmod(0o640)
    third = run(script, cwd=tmp_path, env=env)
    assert third.returncode == 0, third.stderr
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    added = env_file_values(env_file)
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", added["WEBSOCKET_GATEWAY_SECRET"])
    assert added["WEBSOCKET_GATEWAY_SECRET"] != gateway_secret.group(1)
    assert added["DJANGO_SECRET_KEY"] == secret.group(1)
    fourth = run(script, cwd=tmp_path, env=env)
    assert fourth.returncode == 0, fourth.stderr
    assert env_file_values(env_file)["WEBSOCKET_GATEWAY_SECRET"] == added["WEBSOCKET_GATEWAY_SECRET"]

    # A value still to fill in stops it, with the reason.
    env_file.write_text(env_file.read_text() + "DATABASE_URL=postgres://x:CHANGE_ME@db/x\n")
    refused = run(script, cwd=tmp_path, env=env)
    assert refused.returncode != 0 and "CHANGE_ME" in refused.stderr


@pytest.mark.slow
def test_linux_install_script_gives_the_release_user_keys_to_the_release_alone(installed, tmp_path):
    project = installed(deploy_target="linux-systemd", aws_credentials="access_keys")
    script, env, root, app, calls = install_harness(project, tmp_path)
    first = run(script, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    release_env = root / "etc" / SLUG / "release.env"
    assert oct(release_env.stat().st_mode & 0o777) == "0o600"
    assert f"chown root:root {release_env}.new" in calls.read_text()
    assert release_env.read_text() == (app / "deploy/linux-systemd/release.env").read_text()
    assert not (root / "etc" / SLUG / "aws").exists()
    env_file = root / "etc" / SLUG / "env"
    env_file.write_text(env_file.read_text().replace("CHANGE_ME", "web-user-key"))
    refused = run(script, cwd=tmp_path, env=env)
    assert refused.returncode != 0 and f"/etc/{SLUG}/release.env still contains CHANGE_ME" in refused.stderr
    release_env.write_text(release_env.read_text().replace("CHANGE_ME", "release-user-key"))
    assert run(script, cwd=tmp_path, env=env).returncode == 0
    assert "release-user-key" in release_env.read_text(), "kept"


def install_harness(project, tmp_path):
    """A copy of the bake at <scratch root>/srv/<slug>, stubs for the system's commands
    (logged into calls.log) and a python3 whose venv's pip only records what it installs."""
    root = tmp_path / "root"
    app = root / "srv" / SLUG
    shutil.copytree(project, app, ignore=shutil.ignore_patterns(".venv", ".env", "*.sqlite3", "__pycache__"))
    stubs, calls = tmp_path / "bin", tmp_path / "calls.log"
    stubs.mkdir()
    for command in ["apt-get", "useradd", "systemctl", "certbot", "nginx", "chown"]:
        (stubs / command).write_text(f'#!/bin/sh\necho "{command} $*" >> "{calls}"\n')
        (stubs / command).chmod(0o755)
    # python3 -m venv: a venv whose pip only records what it was asked to install.
    (stubs / "python3").write_text(
        f'#!/bin/sh\nif [ "$1" = "-m" ] && [ "$2" = venv ]; then mkdir -p "$3/bin"; '
        f'printf \'#!/bin/sh\\necho "pip $*" >> "{calls}"\\n\' > "$3/bin/pip"; chmod +x "$3/bin/pip"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    (stubs / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "INSTALL_ROOT": str(root)}
    return [str(app / "deploy/linux-systemd/install.sh")], env, root, app, calls
