"""Statements that reach past the scratch database: databases, roles, tablespaces, the server's
own configuration.

A replay on the configured server (``verify``, ``validate --schema-drift``, ``squash``) runs in
a scratch database beside the target, but these objects belong to the whole server: a pending
``ALTER DATABASE shop SET work_mem = '7MB'`` replayed there would change the target itself. They
are found with PostgreSQL's parser before anything is replayed, and refused on the configured
server; on a throwaway server (``--embedded``) they change nothing of the user's.

A role that does not exist before the replay can only be one the replay makes (and drops
afterwards, see ``ScratchDatabase.new_roles``): statements on it are allowed.

What runs inside counts as much as what runs outside (``pgshift.verify.bodies``):

- A ``DO`` block's statements, and those of every function or procedure the replayed
  migrations create (PL/pgSQL or SQL), are judged like top-level ones, naming the line inside
  the body. A function is looked into whether or not a migration calls it: a trigger, an event
  trigger, a column default, the sample rows of ``--with-data`` or another function may call it
  during the replay, and which ones do cannot be known before they run.
- SQL built at run time (``EXECUTE`` of a computed string, ``FOR ... IN EXECUTE``, ``RETURN
  QUERY EXECUTE``) is read when it is built of literals, ``||``, ``format()``, ``quote_ident()``
  and ``current_database()``: ``EXECUTE format('ALTER DATABASE %I SET timezone = ''UTC''',
  current_database())`` changes the database it runs in, which on the configured server is the
  scratch database (dropped afterwards), and is replayed; naming any other database is refused.
- Other SQL built at run time cannot be known before it runs: a body that runs some is
  refused when its string literals, put together, say such a statement (``'ALTER ROLE ' ||
  name``, ``format('GRANT %I TO %I', ...)``) or name ``DATABASE``, ``TABLESPACE`` or ``SYSTEM``
  at all. SQL taken whole from a function's argument or a table's rows is not known and is
  allowed; a call that passes such SQL as a literal (``SELECT run_sql('ALTER DATABASE shop
  ...')``) is refused.
- A body in another language (PL/Python, PL/Perl...), or one the parsers cannot read, is refused
  when its text says such a statement.
- Functions that were on the server before the replay (copied with ``--from``, or made by hand)
  are not looked into.

Statements that reach outside any database server are refused wherever the replay runs:
``pgshift.verify.outside``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pgshift.errors import InputError
from pgshift.verify.bodies import CURRENT_DATABASE

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement
    from pgshift.runner import Direction

HINT = "pass --embedded to replay on a throwaway server, where it changes nothing of yours"

# What SQL text may say that reaches past its database, where only its words are known (SQL
# built at run time, a body in another language). A GRANT or REVOKE without ON is of a role;
# a role made under a name known only at run time could not be dropped after the replay.
_SAYS = re.compile(
    r"\b(?:(?:alter|drop|create)\s+(?:database|tablespace|role|user|group)"
    r"|alter\s+system|(?:drop|reassign)\s+owned|(?:comment|security\s+label)\s+on\s+"
    r"(?:database|role|tablespace)|on\s+(?:database|tablespace|parameter)\b"
    r"|(?:grant|revoke)\s+(?:(?!\bon\b)[^;'])*?\b(?:to|from)\b)",
    re.IGNORECASE)
_ROLE_WORD = re.compile(r"role|user|group", re.IGNORECASE)
# Words that SQL built at run time has no business saying on a database's own objects.
_NAMED = re.compile(r"\b(?:database|tablespace|system)\b", re.IGNORECASE)


def refuse_server_wide(conn: Connection, migrations: Sequence[Migration], *,
                       down: bool = False) -> None:
    """InputError at the first statement of ``migrations`` (their down parts too when ``down``)
    that would change a server-wide object, unless ``conn`` is on a throwaway server; or that
    reaches outside any server (``pgshift.verify.outside``), wherever ``conn`` is."""
    from pgshift.verify.outside import refuse_outside
    from pgshift.verify.scratch import on_throwaway_server

    refuse_outside(migrations, down=down)  # whatever server the replay runs on
    if not migrations or on_throwaway_server(conn):
        return
    with conn.cursor() as cur:
        cur.execute("SELECT rolname FROM pg_roles")
        existing = {row[0] for row in cur.fetchall()}
    for migration, statement, what in server_wide_statements(migrations, existing, down=down):
        raise InputError(f"{what}: databases, roles and tablespaces belong to the whole "
                         "server, and a replay beside the target would change them there",
                         path=statement.path, line=statement.line, migration=migration.label,
                         hint=HINT)


def server_wide_statements(migrations: Sequence[Migration], existing_roles: set[str] | None,
                           *, down: bool = False) -> Iterator[tuple[Migration, Statement, str]]:
    """Each statement of ``migrations`` that reaches past its database, with what it reaches
    (e.g. ``ALTER DATABASE shop``). ``existing_roles``: the roles on the server before the
    replay (None: every role counts as existing)."""
    from pgshift.runner import body_statements

    for migration in migrations:
        both = down and migration.down_sql is not None
        directions: tuple[Direction, ...] = ("up", "down") if both else ("up",)
        for direction in directions:
            for statement in body_statements(migration, direction):
                found = _reaching(statement.node, statement.text, existing_roles, 0)
                if found is not None:
                    what, lines = found  # lines: how far into the statement (a body's line)
                    at = dataclasses.replace(statement, line=statement.line + lines) \
                        if lines else statement
                    yield migration, at, what


def created_roles(migrations: Sequence[Migration]) -> set[str]:
    """The roles ``migrations`` create, up and down, in DO blocks and function bodies too: those
    a replay makes, to drop afterwards. A role named only at run time is not among them (and
    refused on the configured server: see ``_SAYS``)."""
    from pgshift.runner import body_statements

    names: set[str] = set()
    for migration in migrations:
        directions: tuple[Direction, ...] = ("up", "down") if (
            migration.down_sql is not None) else ("up",)
        for direction in directions:
            for statement in body_statements(migration, direction):
                if _ROLE_WORD.search(statement.text):  # else no tree to build: seed data
                    names.update(_roles_made(statement.node, statement.text, 0))
    return names


def _roles_made(node: Any, text: str, depth: int) -> Iterator[str]:
    kind = type(node).__name__
    if kind == "CreateRoleStmt":
        yield str(node.role)
    elif kind in ("DoStmt", "CreateFunctionStmt") and depth < _MAX_DEPTH:
        from pgshift.verify.bodies import body_of

        body = body_of(node, text)
        for statement, sql, _line in body.statements if body is not None else ():
            yield from _roles_made(statement, sql, depth + 1)


def reach(node: Any, existing_roles: set[str] | None) -> str | None:
    """What server-wide object ``node`` changes (``"ALTER DATABASE shop"``), or None; inside a
    DO block or a function's body too."""
    found = _reaching(node, "", existing_roles, 0)
    return None if found is None else found[0]


