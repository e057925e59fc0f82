#!/usr/bin/env python3
"""Write this project's IAM policy documents: one identity per job, least privilege first.

Two jobs need AWS, and each gets its own identity, so that the one that runs all the time
holds almost nothing:

- the **web** identity (``<slug>-web``: the EC2 instance role or the ECS task role of the
  site) runs gunicorn and the hourly clean-up. ``web-runtime-policy.json`` lets it do one
  thing: ``execute-api:ManageConnections`` (POST sends, GET reads, DELETE closes) on the
  ``@connections`` of this API's stage.
- the **release** identity (``<slug>-release``) runs ``deploy/release.sh``: migrate,
  collectstatic, ensureapigateway, createApiGateway (create or sync) and
  createCustomDomain. ``release-policy.json`` lets it create and sync the WebSocket API,
  create the custom domain ``ws.<domain>`` and its mapping, point that one DNS record at
  API Gateway, and let API Gateway create its service-linked role. It never goes on the
  web identity.

Trust policies say who may assume each role, one file per role:
``web-trust-policy.json`` (EC2 instances or ECS tasks), ``release-trust-policy.json``
(on EC2 the web role, through the profile ``<slug>-release`` of the release unit; on ECS
the release task; with a profile, the web profile's IAM user) and, for ECS,
``ecs-execution-trust-policy.json`` with ``ecs-execution-policy.json`` (ECS reads the
secrets from SSM Parameter Store). With access keys there are no roles: the web and the
release each get an IAM user of their own and no trust policy is written.

The API id exists only after the first release, so until then both policies name any API
(``*``), and the release policy may create one; this script says so loudly. After the
first release (``deploy/release.sh`` prints the command with the id), pin them:

    python3 deploy/iam/render_policies.py --api-id abcdef1234

The post-generation hook ran this with your cookiecutter answers. Run it again when you
know more (standard library only, no virtualenv needed):

    python3 deploy/iam/render_policies.py --account-id 123456789012 --hosted-zone-id Z0123456789ABC

Values still unknown stay as upper-case placeholders (``ACCOUNT_ID``,
``HOSTED_ZONE_ID``) and the script names them: create the policies once it names none.
"""

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Baked in from the cookiecutter answers.
PROJECT = "{{ cookiecutter.project_slug }}"
DEFAULT_REGION = "{{ cookiecutter.aws_region }}"
DEFAULT_ACCOUNT_ID = "{{ cookiecutter.aws_account_id }}"
DEFAULT_WEBSOCKET_HOST = "ws.{{ cookiecutter.domain_name }}"
DEFAULT_TARGET = "{{ cookiecutter.deploy_target }}"
DEFAULT_CREDENTIALS = "{{ cookiecutter.aws_credentials }}"
DEFAULT_STAGE = "production"
DEFAULT_PARAMETER_PATH = f"/{PROJECT}/"
ANY_API = "*"

ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"
HOSTED_ZONE_PLACEHOLDER = "HOSTED_ZONE_ID"
POLICY_VERSION = "2012-10-17"

ACCOUNT_ID = re.compile(r"^\d{12}$")
HOSTED_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
API_ID = re.compile(r"^([a-z0-9]{10}|\*)$")
STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$")

TARGETS = ("linux-systemd", "container", "none")
CREDENTIALS = ("iam_role", "profile", "access_keys")
# The methods the management API offers on a connection: POST sends a message, GET
# reads its details, DELETE closes it. The app uses all three.
CONNECTION_METHODS = ("POST", "GET", "DELETE")
# What the web role's compute is, per deploy target (none: yours to choose).
WEB_SERVICES = {"linux-systemd": "ec2.amazonaws.com", "container": "ecs-tasks.amazonaws.com"}

WEB_RUNTIME_POLICY = "web-runtime-policy.json"
RELEASE_POLICY = "release-policy.json"
WEB_TRUST_POLICY = "web-trust-policy.json"
RELEASE_TRUST_POLICY = "release-trust-policy.json"
EXECUTION_TRUST_POLICY = "ecs-execution-trust-policy.json"
EXECUTION_POLICY = "ecs-execution-policy.json"


