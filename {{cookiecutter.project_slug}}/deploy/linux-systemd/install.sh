#!/usr/bin/env bash
# Install {{ cookiecutter.project_name }} on a Debian 12 or Ubuntu 24.04 server, or update it after a
# `git pull`: run as root from the project's checkout at /srv/{{ cookiecutter.project_slug }}.
#
#     sudo /srv/{{ cookiecutter.project_slug }}/deploy/linux-systemd/install.sh
#
# First run: installs packages, creates the service user, writes
# /etc/{{ cookiecutter.project_slug }}/env (root only) with a fresh secret key and API Gateway secret, and stops so
# that you can review it.
# Every later run: installs dependencies, systemd units and the nginx site, gets the
# TLS certificate for www.{{ cookiecutter.domain_name }} once, runs the release (checks, migrations, static
# files, API Gateway sync) and restarts gunicorn gracefully. Safe to run again.
#
# Knobs (environment): INSTALL_PACKAGES=0 skips apt-get; CERTBOT=0 skips Let's Encrypt
# (bring your own certificate at the paths in nginx-site.conf); CERTBOT_EMAIL.
# INSTALL_ROOT exists for the project's tests (install into a scratch root); leave it
# unset on a server.
set -euo pipefail

SLUG={{ cookiecutter.project_slug }}
DOMAIN={{ cookiecutter.domain_name }}
ROOT="${INSTALL_ROOT:-}"
PYTHON="${PYTHON:-python3}"
APP_DIR=/srv/$SLUG
CONFIG_DIR=/etc/$SLUG
ENV_FILE=$CONFIG_DIR/env
SITE_FILE=/etc/nginx/sites-available/$SLUG.conf
CERTIFICATE=/etc/letsencrypt/live/www.$DOMAIN/fullchain.pem

say() { printf '==> %s\n' "$*"; }
fail() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ "$HERE" == "$ROOT$APP_DIR" ]] ||
    fail "the project must be at $APP_DIR (it is at $HERE): sudo git clone <your repository> $APP_DIR"
[[ -n "$ROOT" || "$(id -u)" == 0 ]] || fail "run me as root: sudo $0"
[[ ! -e "$ROOT$APP_DIR/.env" ]] ||
    fail "$APP_DIR/.env exists: it is for development and Django would read it; remove it (settings live in $ENV_FILE)"

if [[ "${INSTALL_PACKAGES:-1}" != 0 ]]; then
    say "Installing packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-venv nginx certbot python3-certbot-nginx
fi

if ! id -u "$SLUG" >/dev/null 2>&1; then
    say "Creating the system user $SLUG"
    useradd --system --user-group --home-dir "/var/lib/$SLUG" --no-create-home --shell /usr/sbin/nologin "$SLUG"
fi

# A fresh secret: letters, digits, - and _ only (valid in an API Gateway stage variable too).
new_secret() { "$PYTHON" -c "import secrets; print(secrets.token_urlsafe($1))"; }

# The environment holds secrets: root only (mode 0600). systemd reads it as root and gives
# it to the units; the service user never reads the file itself.
if [[ ! -e "$ROOT$ENV_FILE" ]]; then
    say "Writing $ENV_FILE"
    install -d -m 0750 "$ROOT$CONFIG_DIR"
    chown "root:$SLUG" "$ROOT$CONFIG_DIR"
    (
        umask 077
        sed -e "s|^DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$(new_secret 50)|" \
            -e "s|^WEBSOCKET_GATEWAY_SECRET=.*|WEBSOCKET_GATEWAY_SECRET=$(new_secret 48)|" \
            "$HERE/deploy/linux-systemd/server.env" >"$ROOT$ENV_FILE.new"
    )
    chown root:root "$ROOT$ENV_FILE.new"
    chmod 0600 "$ROOT$ENV_FILE.new"
    mv "$ROOT$ENV_FILE.new" "$ROOT$ENV_FILE"
    say "Review $ENV_FILE (replace every CHANGE_ME), then run this script again."
    exit 0
fi
# Root only, also for an environment an older install.sh wrote (0640, group $SLUG).
chown root:root "$ROOT$ENV_FILE"
chmod 0600 "$ROOT$ENV_FILE"
# An environment written before the gateway secret existed gets one; a set one is kept.
if ! grep -qE '^WEBSOCKET_GATEWAY_SECRET=.+' "$ROOT$ENV_FILE"; then
    say "Adding a fresh WEBSOCKET_GATEWAY_SECRET to $ENV_FILE"
    sed -i '/^WEBSOCKET_GATEWAY_SECRET=$/d' "$ROOT$ENV_FILE"
    printf 'WEBSOCKET_GATEWAY_SECRET=%s\n' "$(new_secret 48)" >>"$ROOT$ENV_FILE"
fi
if grep -qE '^[^#]*CHANGE_ME' "$ROOT$ENV_FILE"; then
    fail "$ENV_FILE still contains CHANGE_ME: fill in those values (sudoedit $ENV_FILE), then run me again"
fi

say "Installing Python dependencies into $APP_DIR/.venv"
"$PYTHON" -m venv "$ROOT$APP_DIR/.venv"
"$ROOT$APP_DIR/.venv/bin/pip" install --quiet --upgrade pip
"$ROOT$APP_DIR/.venv/bin/pip" install --quiet "$ROOT$APP_DIR"

say "Installing the systemd units"
for unit in "$SLUG.service" "$SLUG-release.service" "$SLUG-cleanup.service" "$SLUG-cleanup.timer"; do
    install -D -m 0644 "$HERE/deploy/linux-systemd/$unit" "$ROOT/etc/systemd/system/$unit"
done
systemctl daemon-reload

if [[ "${CERTBOT:-1}" != 0 && ! -e "$ROOT$CERTIFICATE" ]]; then
    say "Getting the TLS certificate for www.$DOMAIN and $DOMAIN (both must resolve to this server)"
    # certbot's timer renews it; the deploy hook makes nginx load each renewed certificate.
    certbot certonly --nginx --non-interactive --agree-tos --deploy-hook "systemctl reload nginx" \
        --email "${CERTBOT_EMAIL:-{{ cookiecutter.email }}}" -d "www.$DOMAIN" -d "$DOMAIN"
fi

say "Installing the nginx site"
install -D -m 0644 "$HERE/deploy/linux-systemd/nginx-site.conf" "$ROOT$SITE_FILE"
install -d "$ROOT/etc/nginx/sites-enabled"
ln -sfn "$SITE_FILE" "$ROOT/etc/nginx/sites-enabled/$SLUG.conf"
nginx -t
systemctl reload nginx

say "Releasing (journalctl -u $SLUG-release shows the details)"
systemctl start "$SLUG-release.service" || fail "the release failed: journalctl -u $SLUG-release -n 100"

say "Starting gunicorn and the hourly clean-up"
systemctl enable --quiet "$SLUG.service" "$SLUG-cleanup.timer"
systemctl reload-or-restart "$SLUG.service"
systemctl start "$SLUG-cleanup.timer"

say "Done: https://www.$DOMAIN/ is served by $SLUG.service; wss://ws.$DOMAIN/ by API Gateway."
