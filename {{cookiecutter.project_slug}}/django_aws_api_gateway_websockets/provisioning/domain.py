"""The custom domain of an API: the domain name, its API mapping and, with a hosted
zone id, the Route 53 alias record that points the domain at API Gateway."""

from .client import AwsService, ProvisioningError, ProvisioningReport, save_fields

# -- custom domain -----------------------------------------------------------------------


def create_custom_domain(api_gateway):
    """Create the custom domain, map it to the stage and (optionally) point DNS at it."""
    api_gateway.refresh_from_db()
    missing = []
    if not (api_gateway.api_id and api_gateway.api_created):
        missing.append("the API (run 'Create API Gateway' first)")
    if not api_gateway.domain_name:
        missing.append("a domain name")
    if not api_gateway.certificate_arn:
        missing.append("a certificate ARN")
    if missing:
        raise ProvisioningError(f"Cannot create the custom domain of {api_gateway}: it needs {', '.join(missing)}")

    report = ProvisioningReport(str(api_gateway))
    apigateway = AwsService("apigatewayv2")
    domain_name = api_gateway.domain_name.lower().rstrip(".")
    domain = apigateway.call("GetDomainName", missing_ok=True, DomainName=domain_name)
    if domain is None:
        domain = apigateway.call(
            "CreateDomainName",
            DomainName=domain_name,
            DomainNameConfigurations=[
                {
                    "CertificateArn": api_gateway.certificate_arn,
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
        )
        report.add(f"created custom domain {domain_name}")
    configuration = domain["DomainNameConfigurations"][0]

    mappings = apigateway.everything("GetApiMappings", DomainName=domain_name)
    mapping = next((m for m in mappings if not m.get("ApiMappingKey")), None)
    if mapping is not None and (mapping["ApiId"] != api_gateway.api_id or mapping["Stage"] != api_gateway.stage_name):
        raise ProvisioningError(
            f"{domain_name} is already mapped to API {mapping['ApiId']} stage {mapping['Stage']}; "
            "remove that mapping in AWS first"
        )
    if mapping is None:
        mapping = apigateway.call(
            "CreateApiMapping", DomainName=domain_name, ApiId=api_gateway.api_id, Stage=api_gateway.stage_name
        )
        report.add(f"mapped {domain_name} to stage {api_gateway.stage_name}")
    save_fields(
        api_gateway,
        api_gateway_domain_name=configuration["ApiGatewayDomainName"],
        api_mapping_id=mapping["ApiMappingId"],
        custom_domain_created=True,
    )
    if api_gateway.hosted_zone_id:
        _point_dns_at(api_gateway, domain_name, configuration, report)
    else:
        report.add(
            f"no hosted zone id: point {domain_name} at {configuration['ApiGatewayDomainName']} in your DNS yourself"
        )
    return report


def _point_dns_at(api_gateway, domain_name, configuration, report):
    """UPSERT an alias A record for the domain in the user's Route 53 zone.

    The alias names API Gateway's own zone (``hostedZoneId`` of the domain
    configuration); the user's zone is only where the record lives.
    """
    route53 = AwsService("route53")
    route53.call(
        "ChangeResourceRecordSets",
        HostedZoneId=api_gateway.hosted_zone_id,
        ChangeBatch={
            "Comment": f"WebSocket custom domain of {api_gateway.api_name}",
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": domain_name,
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": configuration["HostedZoneId"],
                            "DNSName": configuration["ApiGatewayDomainName"],
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ],
        },
    )
    target = configuration["ApiGatewayDomainName"]
    report.add(f"pointed {domain_name} at {target} (Route 53 zone {api_gateway.hosted_zone_id})")
