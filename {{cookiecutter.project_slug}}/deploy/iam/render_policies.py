#!/usr/bin/env python3
"""Write the IAM policy documents this project needs, least privilege first.

- ``runtime-policy.json``: what the running site needs, and nothing else: sending to,
  reading and closing WebSocket connections through API Gateway's management API
  (``execute-api:ManageConnections`` on this project's stage's ``@connections``).
- ``provisioning-policy.json``: what ``deploy/release.sh`` needs to create and sync the
  WebSocket API, its custom domain ``ws.<domain>`` and that one DNS record.
- ``trust-policy.json`` (only with ``--trust-service``): lets EC2 instances or ECS tasks
  assume a role (the one that carries the two policies above, and on ECS also the
  task execution role).
- ``ecs-execution-policy.json`` (only with ``--trust-service ecs-tasks``): lets ECS read
  the project's secrets from SSM Parameter Store (``/<project>/*``) to start a task.

The post-generation hook ran this once with your cookiecutter answers. Run it again
when you know more (standard library only, no virtualenv needed):

    python3 deploy/iam/render_policies.py --account-id 123456789012 --hosted-zone-id Z0123456789ABC

Values still unknown stay as upper-case placeholders (``ACCOUNT_ID``,
``HOSTED_ZONE_ID``) and the script names them: attach the policies once it names none.
"""

import argparse
import json
import re
import sys
from pathlib import Path

# Baked in from the cookiecutter answers.
DEFAULT_REGION = "{{ cookiecutter.aws_region }}"
DEFAULT_ACCOUNT_ID = "{{ cookiecutter.aws_account_id }}"
DEFAULT_WEBSOCKET_HOST = "ws.{{ cookiecutter.domain_name }}"
DEFAULT_STAGE = "production"
DEFAULT_PARAMETER_PATH = "/{{ cookiecutter.project_slug }}/"

ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"
HOSTED_ZONE_PLACEHOLDER = "HOSTED_ZONE_ID"
POLICY_VERSION = "2012-10-17"

ACCOUNT_ID = re.compile(r"^\d{12}$")
HOSTED_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
API_ID = re.compile(r"^([a-z0-9]{10}|\*)$")
STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# The methods the management API offers on a connection: POST sends a message, GET
# reads its details, DELETE closes it. The app uses all three.
CONNECTION_METHODS = ("POST", "GET", "DELETE")
# apigatewayv2's control plane authorises by HTTP verb on path-style ARNs.
CONTROL_PLANE_ACTIONS = ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE"]
TRUST_SERVICES = {"ec2": "ec2.amazonaws.com", "ecs-tasks": "ecs-tasks.amazonaws.com"}


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


def runtime_policy(region, account_id, stage=DEFAULT_STAGE, api_id="*"):
    """Only ``execute-api:ManageConnections`` on the ``@connections`` of one stage."""
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


def provisioning_policy(region, account_id, hosted_zone_id, websocket_host):
    """Create and sync the WebSocket API and its custom domain, read certificates, and
    change the one DNS record of ``websocket_host`` in the hosted zone."""
    aws = partition(region)
    control_plane = f"arn:{aws}:apigateway:{region}::"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ManageWebSocketApisAndCustomDomains",
                "Effect": "Allow",
                "Action": CONTROL_PLANE_ACTIONS,
                "Resource": [
                    f"{control_plane}/apis",
                    f"{control_plane}/apis/*",
                    f"{control_plane}/domainnames",
                    f"{control_plane}/domainnames/*",
                ],
            },
            {
                # API Gateway creates its service-linked role the first time a Regional
                # custom domain is made in the account; it attaches the ACM certificate.
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
                "Sid": "ReadCertificates",
                "Effect": "Allow",
                "Action": "acm:DescribeCertificate",
                "Resource": f"arn:{aws}:acm:{region}:{account_id}:certificate/*",
            },
            {
                # ListCertificates has no resource-level permissions: "*" is the only form.
                "Sid": "ListCertificates",
                "Effect": "Allow",
                "Action": "acm:ListCertificates",
                "Resource": "*",
            },
            {
                # Only the WebSocket host's own records, in this one zone.
                "Sid": "ChangeWebSocketDnsRecord",
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": f"arn:{aws}:route53:::hostedzone/{hosted_zone_id}",
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [websocket_host.lower().rstrip(".")]
                    }
                },
            },
            {
                "Sid": "WaitForDnsChange",
                "Effect": "Allow",
                "Action": "route53:GetChange",
                "Resource": f"arn:{aws}:route53:::change/*",
            },
            {
                "Sid": "FindHostedZone",
                "Effect": "Allow",
                "Action": ["route53:ListHostedZones", "route53:ListHostedZonesByName"],
                "Resource": "*",
            },
        ],
    }