def partition(region):
    """The ARN partition of a region: ``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso``..."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


def iam_arn(region, account_id, kind, name):
    return f"arn:{partition(region)}:iam::{account_id}:{kind}/{name}"


# -- permission policies -------------------------------------------------------------------


def web_runtime_policy(region, account_id, stage=DEFAULT_STAGE, api_id=ANY_API):
    """The web identity: only ``execute-api:ManageConnections`` on one stage's ``@connections``."""
    arn = f"arn:{partition(region)}:execute-api:{region}:{account_id}:{api_id}/{stage}"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ManageWebSocketConnections",
                "Effect": "Allow",
                "Action": "execute-api:ManageConnections",
                "Resource": [f"{arn}/{method}/@connections/*" for method in CONNECTION_METHODS],
            }
        ],
    }


def release_policy(region, account_id, hosted_zone_id, websocket_host, api_id=ANY_API):
    """The release identity: what the provisioning commands of ``deploy/release.sh`` call.

    apigatewayv2 authorises by HTTP verb on path-style ARNs: creating is POST on the
    collection, reading GET, updating PATCH, deleting DELETE. The sync reads and updates
    the API (GetApi, UpdateApi; never DeleteApi) and creates, updates and deletes its
    routes, integrations, route responses, stage and deployments; the custom domain step
    reads or creates ``websocket_host`` and its API mapping, then UPSERTs one alias record.
    """
    aws = partition(region)
    control = f"arn:{aws}:apigateway:{region}::"
    host = websocket_host.lower().rstrip(".")
    domain = f"{control}/domainnames/{host}"
    statements = []
    if api_id == ANY_API:
        statements.append(
            {
                # Only until the API exists: CreateApi is a POST on the collection.
                "Sid": "CreateTheWebSocketApi",
                "Effect": "Allow",
                "Action": "apigateway:POST",
                "Resource": f"{control}/apis",
            }
        )
    statements += [
        {
            "Sid": "ReadAndUpdateTheWebSocketApi",
            "Effect": "Allow",
            "Action": ["apigateway:GET", "apigateway:PATCH"],
            "Resource": f"{control}/apis/{api_id}",
        },
        {
            "Sid": "SyncItsRoutesIntegrationsStageAndDeployments",
            "Effect": "Allow",
            "Action": ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"],
            "Resource": f"{control}/apis/{api_id}/*",
        },
        {
            # CreateDomainName is a POST on the collection, which no ARN narrows to one name.
            "Sid": "CreateTheCustomDomain",
            "Effect": "Allow",
            "Action": "apigateway:POST",
            "Resource": f"{control}/domainnames",
        },
        {
            "Sid": "ReadTheCustomDomainAndItsMappings",
            "Effect": "Allow",
            "Action": "apigateway:GET",
            "Resource": [domain, f"{domain}/apimappings", f"{domain}/apimappings/*"],
        },
        {
            "Sid": "MapTheCustomDomainToTheStage",
            "Effect": "Allow",
            "Action": "apigateway:POST",
            "Resource": f"{domain}/apimappings",
        },
        {
            # API Gateway creates its service-linked role the first time a Regional custom
            # domain is made in the account; the role attaches the ACM certificate.
            "Sid": "CreateApiGatewayServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": (
                f"arn:{aws}:iam::{account_id}:role/aws-service-role/"
                "ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway"
            ),
            "Condition": {"StringEquals": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}},
        },
        {
            # One record of one zone: an UPSERT of the WebSocket host's alias A record.
            "Sid": "PointTheWebSocketHostAtApiGateway",
            "Effect": "Allow",
            "Action": "route53:ChangeResourceRecordSets",
            "Resource": f"arn:{aws}:route53:::hostedzone/{hosted_zone_id}",
            "Condition": {
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [host],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                    "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                }
            },
        },
    ]
    return {"Version": POLICY_VERSION, "Statement": statements}


