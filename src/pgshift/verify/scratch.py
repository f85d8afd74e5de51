"""Scratch databases for verify: created on the configured server (or a throwaway one), dropped.

Verify never touches the target. ``ScratchDatabase`` creates ``pgshift_verify_<random>`` on the
target's server (``CREATE DATABASE`` needs the CREATEDB privilege) or, with ``embedded``, on a
``ThrowawayServer`` of the target's major version when one is installed. There it is named like
the target's database, so that a migration's ``ALTER DATABASE <target>`` reaches the scratch
database (on the configured server, ``pgshift.verify.server_wide`` refuses those). ``copy_schema``
fills it with a schema-only copy of another database (``pg_dump -s``, plus the rows of pgshift's
own history so the copy knows its version).

A run killed before it could drop its scratch database leaves it on the server: the next one
drops it and says so in ``describe()`` (see ``verify.databases``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from psycopg2 import sql

from pgshift.errors import DatabaseConnectionError, InputError
from pgshift.verify.databases import (
    create_database,
    drop_database,
    keep,
    reclaim_abandoned,
    rename,
    url_with_dbname,
)

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings
    from pgshift.server import ThrowawayServer

PREFIX = "pgshift_verify_"
# The throwaway servers running now, as (host, port): what a replay there reaches is thrown away.
_THROWAWAY: set[tuple[str, str]] = set()
# Names a scratch database on a throwaway server cannot take from the target.
_RESERVED = ("template0", "template1")


class ScratchDatabase:
    """``with ScratchDatabase(settings, embedded=...) as scratch:`` -> ``scratch.url``."""

    def __init__(self, settings: Settings, *, embedded: bool = False,
                 prefer_major: int | None = None) -> None:
        self.settings = settings
        self.embedded = embedded
        self.prefer_major = prefer_major
        self.name = (_target_name(settings.url) if embedded else None) \
            or f"{PREFIX}{uuid.uuid4().hex[:10]}"
        self.server: ThrowawayServer | None = None
        self.reclaimed: list[str] = []  # scratch databases of killed runs, dropped on entry
        self._admin_url = ""
        self._created = False
        self._keeper: Connection | None = None
        self._roles_before: set[str] | None = None

    @property
    def url(self) -> str:
        return url_with_dbname(self._admin_url, self.name)

    def describe(self) -> str:
        from pgshift.db import describe

        where = "a throwaway server" if self.embedded else describe(self._admin_url)
        if not self.reclaimed:
            return f"{self.name} on {where}"
        return (f"{self.name} on {where}; dropped {len(self.reclaimed)} scratch database(s) "
                f"a killed run had left there: {', '.join(self.reclaimed)}")

    def __enter__(self) -> ScratchDatabase:
        try:
            if self.embedded:
                self.server = _start_server(self.prefer_major)
                self._admin_url = self.server.url
                _THROWAWAY.add(_host_port(self._admin_url))
            else:
                self._admin_url = self.settings.url or ""
                self._keeper = keep(self.settings, self._admin_url, self.name)
                self.reclaimed = reclaim_abandoned(self._keeper, PREFIX)
            self._roles_before = self._role_names()
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def new_roles(self) -> list[str]:
        """Roles made since the scratch database was: by the migrations replayed in it (roles
        belong to the whole server). On the configured server, only those a migration file
        names in a CREATE ROLE/USER/GROUP, so that a role someone else makes meanwhile is not
        taken for one."""
        if self._roles_before is None:
            return []
        made = self._role_names() - self._roles_before
        if self.server is None:
            made &= _roles_created_in(self.settings)
        return sorted(made)

    def _role_names(self) -> set[str]:
        from pgshift.db import connect

        conn = connect(self.settings, url=self._admin_url,
                       application_name=f"{self.settings.application_name} verify")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT rolname FROM pg_roles")
                return {row[0] for row in cur.fetchall()}
        finally:
            conn.close()

    def close(self) -> None:
        with _uninterrupted():  # a second Ctrl-C must not leave the database behind
            try:
                if self._created and self.server is None:
                    try:  # the database first: reading which roles are the replay's may fail
                        drop_database(self.settings, self._admin_url, self.name)
                    finally:
                        _drop_roles(self.settings, self._admin_url, self.new_roles())
            finally:
                self._created = False
                if self._keeper is not None:  # last: the database is gone (or left to reclaim)
                    self._keeper.close()
                    self._keeper = None
                if self.server is not None:
                    _THROWAWAY.discard(_host_port(self._admin_url))
                    self.server.close()  # the database goes with the server
                    self.server = None

    @contextmanager
    def sibling(self) -> Iterator[str]:
        """Another scratch database on the same server (its URL), dropped afterwards. Named
        after this one, so that this one's keeper keeps it too."""
        name = f"{self.name}_{uuid.uuid4().hex[:6]}" if self._keeper is not None \
            else f"{PREFIX}{uuid.uuid4().hex[:10]}"
        try:
            create_database(self.settings, self._admin_url, name)
            yield url_with_dbname(self._admin_url, name)
        finally:
            with _uninterrupted():
                drop_database(self.settings, self._admin_url, name)

    def _create(self) -> None:
        if self.server is not None and self.name == "postgres":
            return  # the throwaway server's own: the target's name, and thrown away with it
        import psycopg2.errors

        for attempt in range(3):
            self._created = True  # first: an interrupt as CREATE DATABASE returns must not leak
            try:
                create_database(self.settings, self._admin_url, self.name)
                return
            except psycopg2.errors.DuplicateDatabase:
                self._created = False  # another run's (or anybody's): never ours to drop
                if self._keeper is None or attempt == 2:
                    raise
            self.name = f"{PREFIX}{uuid.uuid4().hex[:10]}"
            rename(self._keeper, self.name)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP held while the scratch database is dropped (a second Ctrl-C would
    cancel the DROP and leave it on the server); one that came meanwhile is raised after."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread's handlers
        return
    held: list[int] = []
    numbers = [signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP")
                                                  else [])]  # a closed terminal: SIGHUP
    previous = {number: signal.signal(number, lambda got, _frame: held.append(got))
                for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        if held:
            signal.raise_signal(held[0])


def on_throwaway_server(conn: object) -> bool:
    """Whether ``conn`` (a psycopg2 connection) is to a throwaway server of a ScratchDatabase."""
    info = getattr(conn, "info", None)
    return info is not None and (str(info.host), str(info.port)) in _THROWAWAY


def _host_port(url: str) -> tuple[str, str]:
    from psycopg2.extensions import parse_dsn

    params = parse_dsn(url)
    return str(params.get("host", "")), str(params.get("port", ""))


def _target_name(url: str | None) -> str | None:
    """The database ``url`` names (None when libpq's defaults would pick it)."""
    if not url:
        return None
    from psycopg2 import ProgrammingError
    from psycopg2.extensions import parse_dsn

    try:
        name = parse_dsn(url).get("dbname")
    except ProgrammingError:
        return None
    return name if name and name not in _RESERVED else None


_CREATE_ROLE = re.compile(r"""\bcreate\s+(?:role|user|group)\s+(?:"((?:[^"]|"")+)"|(\w+))""",
                          re.IGNORECASE)


def _roles_created_in(settings: Settings) -> set[str]:
    """The role names the migrations of ``settings.dir`` create (as PostgreSQL folds them): in
    their statements, placeholders filled, DO blocks and function bodies included; and, should
    the files not read as migrations, in their text."""
    from pgshift.errors import PgshiftError
    from pgshift.migrations.discover import discover_migrations
    from pgshift.verify.server_wide import created_roles

    names = _roles_named_in(settings.dir)
    try:
        migrations = discover_migrations(settings.dir, flavor=settings.flavor,
                                         placeholders=settings.placeholders)
        return names | created_roles(migrations)
    except PgshiftError:
        return names


def _roles_named_in(directory: Path) -> set[str]:
    """The role names the text of the SQL files of ``directory`` (and its subfolders) create."""
    names: set[str] = set()
    try:
        files = [p for p in directory.rglob("*.sql") if p.is_file()]
    except OSError:
        return names
    for path in files:
        try:
            text = path.read_text("utf-8", "replace")
        except OSError:
            continue
        for quoted, plain in _CREATE_ROLE.findall(text):
            names.add(quoted.replace('""', '"') if quoted else plain.lower())
    return names


def _drop_roles(settings: Settings, admin_url: str, roles: list[str]) -> None:
    """Drop the roles a replay made on the configured server (its scratch database is gone)."""
    if not roles:
        return
    import contextlib

    import psycopg2

    from pgshift.db import connect

    conn = connect(settings, url=admin_url,
                   application_name=f"{settings.application_name} verify")
    try:
        with conn.cursor() as cur:
            for role in roles:
                # One with objects elsewhere by now is not ours to take away.
                with contextlib.suppress(psycopg2.Error):
                    cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    finally:
        conn.close()


def _start_server(prefer_major: int | None) -> ThrowawayServer:
    from pgshift.server import ServerError, ThrowawayServer

    try:
        server = ThrowawayServer(prefer_major=prefer_major)
    except ServerError:
        if prefer_major is None:
            raise
        server = ThrowawayServer()  # another major is better than no verify at all
    try:
        server.start()
    except BaseException:  # Ctrl-C during initdb or start: its data dir must go too
        with _uninterrupted():
            server.close()
        raise
    return server


# -- schema-only copy ---------------------------------------------------------------------------


def copy_schema(source_url: str, target_url: str, *, history_schema: str,
                privileges: bool, configured: Path | None = None) -> None:
    """Copy ``source_url``'s schema (and pgshift's history rows) into ``target_url``.

    Uses ``pg_dump`` from the source server's own version (see ``pgshift.pgdump``; a
    ``configured`` one wins). Owners are dropped (the copy belongs to whoever runs verify);
    grants too when ``privileges`` is false (a throwaway server has none of the target's roles).
    """
    import psycopg2

    from pgshift.db import redact
    from pgshift.pgdump import find_pg_dump, run_pg_dump, without_meta_commands

    try:
        source = psycopg2.connect(source_url)
    except psycopg2.Error as exc:
        raise DatabaseConnectionError(
            f"--from: cannot connect: {redact(str(exc).strip(), source_url)}") from None
    major = source.server_version // 10000
    try:
        with source.cursor() as cur:  # a database pgshift never ran on has no history to copy
            cur.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)",
                        (history_schema,))
            has_history = bool(cur.fetchone()[0])
    finally:
        source.close()
    pg_dump = find_pg_dump(major, configured, purpose="--from")
    flags = ["--no-owner", *(() if privileges else ("--no-privileges", "--no-acl"))]
    schema_sql = run_pg_dump(pg_dump, source_url, "--schema-only", *flags, purpose="--from")
    rows_sql = run_pg_dump(pg_dump, source_url, "--data-only", "--inserts", "--no-owner",
                           f"--schema={history_schema}", purpose="--from") if has_history else ""
    target = psycopg2.connect(target_url)
    target.autocommit = True
    try:
        with target.cursor() as cur:
            for text in (schema_sql, rows_sql):
                if text.strip():
                    cur.execute(without_meta_commands(text))
    except psycopg2.Error as exc:
        raise InputError(f"--from: cannot restore the schema copy: {exc.pgerror or exc}",
                         hint="the scratch server may lack an extension or role of the "
                              "source") from None
    finally:
        target.close()
