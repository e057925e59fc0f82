#!/usr/bin/env bash
# Scheduled clean-up, hourly: expired Django sessions, WebSocket sessions API Gateway
# has certainly closed (it ends every connection after two hours), used or expired
# connection tokens, and old rate-limit rows. Each task runs even if another fails;
# the exit status is non-zero if any failed, so the scheduler reports it.
#
#   linux-systemd:  {{ cookiecutter.project_slug }}-cleanup.timer runs it
#   container:      IMAGE cleanup, from a scheduled task
set -uo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PROJECT_DIR" || exit 1

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

# The WebSocket commands in the published package's forms: tokens older than five
# minutes (never a valid one), rate-limit rows older than seven days, every
# disconnected session.
commands=(
    "clearsessions"
    "clearWebSocketSessions"
    "cleanupWebSocketTokens --token-age=300 --rate-limit-age=7"
)
failed=""
for command in "${commands[@]}"; do
    printf '==> manage.py %s\n' "$command"
    # shellcheck disable=SC2086  # each entry is a command and its options
    if ! "$PYTHON" manage.py $command; then
        failed="$failed ${command%% *}"
    fi
done

if [[ -n "$failed" ]]; then
    printf 'Clean-up failed:%s\n' "$failed" >&2
    exit 1
fi
