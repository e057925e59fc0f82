#!/usr/bin/env bash
# Release this build, once per deploy, before gunicorn (re)starts:
#   1. refuse insecure production settings (manage.py check --deploy, warnings count);
#   2. migrate the database;
#   3. collect static files (compressed, with content-hashed names, for whitenoise);
#   4. create or update the API Gateway WebSocket API so AWS matches this code, then
#      its custom domain wss://ws.<domain> and DNS record when a certificate is set.
# Every step is idempotent: running it again changes nothing that is already right.
#
# It reads the same environment as the site (see .env.example):
#   linux-systemd:  sudo systemctl start {{ cookiecutter.project_slug }}-release
#   container:      docker run --env-file ... IMAGE release
#   anywhere else:  DJANGO_SECRET_KEY=... DATABASE_URL=... deploy/release.sh
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

    if [[ -n "$WEBSOCKET_CERTIFICATE_ARN" ]]; then
        step "Creating or checking the custom domain wss://$WEBSOCKET_HOST"
        manage createCustomDomain --pk="$pk"
    else
        step "No WEBSOCKET_CERTIFICATE_ARN: skipping the custom domain wss://$WEBSOCKET_HOST"
    fi
fi

step "Released"
