#!/usr/bin/env bash
# Install {{ cookiecutter.project_name }} on a Debian 12 or Ubuntu 24.04 server, or update it after a
# `git pull`: run as root from the project's checkout at /srv/{{ cookiecutter.project_slug }}.
#
#     sudo /srv/{{ cookiecutter.project_slug }}/deploy/linux-systemd/install.sh
#
# First run: installs packages, creates the service user, writes
# /etc/{{ cookiecutter.project_slug }}/env (root only) with a fresh secret key and API Gateway secret, and the
# release's own AWS identity (/etc/{{ cookiecutter.project_slug }}/aws/config with the profile that assumes the
# release role, or /etc/{{ cookiecutter.project_slug }}/release.env with the release user's keys), and stops so
# that you can review them.
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
AWS_CONFIG=$CONFIG_DIR/aws/config
RELEASE_ENV_FILE=$CONFIG_DIR/release.env
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
{%- if cookiecutter.background_sends == "celery" %}
    # The broker of the background sends' worker; Debian's Redis listens on localhost only.
    apt-get install -y -qq --no-install-recommends redis-server
{%- endif %}
fi

if ! id -u "$SLUG" >/dev/null 2>&1; then
    say "Creating the system user $SLUG"
    useradd --system --user-group --home-dir "/var/lib/$SLUG" --no-create-home --shell /usr/sbin/nologin "$SLUG"
fi

# A fresh secret: letters, digits, - and _ only (valid in an API Gateway stage variable too).
new_secret() { "$PYTHON" -c "import secrets; print(secrets.token_urlsafe($1))"; }

# Copy the template $1 of deploy/linux-systemd/ to $2 unless it exists, with owner $3 and
# mode $4, and name it among the files to review before the next run.
review=""
write_once() {
    [[ -e "$ROOT$2" ]] && return 0
    say "Writing $2"
    (
        umask 077
        cat "$HERE/deploy/linux-systemd/$1" >"$ROOT$2.new"
    )
    chown "$3" "$ROOT$2.new"
    chmod "$4" "$ROOT$2.new"
    mv "$ROOT$2.new" "$ROOT$2"
    review+=" $2"
}

install -d -m 0750 "$ROOT$CONFIG_DIR"
chown "root:$SLUG" "$ROOT$CONFIG_DIR"

# The environment holds secrets: root only (mode 0600). systemd reads it as root and gives
# it to the units; the service user never reads the file itself.
if [[ ! -e "$ROOT$ENV_FILE" ]]; then
    say "Writing $ENV_FILE"
    (
        umask 077
        sed -e "s|^DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$(new_secret 50)|" \
            -e "s|^WEBSOCKET_GATEWAY_SECRET=.*|WEBSOCKET_GATEWAY_SECRET=$(new_secret 48)|" \
            "$HERE/deploy/linux-systemd/server.env" >"$ROOT$ENV_FILE.new"
    )
    chown root:root "$ROOT$ENV_FILE.new"
    chmod 0600 "$ROOT$ENV_FILE.new"
    mv "$ROOT$ENV_FILE.new" "$ROOT$ENV_FILE"
    review+=" $ENV_FILE"
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

# The release's own identity (deploy/iam/release-policy.json), for the release unit alone:
# the profile that assumes the release role, or the release user's access keys.
if [[ -e "$HERE/deploy/linux-systemd/aws-config" ]]; then
    install -d -m 0750 "$ROOT$CONFIG_DIR/aws"
    chown "root:$SLUG" "$ROOT$CONFIG_DIR/aws"
    write_once aws-config "$AWS_CONFIG" "root:$SLUG" 0640
    # A profile here would replace the release unit's own, so the release would run as the web.
    if grep -qE '^[[:space:]]*(export[[:space:]]+)?AWS_(IAM_)?PROFILE=' "$ROOT$ENV_FILE"; then
        fail "$ENV_FILE sets AWS_PROFILE or AWS_IAM_PROFILE: remove it (the web uses the default, the release unit sets its own)"
    fi
fi
if [[ -e "$HERE/deploy/linux-systemd/release.env" ]]; then
    write_once release.env "$RELEASE_ENV_FILE" root:root 0600
fi

if [[ -n "$review" ]]; then
    say "Review$review (replace every CHANGE_ME), then run this script again."
    exit 0
fi
for file in "$ENV_FILE" "$AWS_CONFIG" "$RELEASE_ENV_FILE"; do
    if [[ -e "$ROOT$file" ]] && grep -qE '^[^#]*CHANGE_ME' "$ROOT$file"; then
        fail "$file still contains CHANGE_ME: fill in those values (sudoedit $file), then run me again"
    fi
done

say "Installing Python dependencies into $APP_DIR/.venv"
"$PYTHON" -m venv "$ROOT$APP_DIR/.venv"
"$ROOT$APP_DIR/.venv/bin/pip" install --quiet --upgrade pip
"$ROOT$APP_DIR/.venv/bin/pip" install --quiet "$ROOT$APP_DIR"

say "Installing the systemd units"
UNITS=("$SLUG.service" "$SLUG-release.service" "$SLUG-cleanup.service" "$SLUG-cleanup.timer")
{%- if cookiecutter.background_sends == "celery" %}
UNITS+=("$SLUG-worker.service")
{%- endif %}
for unit in "${UNITS[@]}"; do
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
{%- if cookiecutter.background_sends == "celery" %}

say "Starting the Celery worker of background sends"
systemctl enable --quiet "$SLUG-worker.service"
systemctl restart "$SLUG-worker.service"
{%- endif %}

say "Done: https://www.$DOMAIN/ is served by $SLUG.service; wss://ws.$DOMAIN/ by API Gateway."
