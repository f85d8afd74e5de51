"""Password redaction: the passwords of URLs, DSNs and SQL, found and masked in any text shown.

No password reaches any output: messages, the errors the history and run log keep, a dry run's
SQL. ``pgshift.db`` connects; this module only finds and masks, and is loaded when there is
something to mask (a connect that succeeds needs none of it).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

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

