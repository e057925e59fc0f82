"""Create the development database when DATABASE_URL names a PostgreSQL one that is missing."""

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def ensure_database_exists(options=None):
    """Create the PostgreSQL database ``options`` describe (default: the ``default``
    database's settings) if the server is up but the database is missing.

    Returns a line describing what happened, or None when there was nothing to do
    (SQLite, or the database already exists). Other connection problems (server
    down, wrong password) are left for ``migrate`` to report.
    """
    options = options or settings.DATABASES["default"]
    if "postgresql" not in options["ENGINE"]:
        return None
    import psycopg
    from psycopg import sql

    connect_args = {
        "host": options.get("HOST") or None,
        "port": options.get("PORT") or None,
        "user": options.get("USER") or None,
        "password": options.get("PASSWORD") or None,
    }
    name = options["NAME"]
    try:
        psycopg.connect(dbname=name, **connect_args).close()
        return None
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            return None
    with psycopg.connect(dbname="postgres", autocommit=True, **connect_args) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    logger.info("Created PostgreSQL database %s", name)
    return f"Created the PostgreSQL database {name}."
