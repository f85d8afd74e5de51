"""Connections: psycopg2 connect with pgshift's session tags, timeouts, Ctrl-C and waits.

psycopg2 rather than psycopg 3: the CLI's start-up is most of ``status`` and a no-op ``up``,
and ``import psycopg2`` costs about a fifth of ``import psycopg`` (see README, design notes).
Password masking lives in ``pgshift.redaction``; ``redact`` and ``describe`` are here too,
for the many modules that import them from here.
"""

from __future__ import annotations

import os
import re
from _thread import get_ident
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pgshift.errors import DatabaseConnectionError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings


_SIGNAL_CHECK_SECONDS = 0.2


def _interruptible_wait(conn: Connection,
                        interrupt: Callable[[], bool] | None = None) -> None:
    """psycopg2 wait callback: Ctrl-C/SIGTERM cancel the running statement on the server.

    Without it a signal is only seen once a (possibly hours-long) statement returns. After the
    cancel, the statement's error is replaced by the KeyboardInterrupt that caused it.
    ``interrupt``: asked at each check whether to act as if Ctrl-C had come (signals reach only
    the main thread: ``pgshift.target_threads`` interrupts the fleet's worker threads so).
    """
    import select
    import time

    import psycopg2.errors
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    interrupted = False
    deadline = _connect_deadlines.get(get_ident())  # while connect() opens this connection
    while True:
        try:
            if interrupt is not None and interrupt():
                raise KeyboardInterrupt
            if deadline is not None and time.monotonic() > deadline:
                raise psycopg2.OperationalError("timeout expired")
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
    become DatabaseConnectionError with every password masked, saying what each host said.
    """
    import math
    import time

    import psycopg2
    import psycopg2.extensions

    if psycopg2.extensions.get_wait_callback() is None:
        psycopg2.extensions.set_wait_callback(_interruptible_wait)
    target = url if url is not None else settings.url or ""
    params: dict[str, Any] = {"application_name": application_name or settings.application_name}
    limit = _connect_timeout(target)
    if settings.connect_wait > 0:  # no one attempt outlasts the wait for the server
        limit = min(limit or math.inf, max(settings.connect_wait, 2.0))
    deadline, pause, notified = time.monotonic() + settings.connect_wait, 0.1, False
    while True:
        if limit is not None:
            _connect_deadlines[get_ident()] = time.monotonic() + limit
        try:
            conn = psycopg2.connect(target, **params)
            break
        except (psycopg2.Error, UnicodeError) as exc:  # '%E9' in a URL is no UTF-8
            said = _what_hosts_said(exc, limit)
            message = "; ".join(said)
            waitable = all(not_up_yet(line) for line in said)
            if settings.connect_wait > 0 and waitable:
                if not notified and on_server_wait is not None:
                    on_server_wait(f"{describe(target)}: {redact(message, target)}")
                notified = True
                if time.monotonic() < deadline:
                    time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                    pause = min(pause * 2, 1.0)
                    continue
                message += f" (waited {settings.connect_wait:g}s)"
            raise DatabaseConnectionError(
                f"cannot connect to {describe(target)}: {redact(message, target)}",
                hint=_hint(message, waitable and not settings.connect_wait),
            ) from None
        finally:
            _connect_deadlines.pop(get_ident(), None)
    conn.autocommit = autocommit
    return conn


# When the connect running in a thread gives up, by thread (the wait callback checks it).
_connect_deadlines: dict[int, float] = {}


# How long a connect waits for a server that does not answer when the URL sets no
# connect_timeout, per host. libpq waits forever; so would pgshift, in CI, for a server that
# accepts connections and never answers. connect_timeout=0 in the URL waits forever.
DEFAULT_CONNECT_TIMEOUT = 30


def _connect_timeout(target: str) -> float | None:
    """The seconds a connect to ``target`` may take (None: no limit).

    psycopg2 connects asynchronously when a wait callback is set (pgshift's makes Ctrl-C
    work), and libpq applies ``connect_timeout`` only to blocking connects: the wait callback
    applies it instead, to all hosts together (libpq: to each one in turn).
    """
    import psycopg2
    from psycopg2.extensions import parse_dsn

    try:
        params = parse_dsn(target)
    except (psycopg2.Error, UnicodeError):
        return None  # the connect itself fails, and says why
    # libpq's own variable, read as libpq reads it (pgshift's settings never come from PG*).
    value = params.get("connect_timeout") or os.environ.get("PGCONNECT_TIMEOUT") or ""
    if not value.strip():
        seconds = DEFAULT_CONNECT_TIMEOUT
    elif re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        seconds = int(value)
        if seconds <= 0:
            return None
    else:
        raise DatabaseConnectionError(
            f"cannot connect to {describe(target)}: invalid integer value "
            f"\"{redact(value, target)}\" for connection option \"connect_timeout\"",
            hint="connect_timeout is a whole number of seconds (0: wait forever)")
    hosts = max(len(params.get(key, "").split(",")) for key in ("host", "hostaddr"))
    return max(seconds, 2) * hosts  # libpq takes 1 as 2


def _what_hosts_said(exc: Exception, limit: float | None) -> list[str]:
    """libpq's error, one entry per host it tried, without its indented advice
    ('Is the server running...'), DETAIL lines or the 'FATAL:' mark."""
    if isinstance(exc, UnicodeError):
        return [f"invalid dsn: a percent-encoded value is not UTF-8 ({exc.reason})"]
    text = str(exc).strip() or type(exc).__name__
    said = []
    for line in text.splitlines():
        if not line.strip() or line[0].isspace() or line.startswith(("DETAIL:", "HINT:")):
            continue
        line = re.sub(r"\b(?:FATAL|ERROR):\s+", "", line.strip())
        if line == "timeout expired" and limit is not None:
            line += f" (no answer in {limit:g}s; connect_timeout in the URL sets another)"
        said.append(line)
    return list(dict.fromkeys(said)) or [type(exc).__name__]


# What a failure says, and what to do about it (the first that matches wins).
_HINTS = (
    ("password authentication failed", "check the password: in the URL (percent-encoded), "
     "PGPASSWORD or the password file (~/.pgpass, PGPASSFILE)"),
    ("no password supplied", "the server wants a password: give it in the URL, PGPASSWORD or "
     "the password file (~/.pgpass, PGPASSFILE)"),
    ("does not exist", "check the database and user names in the URL"),
    ("no pg_hba.conf entry", "the server's pg_hba.conf admits no connection from this host as "
     "this user to this database (with or without SSL)"),
    ("invalid sslmode value", "sslmode is one of disable, allow, prefer, require, verify-ca, "
     "verify-full"),
    ("ssl", "check sslmode in the URL against the server's ssl setting"),
    ("definition of service", "services are defined in PGSERVICEFILE, else "
     "~/.pg_service.conf"),
    ("service file", "services are defined in PGSERVICEFILE, else ~/.pg_service.conf"),
    ("timeout expired", "check the host and port; connect_timeout in the URL waits longer"),
    ("invalid", "check the URL's form and options; in a URL a password's @ : / ? # % must be "
     "percent-encoded (%40 %3A %2F %3F %23 %25)"),
    ("missing \"=\"", "check the URL's form; in a URL a password's @ : / ? # % must be "
     "percent-encoded (%40 %3A %2F %3F %23 %25)"),
)


def _hint(message: str, wait_would_help: bool) -> str:
    lowered = message.lower()
    hint = next((hint for part, hint in _HINTS if part.lower() in lowered),
                "check --url / PGSHIFT_URL / DATABASE_URL (or the PG* variables)")
    if wait_would_help:
        hint += "; --connect-wait waits for a server that is starting"
    return hint


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


# Masking is loaded on first use, not with this module: a status whose connect succeeds masks
# nothing, and start-up is most of a status.
def redact(text: str, *urls: str | None) -> str:
    """``text`` with passwords masked (see ``pgshift.redaction.redact``)."""
    from pgshift.redaction import redact as masked

    return masked(text, *urls)


def describe(url: str) -> str:
    """A short, password-free name for a database target (see ``pgshift.redaction.describe``)."""
    from pgshift.redaction import describe as described

    return described(url)


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
