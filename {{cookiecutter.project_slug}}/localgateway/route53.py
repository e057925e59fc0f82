"""A minimal Route 53 (rest-xml) so ``createCustomDomain`` can run locally.

Emulated: ``ChangeResourceRecordSets`` (CREATE, UPSERT, DELETE), ``ListResourceRecordSets``
and ``GetChange``. Hosted zones spring into existence on first use. An alias record
that points at a custom domain of this gateway must name that domain's
``hostedZoneId`` (API Gateway's zone), as AWS insists; anything else is an
``InvalidChangeBatch``.
"""

import logging
import xml.etree.ElementTree as ET  # noqa: S405 - parses requests from the developer's own tools
from xml.sax.saxutils import escape

from aiohttp import web

from .runtime import GATEWAY
from .signing import signed_for
from .state import iso8601, random_id, utc_now

logger = logging.getLogger(__name__)

NAMESPACE = "https://route53.amazonaws.com/doc/2013-04-01/"
_NS = {"r": NAMESPACE}

routes = web.RouteTableDef()


class Route53Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _xml_response(body, status=200):
    return web.Response(
        status=status,
        body=f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode(),
        content_type="text/xml",
    )


def _error_response(error):
    logger.info("Route 53: refused: %s %s", error.code, error.message)
    return _xml_response(
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{error.code}</Code>'
        f"<Message>{escape(error.message)}</Message></Error><RequestId>{random_id(12)}</RequestId></ErrorResponse>",
        status=error.status,
    )


def _fqdn(name):
    return name.lower().rstrip(".") + "."


def _text(element, path):
    found = element.find(path, _NS)
    return found.text.strip() if found is not None and found.text else ""


def _parse_record(element):
    record = {"Name": _fqdn(_text(element, "r:Name")), "Type": _text(element, "r:Type")}
    if not record["Name"].strip(".") or not record["Type"]:
        raise Route53Error(400, "InvalidInput", "A record set needs a Name and a Type")
    alias = element.find("r:AliasTarget", _NS)
    if alias is not None:
        record["AliasTarget"] = {
            "HostedZoneId": _text(alias, "r:HostedZoneId"),
            "DNSName": _fqdn(_text(alias, "r:DNSName")),
            "EvaluateTargetHealth": _text(alias, "r:EvaluateTargetHealth") == "true",
        }
    else:
        record["TTL"] = _text(element, "r:TTL")
        record["ResourceRecords"] = [
            _text(value, "r:Value") for value in element.findall("r:ResourceRecords/r:ResourceRecord", _NS)
        ]
    return record


def _check_alias(gateway, record):
    alias = record.get("AliasTarget")
    if not alias:
        return
    for domain in gateway.state.domains.values():
        for configuration in domain["domainNameConfigurations"]:
            if _fqdn(configuration["apiGatewayDomainName"]) == alias["DNSName"]:
                if alias["HostedZoneId"] != configuration["hostedZoneId"]:
                    raise Route53Error(
                        400,
                        "InvalidChangeBatch",
                        f"Tried to create an alias that targets {alias['DNSName']}, type {record['Type']} in zone "
                        f"{alias['HostedZoneId']}, but the alias target name does not lie within the target zone",
                    )
                return


def _signed(request):
    return not request.app[GATEWAY].config.require_signature or signed_for(request, "route53")


