#!/usr/bin/env bash
# Release this build, once per deploy, before gunicorn (re)starts:
#   1. refuse insecure production settings (manage.py check --deploy, warnings count);
#   2. migrate the database;
#   3. collect static files (compressed, with content-hashed names, for whitenoise);
#   4. create or update the API Gateway WebSocket API so AWS matches this code, then
#      its custom domain wss://ws.<domain> and DNS record when a certificate is set.
# Every step is idempotent: running it again changes nothing that is already right.
#
# It runs as the RELEASE identity ({{ cookiecutter.project_slug }}-release, deploy/iam/release-policy.json), never
# as the web one ({{ cookiecutter.project_slug }}-web, which may only send to connections), with the site's
# environment otherwise (see .env.example):
#   linux-systemd:  sudo systemctl start {{ cookiecutter.project_slug }}-release   (the unit selects the release
#                   profile, or the release user's keys)
#   container:      the one-off ECS task deploy/container/ecs-release-task-definition.json
#                   (task role {{ cookiecutter.project_slug }}-release), or docker run ... IMAGE release
#   anywhere else:  DJANGO_SECRET_KEY=... DATABASE_URL=... AWS_IAM_PROFILE={{ cookiecutter.project_slug }}-release deploy/release.sh
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PROJECT_DIR"

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

# The same defaults as config/settings/base.py.
DOMAIN_NAME="${DOMAIN_NAME:-example.com}"
SITE_HOST="${SITE_HOST:-www.$DOMAIN_NAME}"
WEBSOCKET_HOST="${WEBSOCKET_HOST:-ws.$DOMAIN_NAME}"
WEBSOCKET_API_NAME="${WEBSOCKET_API_NAME:-{{ cookiecutter.project_slug }}-production}"
WEBSOCKET_TARGET_BASE_ENDPOINT="${WEBSOCKET_TARGET_BASE_ENDPOINT:-https://$SITE_HOST/ws/}"
WEBSOCKET_STAGE_NAME="${WEBSOCKET_STAGE_NAME:-production}"
WEBSOCKET_CERTIFICATE_ARN="${WEBSOCKET_CERTIFICATE_ARN:-}"
WEBSOCKET_HOSTED_ZONE_ID="${WEBSOCKET_HOSTED_ZONE_ID:-}"

step() { printf '==> %s\n' "$*"; }
manage() { "$PYTHON" manage.py "$@"; }

# Once the API exists, say how to pin the IAM policies to it (least privilege): until then
# the web role may manage the connections of any API's stage, and the release role may
# create APIs and manage any of them. Silent once deploy/iam/ names this API.
pin_policies_to_the_api() {
    local api_id account region partition runtime=deploy/iam/web-runtime-policy.json options=""
    read -r api_id account region < <("$PYTHON" -c 'import sys, django
django.setup()
from django.conf import settings
from django_aws_api_gateway_websockets.models import ApiGateway
api_id = ApiGateway.objects.get(pk=int(sys.argv[1])).api_id or "-"
print(api_id, settings.AWS_ACCOUNT_ID or "-", settings.AWS_GATEWAY_REGION_NAME or "-")' "$1")
    if [[ -z "$api_id" || "$api_id" == - ]] || grep -q ":$api_id/" "$runtime" 2>/dev/null; then
        return 0
    fi
    case "$region" in
        cn-*) partition=aws-cn ;;
        us-gov-*) partition=aws-us-gov ;;
        *) partition=aws ;;
    esac
    [[ "$account" != - ]] && options+=" --account-id $account"
    [[ "$region" != - ]] && options+=" --region $region"
    [[ -n "$WEBSOCKET_HOSTED_ZONE_ID" ]] && options+=" --hosted-zone-id $WEBSOCKET_HOSTED_ZONE_ID"
    [[ "$account" == - ]] && account="<account id>"
    step "Least privilege: pin the IAM policies to API $api_id (until then they name any API)"
    cat <<PIN
    On your computer, with the administrator's credentials, in this project's folder:
      python3 deploy/iam/render_policies.py --api-id $api_id --stage $WEBSOCKET_STAGE_NAME --websocket-host $WEBSOCKET_HOST$options
      aws iam create-policy-version --set-as-default --policy-document file://deploy/iam/web-runtime-policy.json \\
          --policy-arn arn:$partition:iam::$account:policy/{{ cookiecutter.project_slug }}-web-runtime
      aws iam create-policy-version --set-as-default --policy-document file://deploy/iam/release-policy.json \\
          --policy-arn arn:$partition:iam::$account:policy/{{ cookiecutter.project_slug }}-release
    then commit deploy/iam/. A pinned release policy can no longer create an API: should this one
    ever be deleted, render without --api-id again for the release that creates the next.
PIN
}

step "Checking the production settings ($DJANGO_SETTINGS_MODULE)"
manage check --deploy --fail-level WARNING

step "Migrating the database"
manage migrate --noinput

if [[ "${RELEASE_COLLECTSTATIC:-1}" != 0 ]]; then
    step "Collecting static files"
    manage collectstatic --noinput --verbosity 0
fi

if [[ "${RELEASE_PROVISION:-1}" != 0 ]]; then
    step "Recording the WebSocket API '$WEBSOCKET_API_NAME' -> $WEBSOCKET_TARGET_BASE_ENDPOINT"
    pk="$(manage ensureapigateway \
        --name "$WEBSOCKET_API_NAME" \
        --target-base-endpoint "$WEBSOCKET_TARGET_BASE_ENDPOINT" \
        --domain "$WEBSOCKET_HOST" \
        --stage "$WEBSOCKET_STAGE_NAME" \
        --certificate-arn "$WEBSOCKET_CERTIFICATE_ARN" \
        --hosted-zone-id "$WEBSOCKET_HOSTED_ZONE_ID" \
        --site-url "https://$SITE_HOST")"

    step "Creating or syncing the API on API Gateway (record $pk)"
    manage createApiGateway --pk="$pk"
    pin_policies_to_the_api "$pk"

    if [[ -n "$WEBSOCKET_CERTIFICATE_ARN" ]]; then
        step "Creating or checking the custom domain wss://$WEBSOCKET_HOST"
        manage createCustomDomain --pk="$pk"
    else
        step "No WEBSOCKET_CERTIFICATE_ARN: skipping the custom domain wss://$WEBSOCKET_HOST"
    fi
fi

step "Released"