def ecs_execution_policy(region, account_id, parameter_path=DEFAULT_PARAMETER_PATH):
    """ECS's own permission to fetch the tasks' secrets from Parameter Store (the managed
    AmazonECSTaskExecutionRolePolicy covers the image and the logs)."""
    path = "/" + parameter_path.strip("/")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ReadProjectSecrets",
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": f"arn:{partition(region)}:ssm:{region}:{account_id}:parameter{path}/*",
            }
        ],
    }


# -- trust policies ------------------------------------------------------------------------


def service_trust_policy(service, account_id, sid):
    """Instances or tasks of an AWS service may assume the role."""
    statement = {"Sid": sid, "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if service == WEB_SERVICES["container"]:
        # Confused-deputy guard: only tasks running in this account.
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": POLICY_VERSION, "Statement": [statement]}


def principal_trust_policy(principal_arn, sid):
    """One IAM role or user may assume the role."""
    statement = {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}
    return {"Version": POLICY_VERSION, "Statement": [statement]}


@dataclass
class Identity:
    """Who carries a permission policy: its kind (role or user), name and trust."""

    kind: str
    name: str
    trust: str = ""  # in words


@dataclass
class Rendered:
    """What :func:`render` wrote, for whom, and what is still missing."""

    files: dict = field(default_factory=dict)  # file name -> what it is for
    placeholders: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def identities(region, account, target, credentials, release_principal=""):
    """The web and the release identity, and the trust documents of the roles among them."""
    trusts = {}
    if credentials == "access_keys":
        web = Identity("user", f"{PROJECT}-web")
        release = Identity("user", f"{PROJECT}-release")
        return web, release, trusts
    if credentials == "iam_role":
        web = Identity("role", f"{PROJECT}-web")
        service = WEB_SERVICES.get(target)
        if service:
            web.trust = f"assumed by {service}"
            trusts[WEB_TRUST_POLICY] = service_trust_policy(service, account, "WebRoleAssumedByItsCompute")
    else:  # profile: the web profile's keys belong to an IAM user
        web = Identity("user", f"{PROJECT}-web")
    release = Identity("role", f"{PROJECT}-release")
    if release_principal:
        principal = release_principal
    elif credentials == "profile" or target == "linux-systemd":
        # The release unit's profile <slug>-release assumes the release role with the web
        # identity's own credentials (credential_source = Ec2InstanceMetadata on EC2,
        # source_profile with a profile).
        principal = iam_arn(region, account, web.kind, web.name)
    elif target == "container":
        # The release runs as its own one-off ECS task, whose task role this is.
        trusts[RELEASE_TRUST_POLICY] = service_trust_policy(
            WEB_SERVICES["container"], account, "ReleaseRoleAssumedByTheReleaseTask"
        )
        release.trust = "assumed by the release task (ecs-tasks.amazonaws.com)"
        return web, release, trusts
    else:
        return web, release, trusts
    trusts[RELEASE_TRUST_POLICY] = principal_trust_policy(principal, "ReleaseRoleAssumedForTheReleaseOnly")
    release.trust = f"assumed by {principal}"
    return web, release, trusts


def render(
    output_dir,
    region,
    account_id="",
    hosted_zone_id="",
    websocket_host=DEFAULT_WEBSOCKET_HOST,
    stage=DEFAULT_STAGE,
    api_id=ANY_API,
    target=DEFAULT_TARGET,
    credentials=DEFAULT_CREDENTIALS,
    release_principal="",
):
    """Write the policy files into ``output_dir``; return a :class:`Rendered`."""
    account = account_id or ACCOUNT_PLACEHOLDER
    zone = normalise_hosted_zone_id(hosted_zone_id) or HOSTED_ZONE_PLACEHOLDER
    web, release, trusts = identities(region, account, target, credentials, release_principal)
    documents = {
        WEB_RUNTIME_POLICY: web_runtime_policy(region, account, stage, api_id),
        RELEASE_POLICY: release_policy(region, account, zone, websocket_host, api_id),
        **trusts,
    }
    result = Rendered()
    result.files[WEB_RUNTIME_POLICY] = (
        f"permissions of the web {web.kind} {web.name} (gunicorn, clean-up): execute-api:ManageConnections only"
    )
    result.files[RELEASE_POLICY] = (
        f"permissions of the release {release.kind} {release.name} (deploy/release.sh): "
        "create and sync the WebSocket API, its custom domain and DNS record; never on the web identity"
    )
    if WEB_TRUST_POLICY in trusts:
        result.files[WEB_TRUST_POLICY] = f"trust of the web role {web.name}: {web.trust}"
    if RELEASE_TRUST_POLICY in trusts:
        result.files[RELEASE_TRUST_POLICY] = f"trust of the release role {release.name}: {release.trust}"
    if target == "container":
        documents[EXECUTION_TRUST_POLICY] = service_trust_policy(
            WEB_SERVICES["container"], account, "ExecutionRoleAssumedByEcs"
        )
        documents[EXECUTION_POLICY] = ecs_execution_policy(region, account)
        result.files[EXECUTION_TRUST_POLICY] = f"trust of the ECS task execution role {PROJECT}-execution"
        result.files[EXECUTION_POLICY] = f"permissions of {PROJECT}-execution: read /{PROJECT}/* from SSM"

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        (output_dir / name).write_text(json.dumps(document, indent=2) + "\n")
    for placeholder, value in ((ACCOUNT_PLACEHOLDER, account), (HOSTED_ZONE_PLACEHOLDER, zone)):
        if placeholder == value:
            result.placeholders.append(placeholder)
    if api_id == ANY_API:
        result.warnings.append(
            f"NO API ID YET: {WEB_RUNTIME_POLICY} allows ManageConnections on the '{stage}' stage of ANY "
            f"WebSocket API of the account in {region}, and {RELEASE_POLICY} may create APIs and manage "
            "any of them. Pin both to your API once it exists: deploy/release.sh prints the command "
            "after the first release (render_policies.py --api-id <id>)."
        )
    return result


def normalise_hosted_zone_id(value):
    """Accept ``Z123`` or the ``/hostedzone/Z123`` form the AWS CLI prints."""
    return value.strip().removeprefix("/hostedzone/")


def checked(pattern, what):
    def check(value):
        if value and not pattern.match(value):
            raise argparse.ArgumentTypeError(f"{value!r} is not {what}")
        return value

    return check


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument(
        "--account-id",
        default=DEFAULT_ACCOUNT_ID,
        type=checked(ACCOUNT_ID, "a 12-digit AWS account id"),
        help="12-digit AWS account id (blank writes the ACCOUNT_ID placeholder)",
    )
    parser.add_argument(
        "--hosted-zone-id",
        default="",
        type=lambda value: checked(HOSTED_ZONE_ID, "a Route 53 hosted zone id")(normalise_hosted_zone_id(value)),
        help="Route 53 hosted zone of the domain, e.g. Z0123456789ABC (blank writes HOSTED_ZONE_ID)",
    )
    parser.add_argument(
        "--websocket-host",
        default=DEFAULT_WEBSOCKET_HOST,
        type=checked(HOST, "a lower-case DNS name"),
        help=f"the custom WebSocket domain (default {DEFAULT_WEBSOCKET_HOST})",
    )
    parser.add_argument("--stage", default=DEFAULT_STAGE, type=checked(STAGE, "a stage name"))
    parser.add_argument(
        "--api-id",
        default=ANY_API,
        type=checked(API_ID, "an API Gateway API id (10 lower-case letters and digits)"),
        help="pin both policies to your API once it exists (default: any API, and the release may create one)",
    )
    parser.add_argument("--deploy-target", default=DEFAULT_TARGET, choices=TARGETS, help=f"(default {DEFAULT_TARGET})")
    parser.add_argument(
        "--aws-credentials", default=DEFAULT_CREDENTIALS, choices=CREDENTIALS, help=f"(default {DEFAULT_CREDENTIALS})"
    )
    parser.add_argument(
        "--release-principal",
        default="",
        type=checked(PRINCIPAL, "an IAM role or user ARN"),
        help="the role or user that may assume the release role (default: see the module's documentation)",
    )
    parser.add_argument("--output-dir", default=Path(__file__).resolve().parent, type=Path)
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    if arguments.release_principal and arguments.aws_credentials == "access_keys":
        print("--release-principal needs a release role: with access keys the release is an IAM user", file=sys.stderr)
        return 2
    rendered = render(
        arguments.output_dir,
        region=arguments.region,
        account_id=arguments.account_id,
        hosted_zone_id=arguments.hosted_zone_id,
        websocket_host=arguments.websocket_host,
        stage=arguments.stage,
        api_id=arguments.api_id,
        target=arguments.deploy_target,
        credentials=arguments.aws_credentials,
        release_principal=arguments.release_principal,
    )
    print(f"Wrote the IAM policies into {arguments.output_dir}:")
    for name, purpose in rendered.files.items():
        print(f"  {name}: {purpose}")
    for warning in rendered.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    if rendered.placeholders:
        print(
            f"Still to fill in: {', '.join(rendered.placeholders)}. Run again with "
            "--account-id and --hosted-zone-id (see README.md, section Deploy)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