@routes.post("/2013-04-01/hostedzone/{zone}/rrset/")
@routes.post("/2013-04-01/hostedzone/{zone}/rrset")
async def change_resource_record_sets(request):
    gateway = request.app[GATEWAY]
    if not _signed(request):
        return _error_response(Route53Error(403, "MissingAuthenticationToken", "Missing Authentication Token"))
    zone_id = request.match_info["zone"]
    try:
        document = ET.fromstring(await request.read())  # noqa: S314 - local development tool
    except ET.ParseError:
        return _error_response(Route53Error(400, "InvalidInput", "The request body is not XML"))
    changes = document.findall("r:ChangeBatch/r:Changes/r:Change", _NS)
    if not changes:
        return _error_response(Route53Error(400, "InvalidInput", "ChangeBatch has no changes"))
    zone = dict(gateway.state.hosted_zones.get(zone_id, {}))
    try:
        for change in changes:
            action = _text(change, "r:Action")
            element = change.find("r:ResourceRecordSet", _NS)
            if element is None:
                raise Route53Error(400, "InvalidInput", "A change needs a ResourceRecordSet")
            record = _parse_record(element)
            key = (record["Name"], record["Type"])
            if action == "CREATE" and key in zone:
                raise Route53Error(
                    400,
                    "InvalidChangeBatch",
                    f"Tried to create resource record set {key[0]} type {key[1]}, but it already exists",
                )
            if action == "DELETE":
                if key not in zone:
                    raise Route53Error(
                        400,
                        "InvalidChangeBatch",
                        f"Tried to delete resource record set {key[0]} type {key[1]}, but it was not found",
                    )
                del zone[key]
            elif action in ("CREATE", "UPSERT"):
                _check_alias(gateway, record)
                zone[key] = record
            else:
                raise Route53Error(400, "InvalidInput", f"Unknown action {action!r}")
    except Route53Error as error:
        return _error_response(error)
    gateway.state.hosted_zones[zone_id] = zone
    gateway.state.save()
    change_id = "C" + random_id(13).upper()
    logger.info("Route 53: applied %d change(s) to zone %s", len(changes), zone_id)
    return _xml_response(
        f'<ChangeResourceRecordSetsResponse xmlns="{NAMESPACE}"><ChangeInfo><Id>/change/{change_id}</Id>'
        f"<Status>INSYNC</Status><SubmittedAt>{iso8601(utc_now())}</SubmittedAt></ChangeInfo>"
        "</ChangeResourceRecordSetsResponse>"
    )


def _record_xml(record):
    parts = [f"<Name>{escape(record['Name'])}</Name><Type>{escape(record['Type'])}</Type>"]
    alias = record.get("AliasTarget")
    if alias:
        parts.append(
            f"<AliasTarget><HostedZoneId>{escape(alias['HostedZoneId'])}</HostedZoneId>"
            f"<DNSName>{escape(alias['DNSName'])}</DNSName>"
            f"<EvaluateTargetHealth>{'true' if alias['EvaluateTargetHealth'] else 'false'}</EvaluateTargetHealth>"
            "</AliasTarget>"
        )
    else:
        if record.get("TTL"):
            parts.append(f"<TTL>{escape(record['TTL'])}</TTL>")
        values = "".join(
            f"<ResourceRecord><Value>{escape(v)}</Value></ResourceRecord>" for v in record["ResourceRecords"]
        )
        parts.append(f"<ResourceRecords>{values}</ResourceRecords>")
    return "<ResourceRecordSet>" + "".join(parts) + "</ResourceRecordSet>"


@routes.get("/2013-04-01/hostedzone/{zone}/rrset")
async def list_resource_record_sets(request):
    gateway = request.app[GATEWAY]
    if not _signed(request):
        return _error_response(Route53Error(403, "MissingAuthenticationToken", "Missing Authentication Token"))
    records = sorted(
        gateway.state.hosted_zones.get(request.match_info["zone"], {}).values(), key=lambda r: (r["Name"], r["Type"])
    )
    body = "".join(_record_xml(record) for record in records)
    return _xml_response(
        f'<ListResourceRecordSetsResponse xmlns="{NAMESPACE}"><ResourceRecordSets>{body}</ResourceRecordSets>'
        "<IsTruncated>false</IsTruncated><MaxItems>300</MaxItems></ListResourceRecordSetsResponse>"
    )


@routes.get("/2013-04-01/change/{change}")
async def get_change(request):
    change_id = escape(request.match_info["change"])
    return _xml_response(
        f'<GetChangeResponse xmlns="{NAMESPACE}"><ChangeInfo><Id>/change/{change_id}</Id><Status>INSYNC</Status>'
        f"<SubmittedAt>{iso8601(utc_now())}</SubmittedAt></ChangeInfo></GetChangeResponse>"
    )
