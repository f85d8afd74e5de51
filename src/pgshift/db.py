"""Connections: psycopg2 connect with pgshift's session tags, and password redaction.

psycopg2 rather than psycopg 3: the CLI's start-up is most of ``status`` and a no-op ``up``,
and ``import psycopg2`` costs about a fifth of ``import psycopg`` (see README, design notes).
"""

from __future__ import annotations

import os
import re
from _thread import get_ident
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pgshift.errors import DatabaseConnectionError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.config import Settings

MASK = "***"

# libpq's connection options: what may follow a password in a DSN or a URL's query.
_KEYWORDS = ("(?:host|hostaddr|port|dbname|user|passfile|channel_binding|connect_timeout|"
             "client_encoding|options|application_name|fallback_application_name|keepalives|"
             "keepalives_idle|keepalives_interval|keepalives_count|tcp_user_timeout|"
             "replication|gssencmode|sslmode|sslnegotiation|sslcompression|sslcert|sslkey|"
             "sslpassword|sslcertmode|sslrootcert|sslcrl|sslcrldir|sslsni|requirepeer|"
             "require_auth|ssl_min_protocol_version|ssl_max_protocol_version|krbsrvname|"
             "gsslib|gssdelegation|service|target_session_attrs|load_balance_hosts)")


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
        # A query's password with '&' in it (libpq cuts it there, and quotes what follows).
        "query_rest": re.compile(rf"(?P<head>[?&]password=)(?P<secret>.*?)(?=&{_KEYWORDS}=|$)",
                                 re.I),
        # An unquoted keyword password with blanks ("password=my pass dbname=app"): libpq
        # reads "my", then quotes "pass" in its error. Up to the next keyword.
        "keyword_rest": re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>\S.*?)"
                                   rf"(?=\s+{_KEYWORDS}\s*=|\s*$)", re.I),
        # SQL that sets a role's password: CREATE/ALTER ROLE/USER ... [ENCRYPTED] PASSWORD '...'.
        # ... or the start of one, where a text was cut inside the literal.
        "sql": re.compile(r"(?P<head>\bpassword\s+)(?P<secret>'(?:[^']|'')*(?:'|\Z)"
                          r"|\$(\w*)\$.*?(?:\$\3\$|\Z))", re.I | re.S),
    }


def secrets_of(url: str | None) -> list[str]:
    """Every password-looking part of a URL or keyword DSN, even a malformed one, as written
    and as libpq reads it (percent-decoded, unescaped)."""
    if not url:
        return []
    from urllib.parse import quote, unquote

    found = []
    # Malformed URLs too ("postgres//u:pw@h", an unencoded '@' or '/'): this is the user's own
    # URL, so a false match only masks a little too much.
    patterns = _patterns()
    is_url = re.match(r"\s*postgres", url, re.I) is not None
    for name in ("url", "keyword", "query", "query_rest" if is_url else "keyword_rest"):
        found += [match["secret"].strip("'") for match in patterns[name].finditer(url)]
    span = _url_password_span(url)
    if span is not None:
        found.append(url[span[0]:span[1]])
    found.append((_parsed(url) or {}).get("password"))
    forms = set()
    for secret in filter(None, found):
        for form in (secret, unquote(secret), quote(secret, safe=""),
                     re.sub(r"\\(.)", r"\1", secret)):  # as written, decoded, unescaped
            forms |= {form, re.sub("%[0-9a-fA-F]{2}", lambda m: m[0].swapcase(), form)}
    return sorted(forms - {""}, key=len, reverse=True)  # the longest first


def _url_password_span(url: str) -> tuple[int, int] | None:
    """Where a URL's password is, or may be: from the user's ':' to the '@' before the hosts.

    libpq ends the user info at the first '@' (or '/'), so a password holding one of those
    unencoded is cut there, and libpq may quote the pieces ('could not translate host name
    "ss@db"'). Unless libpq reads the URL as a whole, with no '@' in a host, the span ends at
    the last '@' that hosts follow ('@db:5432/app'): it covers what the user meant.
    """
    match = re.match(r"\s*postgres(?:ql)?:?/*", url, re.I)
    if match is None or "@" not in url[match.end():]:
        return None
    first = url.index("@", match.end())
    params = _parsed(url)
    if params is not None and "password" in params and _as_meant(params):
        end = url.find("@", match.end(), _find(url, "/", match.end()))
    else:
        ats = [i for i in range(len(url) - 1, first - 1, -1) if url[i] == "@"]
        end = next((i for i in ats if re.match(_HOSTS, url[i + 1:])), -1)
    colon = url.find(":", match.end(), first)
    return (colon + 1, end) if colon >= 0 and end > colon + 1 else None


# What follows the '@' of a URL's user info: hosts (names, IPv4, [IPv6]) with ports, then the
# path, the query or nothing.
_HOST = r"(?:\[[0-9A-Za-z:.%]*\]?|[\w.%-]*)(?::[0-9]*)?"
_HOSTS = rf"{_HOST}(?:,{_HOST})*(?:[/?#]|$)"


def _as_meant(params: dict[str, str]) -> bool:
    """Whether libpq read a URL as its user meant: no host, port or database name holds what
    can only be a piece of a password with an unencoded '@' or '/'."""
    return (re.fullmatch(r"[\w.%:,/\[\]-]*", params.get("host", "")) is not None
            and re.fullmatch(r"[0-9,]*", params.get("port", "")) is not None
            and "@" not in params.get("dbname", ""))


def _find(text: str, char: str, start: int) -> int:
    at = text.find(char, start)
    return len(text) if at < 0 else at