def trust_policy(service, account_id):
    """Who may assume the role: EC2 instances, or ECS tasks of this account."""
    statement = {
        "Sid": "AssumedBy" + "".join(part.title() for part in service.split("-")),
        "Effect": "Allow",
        "Principal": {"Service": TRUST_SERVICES[service]},
        "Action": "sts:AssumeRole",
    }
    if service == "ecs-tasks":
        # Confused-deputy guard: only tasks running in this account.
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": POLICY_VERSION, "Statement": [statement]}


def ecs_execution_policy(region, account_id, parameter_path=DEFAULT_PARAMETER_PATH):
    """ECS's own permission to fetch the task's secrets from Parameter Store (the managed
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


def render(
    output_dir,
    region,
    account_id="",
    hosted_zone_id="",
    websocket_host=DEFAULT_WEBSOCKET_HOST,
    stage=DEFAULT_STAGE,
    api_id="*",
    trust_service=None,
):
    """Write the policy files into ``output_dir``; return the placeholders left in them."""
    account = account_id or ACCOUNT_PLACEHOLDER
    zone = normalise_hosted_zone_id(hosted_zone_id) or HOSTED_ZONE_PLACEHOLDER
    documents = {
        "runtime-policy.json": runtime_policy(region, account, stage, api_id),
        "provisioning-policy.json": provisioning_policy(region, account, zone, websocket_host),
    }
    if trust_service:
        documents["trust-policy.json"] = trust_policy(trust_service, account)
    if trust_service == "ecs-tasks":
        documents["ecs-execution-policy.json"] = ecs_execution_policy(region, account)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        (output_dir / name).write_text(json.dumps(document, indent=2) + "\n")
    return [name for name, value in ((ACCOUNT_PLACEHOLDER, account), (HOSTED_ZONE_PLACEHOLDER, zone)) if name == value]


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
    parser.add_argument("--websocket-host", default=DEFAULT_WEBSOCKET_HOST, help="the custom WebSocket domain")
    parser.add_argument("--stage", default=DEFAULT_STAGE, type=checked(STAGE, "a stage name"))
    parser.add_argument(
        "--api-id",
        default="*",
        type=checked(API_ID, "an API Gateway API id (10 lower-case letters and digits)"),
        help="narrow the runtime policy to one API once it exists (default: any API of the stage)",
    )
    parser.add_argument("--trust-service", choices=sorted(TRUST_SERVICES), help="also write trust-policy.json")
    parser.add_argument("--output-dir", default=Path(__file__).resolve().parent, type=Path)
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    placeholders = render(
        arguments.output_dir,
        region=arguments.region,
        account_id=arguments.account_id,
        hosted_zone_id=arguments.hosted_zone_id,
        websocket_host=arguments.websocket_host,
        stage=arguments.stage,
        api_id=arguments.api_id,
        trust_service=arguments.trust_service,
    )
    print(f"Wrote the IAM policies into {arguments.output_dir}")
    if placeholders:
        print(
            f"Still to fill in: {', '.join(placeholders)}. Run again with "
            "--account-id and --hosted-zone-id (see README.md, section Deploy)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
