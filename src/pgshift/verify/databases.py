"""Databases verify (and the pytest plugin) make on a server: created, kept, dropped.

A run killed before it could drop its scratch database (SIGKILL, a lost terminal, a power cut)
leaves it on the server: the next one drops it (``reclaim_abandoned``). A live run is told
apart by its keeper, a session on the server whose application_name names its database
(``KEEPER``), held from before ``CREATE DATABASE`` until after ``DROP DATABASE``; and by the
sessions connected to the database itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from psycopg2 import sql

from pgshift.errors import DatabaseConnectionError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings

KEEPER = "pgshift keeper "  # + a database's name: the application_name of the run that owns it


def url_with_dbname(url: str, dbname: str) -> str:
    """``url`` (a URL, a ``key=value`` DSN or empty for the ``PG*`` variables) for ``dbname``.

    A URL stays a URL (what an application's driver takes), its database in the path and in
    no ``dbname`` query parameter: libpq lets one there win over the path, and the scratch
    database's URL would reach the target. One without a host (``postgresql:///db?host=/run``)
    keeps its ``//``."""
    match = re.match(r"^(postgres(?:ql)?)://([^/?#]*)[^?#]*(\?[^#]*)?(#.*)?$", url, re.DOTALL)
    if match:
        from urllib.parse import quote, unquote

        scheme, netloc, query = match.group(1), match.group(2), match.group(3) or ""
        kept = [part for part in query[1:].split("&")
                if part and unquote(part.partition("=")[0]) != "dbname"]
        return (f"{scheme}://{netloc}/{quote(dbname, safe='')}"
                + ("?" + "&".join(kept) if kept else ""))
    from psycopg2.extensions import make_dsn

    return str(make_dsn(url or None, dbname=dbname))


def keep(settings: Settings, admin_url: str, name: str) -> Connection:
    """The keeper of database ``name`` (and of those named ``name_…``): a session on the
    server whose application_name says that a live run owns it. Close it after the drop."""
    from pgshift.db import connect

    keeper = connect(settings, url=admin_url, application_name=KEEPER + name)
    if keeper.server_version >= 140000:  # it idles all run long: a server or role's timeout
        with keeper.cursor() as cur:     # would end it, and another run drop a live database
            cur.execute("SET idle_session_timeout = 0")
    return keeper


def rename(keeper: Connection, name: str) -> None:
    """Have ``keeper`` keep ``name`` instead (before that database is created)."""
    with keeper.cursor() as cur:
        cur.execute("SELECT set_config('application_name', %s, false)", (KEEPER + name,))


_ABANDONED = """
    SELECT d.datname FROM pg_database d
    WHERE starts_with(d.datname, %(prefix)s)
      AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.datname = d.datname)
      AND NOT EXISTS (
          SELECT FROM pg_stat_activity a
          WHERE starts_with(a.application_name, %(keeper)s)
            AND (d.datname = substr(a.application_name, %(skip)s)
                 OR starts_with(d.datname, substr(a.application_name, %(skip)s) || '_')))
    ORDER BY 1"""


def reclaim_abandoned(keeper: Connection, prefix: str) -> list[str]:
    """Drop the databases named ``prefix…`` that no live run keeps (see ``keep``) and no
    session is connected to: those of runs killed before they could drop them. Only those
    this role may drop, and never one a session has just connected to (no FORCE); the
    names of those dropped."""
    import psycopg2

    dropped = []
    with keeper.cursor() as cur:
        cur.execute(_ABANDONED, {"prefix": prefix, "keeper": KEEPER, "skip": len(KEEPER) + 1})
        for (name,) in cur.fetchall():
            try:
                cur.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
            except psycopg2.Error:  # another role's, in use by now, or already gone
                continue
            dropped.append(name)
    return dropped


def create_database(settings: Settings, admin_url: str, name: str, *,
                    template: str | None = None, what: str = "scratch",
                    application_name: str | None = None,
                    hint: str = "grant CREATEDB to this role, or pass --embedded to use a "
                                "throwaway server") -> None:
    """``CREATE DATABASE name [TEMPLATE template]``; without the right to, a
    DatabaseConnectionError naming ``what`` database it is and saying how to do without."""
    from pgshift.db import connect

    conn = connect(settings, url=admin_url,
                   application_name=application_name or f"{settings.application_name} verify")
    import psycopg2.errors

    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    except psycopg2.errors.InsufficientPrivilege as exc:
        raise DatabaseConnectionError(
            f"cannot create a {what} database: {exc.diag.message_primary}", hint=hint) from None
    finally:
        conn.close()


def drop_database(settings: Settings, admin_url: str, name: str) -> None:
    """Drop ``name``, ending the sessions still connected to it."""
    from pgshift.db import connect

    conn = connect(settings, url=admin_url,
                   application_name=f"{settings.application_name} verify")
    import psycopg2.errors

    drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    if conn.server_version >= 130000:
        drop += sql.SQL(" WITH (FORCE)")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            try:
                cur.execute(drop)
            except psycopg2.errors.ObjectInUse:  # a subscription made there (connect = false)
                _detach_subscriptions(settings, url_with_dbname(admin_url, name))
                cur.execute(drop)
    finally:
        conn.close()


def _detach_subscriptions(settings: Settings, url: str) -> None:
    """Drop the subscriptions of the database at ``url`` without reaching their publishers
    (no slot is dropped there): disabled, then slot_name = NONE."""
    from pgshift.db import connect

    conn = connect(settings, url=url, application_name=f"{settings.application_name} verify")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT s.subname FROM pg_subscription s JOIN pg_database d "
                        "ON d.oid = s.subdbid WHERE d.datname = current_database()")
            for (subname,) in cur.fetchall():
                name = sql.Identifier(subname)
                for statement in ("ALTER SUBSCRIPTION {} DISABLE",
                                  "ALTER SUBSCRIPTION {} SET (slot_name = NONE)",
                                  "DROP SUBSCRIPTION {}"):
                    cur.execute(sql.SQL(statement).format(name))
    finally:
        conn.close()