_MAX_DEPTH = 8  # DO blocks in EXECUTE literals in functions in DO blocks...


def _reaching(node: Any, text: str, existing_roles: set[str] | None, depth: int
              ) -> tuple[str, int] | None:
    """What ``node`` (parsed from ``text``, "" when unknown) reaches, and how many lines into
    ``text`` (0: the statement's first line)."""
    kind = type(node).__name__
    what = _direct(kind, node, existing_roles)
    if what is not None:
        return what, 0
    if kind in ("DoStmt", "CreateFunctionStmt"):
        return _in_body(node, text, existing_roles, depth)
    if kind == "CreateSchemaStmt":
        for element in node.schemaElts or ():
            found = _reaching(element, "", existing_roles, depth)
            if found is not None:
                return found[0], 0
        return None
    said = _passed_as_literal(node, text)
    return None if said is None else (f"a call that passes '{said}'", 0)


def _direct(kind: str, node: Any, existing_roles: set[str] | None) -> str | None:
    """What a statement on a server-wide object changes, or None."""
    if kind in _DATABASE:
        if node.dbname == CURRENT_DATABASE:
            return None  # built with current_database(): the scratch database itself
        return f"{_DATABASE[kind]} {node.dbname}"
    if kind in _WHOLE_SERVER:
        return _WHOLE_SERVER[kind]
    if kind in ("RenameStmt", "AlterOwnerStmt", "CommentStmt", "SecLabelStmt", "GrantStmt"):
        return _on_shared_object(kind, node, existing_roles)
    return _on_roles(kind, node, existing_roles)


def _in_body(node: Any, text: str, existing_roles: set[str] | None, depth: int
             ) -> tuple[str, int] | None:
    """What the body of a DO block or a function runs that reaches past its database."""
    from pgshift.verify.bodies import body_of

    body = body_of(node, text)
    if body is None:
        return None
    if body.opaque:
        found = _SAYS.search(body.text)
        return None if found is None else (f"{body.who} says {_words(found[0])}", body.line)
    if depth < _MAX_DEPTH:
        for statement, sql, line in body.statements:
            inner = _reaching(statement, sql, existing_roles, depth + 1)
            if inner is not None:
                return f"{body.who} runs {inner[0]}", body.line + line - 1
    if body.dynamic:
        known = " ".join(body.literals)
        found = _SAYS.search(known) or _NAMED.search(known)
        if found is not None:
            return (f"{body.who} runs SQL built at run time that says {_words(found[0])}",
                    body.line + body.dynamic[0] - 1)
    return None


