"""Which command a session runs, from its query text: ``ALTER TABLE``, ``CREATE INDEX``, ...

The text comes from ``pg_stat_activity.query``: any session's SQL, possibly cut short at
``track_activity_query_size``. pglast's scanner splits it into statements (strings, comments and
dollar quotes handled); a truncated or unscannable text falls back to a plain split on ``;``.
The command is read from each statement's leading keywords, so a cut-off statement still counts.
"""

from __future__ import annotations

import re

from pgshift.round_trip import MARKER_NAME

# Commands that change the schema or take strong locks while they run.
DDL_VERBS = frozenset({
    "ALTER", "CREATE", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE", "REINDEX", "CLUSTER",
    "VACUUM", "REFRESH", "LOCK", "SECURITY",
})
# Words that say what the command acts on; the rest (UNIQUE, OR REPLACE, IF EXISTS...) are dropped.
_OBJECT_WORDS = frozenset({
    "TABLE", "INDEX", "CONCURRENTLY", "MATERIALIZED", "VIEW", "TYPE", "SEQUENCE", "FUNCTION",
    "PROCEDURE", "TRIGGER", "SCHEMA", "EXTENSION", "DOMAIN", "CONSTRAINT", "POLICY", "RULE",
    "FOREIGN", "PUBLICATION", "SUBSCRIPTION", "ROLE", "USER", "DATABASE", "AGGREGATE",
    "OPERATOR", "COLLATION", "STATISTICS", "EVENT", "LABEL", "FULL", "DEFAULT", "PRIVILEGES",
})
_SKIP_WORDS = frozenset({"UNIQUE", "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "IF", "NOT",
                         "EXISTS", "GLOBAL", "LOCAL", "RECURSIVE", "TRUSTED", "PROCEDURAL"})
_TEMP_WORDS = frozenset({"TEMP", "TEMPORARY"})
_PREAMBLE = frozenset({"BEGIN", "START", "SET", "RESET"})
_WORD = re.compile(r"[A-Za-z_]+")
_COMMENTS = re.compile(r"\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/)", re.S)


def statement_kind(query: str | None) -> str | None:
    """The first DDL command in ``query`` (e.g. ``CREATE INDEX CONCURRENTLY``), None if none."""
    if not query:
        return None
    for text in _statements(query):
        kind = command_of(text)
        if kind is not None:
            return kind
    return None


def main_statement(query: str) -> str:
    """``query`` without the leading ``BEGIN``/``SET`` the runner sends along with a statement."""
    parts = _statements(query)
    for index, text in enumerate(parts):
        words = _leading_words(text, 1)
        if not words or words[0] not in _PREAMBLE:
            return ";".join(parts[index:]).strip()
    return query.strip()


_RUNNER_SETS = tuple(f"SET {scope} {name}" for scope in ("SESSION", "LOCAL")
                     for name in ("lock_timeout", "statement_timeout", "application_name"))


def running_statement(query: str, number: int, file: str | None = None) -> str | None:
    """Statement ``number`` of migration ``file`` in the string the runner sent (``query``),
    without what it sends along: BEGIN and SETs first, a progress mark (which names the
    statement) between statements.

    Quick migrations may share one string (a chain): ``file``'s statements follow the tag that
    names it. None when the text the server shows (cut at ``track_activity_query_size``) does
    not reach them.
    """
    parts = [part.strip() for part in _statements(query)]
    tagged = [i for i, part in enumerate(parts) if "application_name" in part]
    named = [i for i in tagged if file and MARKER_NAME not in parts[i] and f" {file}'" in parts[i]]
    if named:
        mine = named[0] + 1
    elif tagged and file:
        return None  # another migration's part of the string: this one's is cut off
    else:
        mine = 0
        if parts and _leading_words(parts[0], 1) == ["BEGIN"]:
            mine = 1
            while mine < len(parts) and parts[mine].startswith(_RUNNER_SETS):
                mine += 1
    statements = [part for part in parts[mine:] if MARKER_NAME not in part]
    return statements[number - 1] if 0 < number <= len(statements) else None


# Where the runner names itself in the string it sends: SET ... application_name = '...' or
# set_config('application_name', '...', true).
_TAG_NAME = re.compile(r"application_name(?:\s*=\s*|',\s*)'((?:[^']|'')*)'")
NAME_BYTES = 63  # NAMEDATALEN - 1: where PostgreSQL cuts an application_name


def sent_name(query: str, shown: str) -> str | None:
    """The application_name set in ``query`` that ``pg_stat_activity`` shows as ``shown``.

    The server keeps printable ASCII only (other bytes become ``?``, or ``\\xNN`` from
    PostgreSQL 16 on) and cuts the result at 63 bytes: a long or non-ASCII migration file name
    reads there only in part. None when no name in ``query`` reads as ``shown``.
    """
    for match in _TAG_NAME.finditer(query):
        sent = match.group(1).replace("''", "'")
        if shown in (_as_shown(sent, escape=False), _as_shown(sent, escape=True)):
            return sent
    return None


def _as_shown(name: str, *, escape: bool) -> str:
    text = "".join(chr(byte) if 32 <= byte <= 126 else (f"\\x{byte:02x}" if escape else "?")
                   for byte in name.encode())
    return text[:NAME_BYTES]


def command_of(statement: str) -> str | None:
    """The DDL command a single statement starts with, None for DML, SET, BEGIN and the like."""
    words = _leading_words(statement, 8)
    if not words or words[0] not in DDL_VERBS:
        return None
    if words[0] == "CREATE" and _TEMP_WORDS.intersection(words[1:3]):
        return None  # a temporary table, view or sequence is its session's alone: no DDL
    parts = [words[0]]
    for word in words[1:]:
        if word in _OBJECT_WORDS:
            parts.append(word)
        elif word not in _SKIP_WORDS:
            break
    if parts[0] == "LOCK" and len(parts) == 1:
        parts.append("TABLE")
    return " ".join(parts)


def _leading_words(statement: str, limit: int) -> list[str]:
    position = 0
    while True:
        match = _COMMENTS.match(statement, position)
        if match is None or match.end() == position:
            break
        position = match.end()
    words = []
    for match in _WORD.finditer(statement, position):
        if match.start() > position and statement[position:match.start()].strip() not in ("", ","):
            break
        words.append(match.group().upper())
        position = match.end()
        if len(words) == limit:
            break
    return words


def _statements(query: str) -> list[str]:
    try:
        import pglast

        return list(pglast.split(query, with_parser=False))
    except Exception:  # truncated text, or pglast missing: a rough split is enough for keywords
        return [part for part in query.split(";") if part.strip()]
