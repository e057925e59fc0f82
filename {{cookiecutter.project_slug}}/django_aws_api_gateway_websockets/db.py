"""Single-statement reads-while-writing, where the database allows it.

``UPDATE ... RETURNING`` lets the hot paths (consuming a token, counting a message)
change a row and read it back in one round trip. PostgreSQL and SQLite 3.35+ support
it; on other databases the callers fall back to a locked SELECT and an UPDATE.
"""

import sqlite3

from django.db import connections


def supports_update_returning(using="default"):
    vendor = connections[using].vendor
    if vendor == "postgresql":
        return True
    if vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35, 0)
    return False


def update_returning(model, assignments, where, params, returning, using="default"):
    """Run ``UPDATE <table> SET <assignments> WHERE <where> RETURNING <returning>``.

    ``assignments`` and ``where`` are SQL fragments written by this app (never user
    input); values go through ``params``. Returns a list of dicts keyed by the
    ``returning`` column names.
    """
    table = connections[using].ops.quote_name(model._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE {where} RETURNING {', '.join(returning)}"  # noqa: S608
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = [column.split(" AS ")[-1].strip('"') for column in returning]
    return [dict(zip(names, row, strict=True)) for row in rows]