def _parsed(url: str) -> dict[str, str] | None:
    """``url`` as libpq reads it, None when it cannot (or there is no driver)."""
    try:
        from psycopg2.extensions import parse_dsn

        return parse_dsn(url)
    except Exception:  # a malformed URL (ProgrammingError), or no driver at all
        return None


def sql_passwords(text: str) -> list[tuple[int, int]]:
    """Where ``text`` sets a role's password in SQL (``PASSWORD '…'``): the spans that
    ``redact`` masks, as (start, end) offsets of the literals."""
    return [match.span("secret") for match in _patterns()["sql"].finditer(text)]


def redact(text: str, *urls: str | None) -> str:
    """``text`` with passwords masked: those of ``urls`` and those inside any URL/DSN in it."""
    secrets = sorted({s for url in urls for s in secrets_of(url)}, key=len, reverse=True)
    # Whole secrets first, then what libpq quotes of them, then short ones (masking one of
    # those in a quoted piece would leave the piece unrecognized), then the patterns below
    # (which may mask only a part of a secret).
    for secret in (s for s in secrets if len(s) >= _SHORT):
        text = text.replace(secret, MASK)
    if secrets:
        text = _mask_quoted_pieces(text, secrets)
    for secret in (s for s in secrets if len(s) < _SHORT):  # as a word: 'e' is in every word
        text = re.sub(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])", MASK, text)
    patterns = _patterns()
    for name in ("url", "keyword", "query"):
        text = patterns[name].sub(lambda m: m["head"] + MASK, text)
    return patterns["sql"].sub(lambda m: m["head"] + "'***'", text)


def password_of(conn: Connection) -> str | None:
    """A keyword DSN of only the password ``conn`` logged in with (from the URL, PGPASSWORD
    or the passfile), for ``redact``: what the database stores of an error (history, run log)
    is shown later by status and log, where no URL is at hand."""
    password = conn.info.password
    if not password:
        return None
    from psycopg2.extensions import make_dsn

    return str(make_dsn(password=password))


def _mask_quoted_pieces(text: str, secrets: list[str]) -> str:
    """``text`` with every double-quoted piece of a secret masked.

    Where libpq cuts a malformed URL it quotes what it could not read, which may be a piece
    of the password ('invalid integer value "pw" for connection option "port"'), or start or
    end with one ('invalid percent-encoded token: "rd%@db/app"'), and the piece may itself
    hold a '"': the quotes after each opening one are tried in turn.
    """
    quotes = [i for i, char in enumerate(text) if char == '"']
    longest = len(secrets[0])
    spans: list[tuple[int, int]] = []
    for n, start in enumerate(quotes):
        found = None
        for end in quotes[n + 1:n + 1 + _QUOTES_TRIED]:
            piece = text[start + 1:end]
            if len(piece) > _LONGEST_QUOTED or (found and len(piece) > longest):
                break
            if len(piece) >= 2 and piece != MASK and any(piece in s for s in secrets):
                found = end  # a longer piece may be in it too: '(yMK":' of '(yMK":/Y"e9'
            elif found is None and end == quotes[n + 1] and _overlaps(piece, secrets):
                found = end  # only up to the next quote: a longer one masks what follows
                break
        if found is not None:
            spans.append((start + 1, found))
    for start, end in sorted(_merged(spans), reverse=True):
        text = text[:start] + MASK + text[end:]
    return text


# How far apart two quotes of a message may be to quote one thing (libpq quotes the rest of a
# URL it cannot read), and how many closing quotes are tried for each opening one.
_LONGEST_QUOTED = 1000
_QUOTES_TRIED = 8


def _overlaps(piece: str, secrets: list[str]) -> bool:
    """Whether ``piece`` starts or ends with a part of a secret: its start or end (3
    characters at least), or 4 characters from its middle (fewer would match by chance)."""
    for secret in secrets:
        if len(piece) >= 4 and (piece[:4] in secret or piece[-4:] in secret):
            return True
        for k in range(min(3, len(secret)), len(secret) + 1):
            if piece.endswith(secret[:k]) or piece.startswith(secret[-k:]):
                return True
    return False


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


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


def _masked_target(url: str) -> str:
    """``url`` with its password masked, wherever it is (see ``_url_password_span``)."""
    span = _url_password_span(url)
    if span is not None:
        url = url[:span[0]] + MASK + url[span[1]:]
    return redact(url, url)


def describe(url: str) -> str:
    """A short, password-free name for a database target, for messages: hosts and ports,
    then the database (or the service)."""
    if not url:
        return "the database (from PG* variables)"
    params = _parsed(url)
    if params is None or not _as_meant(params):  # malformed: read it with the password masked
        masked = _masked_target(url).strip()
        params = _parsed(masked)
        if params is None or not _as_meant(params):
            return masked
    hosts = (params.get("host") or params.get("hostaddr") or "").split(",")
    ports = params.get("port", "").split(",")
    ports += ports[-1:] * (len(hosts) - len(ports))  # one port is every host's
    names = []
    for host, port in zip(hosts, ports, strict=False):
        host = host.rpartition("@")[2]  # 'u:p@ss@db' leaves 'ss@db' for a host
        if ":" in host and not host.startswith("/"):
            host = f"[{host}]"
        names.append(host + (f":{port}" if port and not host.startswith("/") else ""))
    where = ",".join(filter(None, names))
    dbname = params.get("dbname", "")
    if where.startswith("/"):
        text = f"{dbname or 'the default database'} via socket {where}"
    elif not where and params.get("service"):
        text = f"service {params['service']}" + (f"/{dbname}" if dbname else "")
    else:
        text = f"{where or 'localhost'}{'/' + dbname if dbname else ''}"
    return redact(text, url)


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