def _passed_as_literal(node: Any, text: str) -> str | None:
    """What string literals passed to a function say, when that is a server-wide statement
    (the function may run it: ``SELECT run_sql('ALTER DATABASE shop ...')``)."""
    if text and _SAYS.search(text) is None:
        return None  # the cheap test first: most statements say nothing of the kind
    from pglast import ast
    from pglast.visitors import Visitor

    passed: list[str] = []

    class Strings(Visitor):
        def visit_A_Const(self, _ancestors: Any, const: Any) -> None:
            if isinstance(const.val, ast.String):
                passed.append(str(const.val.sval))

    class Calls(Visitor):
        def visit_FuncCall(self, _ancestors: Any, call: Any) -> None:
            if call.args:
                Strings()(call.args)

    Calls()(node)
    found = _SAYS.search(" ".join(passed))
    return None if found is None else _words(found[0])


def _words(text: str) -> str:
    return " ".join(text.split())


_DATABASE = {"AlterDatabaseStmt": "ALTER DATABASE", "AlterDatabaseSetStmt": "ALTER DATABASE",
             "AlterDatabaseRefreshCollStmt": "ALTER DATABASE", "CreatedbStmt": "CREATE DATABASE",
             "DropdbStmt": "DROP DATABASE"}
_WHOLE_SERVER = {"AlterSystemStmt": "ALTER SYSTEM", "CreateTableSpaceStmt": "CREATE TABLESPACE",
                 "DropTableSpaceStmt": "DROP TABLESPACE",
                 "AlterTableSpaceOptionsStmt": "ALTER TABLESPACE"}
_SHARED = {"OBJECT_DATABASE": "DATABASE", "OBJECT_TABLESPACE": "TABLESPACE",
           "OBJECT_ROLE": "ROLE", "OBJECT_PARAMETER_ACL": "PARAMETER"}
_VERB = {"RenameStmt": "ALTER", "AlterOwnerStmt": "ALTER", "CommentStmt": "COMMENT ON",
         "SecLabelStmt": "SECURITY LABEL ON", "GrantStmt": "GRANT ON"}


def _on_shared_object(kind: str, node: Any, existing_roles: set[str] | None) -> str | None:
    objtype = node.renameType if kind == "RenameStmt" else (
        node.objectType if kind == "AlterOwnerStmt" else node.objtype)
    shared = _SHARED.get(getattr(objtype, "name", ""))
    if shared is None:
        return None
    if kind == "RenameStmt":
        name = node.subname
    elif kind == "GrantStmt":
        name = ", ".join(_text(o) for o in node.objects or ())
    else:
        name = _text(node.object)
    if shared == "ROLE" and not _existing([name], existing_roles):
        return None
    if shared == "DATABASE" and name == CURRENT_DATABASE:
        return None
    return f"{_VERB[kind]} {shared} {name}"


def _on_roles(kind: str, node: Any, existing_roles: set[str] | None) -> str | None:
    """ALTER, DROP, DROP OWNED, REASSIGN OWNED (which also reach databases and tablespaces) and
    memberships of roles that were there before the replay."""
    if kind in ("AlterRoleStmt", "AlterRoleSetStmt"):
        roles = [_role(node.role)] if node.role is not None else ["ALL"]
        verb = "ALTER ROLE"
    elif kind in ("DropRoleStmt", "DropOwnedStmt", "ReassignOwnedStmt"):
        roles = [_role(r) for r in node.roles or ()]
        verb = {"DropRoleStmt": "DROP ROLE", "DropOwnedStmt": "DROP OWNED BY",
                "ReassignOwnedStmt": "REASSIGN OWNED BY"}[kind]
    elif kind == "GrantRoleStmt":
        # A membership goes with either of its roles: one of them new is dropped afterwards.
        granted = _existing([p.priv_name for p in node.granted_roles or ()], existing_roles)
        grantees = _existing([_role(r) for r in node.grantee_roles or ()], existing_roles)
        if not (granted and grantees):
            return None
        return f"{'GRANT' if node.is_grant else 'REVOKE'} {granted[0]} " \
               f"{'TO' if node.is_grant else 'FROM'} {grantees[0]}"
    else:
        return None
    old = _existing(roles, existing_roles)
    return f"{verb} {old[0]}" if old else None


def _existing(roles: Iterable[str], existing_roles: set[str] | None) -> list[str]:
    """Those of ``roles`` that were there before the replay (keywords such as CURRENT_USER
    always were)."""
    return [r for r in roles if existing_roles is None or r.isupper() or r in existing_roles]


def _role(spec: Any) -> str:
    """A RoleSpec's name; CURRENT_USER, SESSION_USER, CURRENT_ROLE or PUBLIC for the others."""
    name = getattr(spec, "rolename", None)
    if name is not None:
        return str(name)
    return str(spec.roletype.name).removeprefix("ROLESPEC_")


def _text(node: Any) -> str:
    return str(getattr(node, "sval", node))

