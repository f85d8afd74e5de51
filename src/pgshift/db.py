"""Connections: psycopg2 connect with pgshift's session tags, and password redaction.

psycopg2 rather than psycopg 3: the CLI's start-up is most of ``status`` and a no-op ``up``,
and ``import psycopg2`` costs about a fifth of ``import psycopg`` (see README, design notes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pgshift.errors import DatabaseConnectionError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings

MASK = "***"


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """The password patterns, compiled on first use: a run with nothing to mask never needs
    them, and compiling them costs a millisecond of every start-up."""
    return {
        "url": re.compile(
            r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]*)(?=@)", re.I),
        "keyword": re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)",
                              re.I),
        "query": re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&\s]*)", re.I),
        # Not after a scheme's colon: in "postgresql://bob@host" nothing is a password.
        "loose": re.compile(r"(?P<head>[^:/@\s'\"]*:)(?P<secret>[^/@\s'\"][^@\s'\"]*)(?=@)"),
        # SQL that sets a role's password: CREATE/ALTER ROLE/USER ... [ENCRYPTED] PASSWORD '...'.
        # ... or the start of one, where a text was cut inside the literal.
        "sql": re.compile(r"(?P<head>\bpassword\s+)(?P<secret>'(?:[^']|'')*(?:'|\Z)"
                          r"|\$(\w*)\$.*?(?:\$\3\$|\Z))", re.I | re.S),
    }


def secrets_of(url: str | None) -> list[str]:
    """Every password-looking part of a URL or keyword DSN, even a malformed one."""
    if not url:
        return []
    found = []
    # The loose pattern catches malformed URLs too ("postgres//u:pw@h"): this is the user's own
    # URL, so a false match only masks a little too much.
    patterns = _patterns()
    for name in ("url", "keyword", "query", "loose"):
        for match in patterns[name].finditer(url):
            secret = match["secret"].strip("'")
            if secret:
                from urllib.parse import unquote

                found += {secret, unquote(secret)}
    return sorted(set(found), key=len, reverse=True)  # the longest first


def _pieces(secret: str) -> list[str]:
    """Where libpq cuts a malformed URL, it may quote a piece of the password in its message
    ('invalid integer value "pw" for connection option "port"')."""
    return [piece for piece in re.split(r"[/?#:@,;%]", secret) if piece and piece != secret]


def sql_passwords(text: str) -> list[tuple[int, int]]:
    """Where ``text`` sets a role's password in SQL (``PASSWORD '…'``): the spans that
    ``redact`` masks, as (start, end) offsets of the literals."""
    return [match.span("secret") for match in _patterns()["sql"].finditer(text)]


def redact(text: str, *urls: str | None) -> str:
    """``text`` with passwords masked: those inside any URL/DSN in it and those of ``urls``."""
    patterns = _patterns()
    for name in ("url", "keyword", "query"):
        text = patterns[name].sub(lambda m: m["head"] + MASK, text)
    text = patterns["sql"].sub(lambda m: m["head"] + "'***'", text)
    for url in urls:
        for secret in secrets_of(url):
            if len(secret) < _SHORT:  # only as a word of its own: 'e' is in every other word
                text = re.sub(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])", MASK, text)
            else:
                text = text.replace(secret, MASK)
            for piece in _pieces(secret):  # quoted only: a short piece may be any word's part
                text = text.replace(f'"{piece}"', f'"{MASK}"')
    return text


# A password this short is masked only where it stands alone (between non-alphanumerics).
_SHORT = 6


_SIGNAL_CHECK_SECONDS = 0.2


def _interruptible_wait(conn: Connection,
                        interrupt: Callable[[], bool] | None = None) -> None:
    """psycopg2 wait callback: Ctrl-C/SIGTERM cancel the running statement on the server.

    Without it a signal is only seen once a (possibly hours-long) statement returns. After the
    cancel, the statement's error is replaced by the KeyboardInterrupt that caused it.
    ``interrupt``: asked at each check whether to act as if Ctrl-C had come (signals reach only
    the main thread: ``pgshift.targets`` interrupts its worker threads so).
    """
    import select

    import psycopg2.errors
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    interrupted = False
    while True:
        try:
            if interrupt is not None and interrupt():
                raise KeyboardInterrupt
            state = conn.poll()
            if state == POLL_OK:
                break
            # A timeout, not an endless wait: a signal the kernel hands to another thread (the
            # runner's watchdog) does not interrupt this select, and its Python handler only
            # runs once the main thread is back in Python.
            if state == POLL_READ:
                select.select([conn.fileno()], [], [], _SIGNAL_CHECK_SECONDS)
            elif state == POLL_WRITE:
                select.select([], [conn.fileno()], [], _SIGNAL_CHECK_SECONDS)
        except KeyboardInterrupt:
            try:
                conn.cancel()
            except psycopg2.Error:  # still connecting: there is no statement to cancel
                raise KeyboardInterrupt from None
            interrupted = True
        except psycopg2.errors.QueryCanceled:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
    if interrupted:
        raise KeyboardInterrupt


# The server probes a silent client's TCP connection this often: a runner whose host froze or
# lost the network then loses its session, with the migration lock and any open transaction's
# locks, within about 25 s instead of the kernel's two hours. (Ignored on Unix sockets.)
SERVER_KEEPALIVE_SQL = ("SET tcp_keepalives_idle = 10;SET tcp_keepalives_interval = 5;"
                        "SET tcp_keepalives_count = 3")


def connect(
    settings: Settings,
    *,
    autocommit: bool = True,
    application_name: str | None = None,
    url: str | None = None,
) -> Connection:
    """A psycopg2 connection tagged with ``application_name`` (pgshift by default).

    With no URL anywhere, libpq's ``PG*`` environment variables apply. Connection failures
    become DatabaseConnectionError with every password masked.
    """
    import psycopg2
    import psycopg2.extensions

    if psycopg2.extensions.get_wait_callback() is None:
        psycopg2.extensions.set_wait_callback(_interruptible_wait)
    target = url if url is not None else settings.url or ""
    params: dict[str, Any] = {"application_name": application_name or settings.application_name}
    deadline, pause = None, 0.1
    while True:
        try:
            conn = psycopg2.connect(target, **params)
            break
        except psycopg2.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if settings.connect_wait > 0 and not_up_yet(message):
                import time

                if deadline is None:
                    deadline = time.monotonic() + settings.connect_wait
                    if on_server_wait is not None:
                        on_server_wait(f"{describe(target)}: {redact(message, target)}")
                if time.monotonic() < deadline:
                    time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                    pause = min(pause * 2, 1.0)
                    continue
                message += f" (waited {settings.connect_wait:g}s)"
            raise DatabaseConnectionError(
                f"cannot connect to {describe(target)}: {redact(message, target)}",
                hint="check --url / PGSHIFT_URL / DATABASE_URL (or the PG* variables)"
                + ("; --connect-wait waits for a server that is starting"
                   if not settings.connect_wait and not_up_yet(message) else ""),
            ) from None
    conn.autocommit = autocommit
    return conn


# What libpq says when the server is not up yet, or is restarting: worth waiting for with
# --connect-wait. A wrong password, database or role is not: it fails at once.
_NOT_UP_YET = (
    "connection refused", "the database system is",
    "could not translate host name", "name or service not known", "timeout expired",
    "server closed the connection unexpectedly", "connection reset by peer",
    "no route to host", "network is unreachable", "too many clients already",
)

# Called once when connect() starts waiting for a server, with what the server said (the CLI
# prints it); the library itself prints nothing.
on_server_wait: Callable[[str], None] | None = None


def not_up_yet(message: str) -> bool:
    """Whether a connection error says the server is not (yet) accepting connections."""
    lowered = message.lower()
    no_socket = "on socket" in lowered and "no such file or directory" in lowered
    return no_socket or any(part in lowered for part in _NOT_UP_YET)


def describe(url: str) -> str:
    """A short, password-free name for a database target, for messages."""
    if not url:
        return "the database (from PG* variables)"
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        if parts.scheme.startswith("postgres"):
            host = parts.hostname or "localhost"
            port = f":{parts.port}" if parts.port else ""
            # A malformed URL (one slash after the scheme) keeps its password in the path.
            return redact(f"{host}{port}{parts.path or ''}", url)
    except ValueError:
        pass
    return redact(url, url)


class BackgroundConnect:
    """``connect()`` in a thread, while the caller goes on; ``result()`` waits for it.

    Most of a connect is the server starting a backend: a run that will need a second
    connection (the lock's) opens it while it checks its migrations, and no longer waits for
    it afterwards. ``close()`` closes whatever was opened, used or not.
    """

    def __init__(self, settings: Settings, *, application_name: str | None = None) -> None:
        import threading

        self._conn: Connection | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._open, args=(settings, application_name), name="pgshift-connect",
            daemon=True)
        self._thread.start()

    def _open(self, settings: Settings, application_name: str | None) -> None:
        try:
            self._conn = connect(settings, application_name=application_name)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Connection:
        """The connection, or the error that opening it raised (a DatabaseConnectionError)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._conn is not None
        return self._conn

    def close(self) -> None:
        self._thread.join()
        if self._conn is not None:
            self._conn.close()
