#!/usr/bin/env bash
# The image's entrypoint: one command per job, all with the container's environment.
#   web (default)     gunicorn with deploy/gunicorn.conf.py on $GUNICORN_BIND
#   release           deploy/release.sh: checks, migrations, API Gateway sync (once per deploy)
#   cleanup           deploy/cleanup.sh: expired sessions, tokens, rate-limit rows (hourly)
{%- if cookiecutter.background_sends == "celery" %}
#   worker            the Celery worker of background sends (ecs-worker-task-definition.json)
{%- endif %}
#   manage ARGS...    python manage.py ARGS...
#   anything else     run as given (e.g. bash)
# Each job runs with the AWS identity of the task that starts it: web and cleanup with the
# web task role {{ cookiecutter.project_slug }}-web (ecs-task-definition.json: may only send to connections),
# release with the release task role {{ cookiecutter.project_slug }}-release (ecs-release-task-definition.json:
# may create and sync the API). Never run the release from the web task definition.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"

command="${1:-web}"
[[ $# -gt 0 ]] && shift
case "$command" in
    web) exec gunicorn --config deploy/gunicorn.conf.py config.wsgi:application "$@" ;;
    release) exec deploy/release.sh "$@" ;;
    cleanup) exec deploy/cleanup.sh "$@" ;;
{%- if cookiecutter.background_sends == "celery" %}
    worker) exec "${PYTHON:-python}" -m celery -A config worker --loglevel INFO "$@" ;;
{%- endif %}
    manage) exec "${PYTHON:-python}" manage.py "$@" ;;
    *) exec "$command" "$@" ;;
esac
