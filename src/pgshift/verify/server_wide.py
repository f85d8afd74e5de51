"""Statements that reach past the scratch database: databases, roles, tablespaces, the server's
own configuration.

A replay on the configured server (``verify``, ``validate --schema-drift``, ``squash``) runs in
a scratch database beside the target, but these objects belong to the whole server: a pending
``ALTER DATABASE shop SET work_mem = '7MB'`` replayed there would change the target itself. They
are found with PostgreSQL's parser before anything is replayed, and refused on the configured
server; on a throwaway server (``--embedded``) they change nothing of the user's.

A role that does not exist before the replay can only be one the replay makes (and drops
afterwards, see ``ScratchDatabase.new_roles``): statements on it are allowed. A ``DO`` block
cannot be parsed into, and may build its SQL at run time: one whose text names such a statement
is refused too. A function a migration calls is not looked into (docs/guarantees.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pgshift.errors import InputError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement
    from pgshift.runner import Direction

HINT = "pass --embedded to replay on a throwaway server, where it changes nothing of yours"

# What a DO block's text may say that reaches past its database (its SQL may be built at run
# time, so its words are all there is to go by). A GRANT or REVOKE without ON is of a role.
_IN_DO = re.compile(
    r"\b(?:(?:alter|drop|create)\s+(?:database|tablespace)|(?:alter|drop)\s+(?:role|user|group)"
    r"|alter\s+system|(?:drop|reassign)\s+owned|(?:comment|security\s+label)\s+on\s+"
    r"(?:database|role|tablespace)|on\s+(?:database|tablespace|parameter)\b"
    r"|(?:grant|revoke)\s+(?:(?!\bon\b)[^;'])*?\b(?:to|from)\b)",
    re.IGNORECASE)


def refuse_server_wide(conn: Connection, migrations: Sequence[Migration], *,
                       down: bool = False) -> None:
    """InputError at the first statement of ``migrations`` (their down parts too when ``down``)
    that would change a server-wide object, unless ``conn`` is on a throwaway server."""
    from pgshift.verify.scratch import on_throwaway_server

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
                what = reach(statement.node, existing_roles)
                if what is not None:
                    yield migration, statement, what


def reach(node: Any, existing_roles: set[str] | None) -> str | None:
    """What server-wide object ``node`` changes (``"ALTER DATABASE shop"``), or None."""
    kind = type(node).__name__
    if kind in _DATABASE:
        return f"{_DATABASE[kind]} {node.dbname}"
    if kind in _WHOLE_SERVER:
        return _WHOLE_SERVER[kind]
    if kind == "DoStmt":
        found = _IN_DO.search(_do_body(node))
        return None if found is None else f"a DO block that says {' '.join(found[0].split())}"
    if kind in ("RenameStmt", "AlterOwnerStmt", "CommentStmt", "SecLabelStmt", "GrantStmt"):
        return _on_shared_object(kind, node, existing_roles)
    return _on_roles(kind, node, existing_roles)


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


def _do_body(node: Any) -> str:
    return " ".join(_text(arg.arg) for arg in node.args or () if arg.defname == "as")
