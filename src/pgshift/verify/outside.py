"""Statements that reach outside any database server, refused wherever a replay runs (a
throwaway server with ``--embedded`` too, which cannot help here).

- A subscription that connects to its publisher, is enabled, or is dropped with its
  replication slot: each makes, uses or drops a slot on the publisher, another server (using
  the real subscriber's slot would take its changes). ``WITH (connect = false)``, and ``SET
  (slot_name = NONE)`` before the ``DROP SUBSCRIPTION``, keep it to the scratch database,
  which verify then drops with it (``scratch.drop_database`` detaches what is left).
- ``COPY`` to a file, or from or to a program, of the server's machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pgshift.errors import InputError

if TYPE_CHECKING:
    from pgshift.migrations.model import Migration
    from pgshift.migrations.statements import Statement
    from pgshift.runner import Direction


def refuse_outside(migrations: Sequence[Migration], *, down: bool = False) -> None:
    """InputError at the first statement of ``migrations`` (their down parts too when
    ``down``) that reaches outside any database server."""
    for migration, statement, what in outside_statements(migrations, down=down):
        subscription = "SUBSCRIPTION" in what
        why = ("a subscription reaches its publisher, another server (where a replication slot "
               "is made, used or dropped)" if subscription
               else "a replay would do that on the database server's machine")
        raise InputError(f"{what}: {why}, whatever server the replay runs on",
                         path=statement.path, line=statement.line, migration=migration.label,
                         hint=_DETACHED if subscription else _BY_HAND)


_BY_HAND = ("write the file or run the program outside the migrations: verify cannot replay "
            "this without doing it")
_DETACHED = ("make it WITH (connect = false), and detach it before DROP SUBSCRIPTION: ALTER "
             "SUBSCRIPTION ... DISABLE, then ALTER SUBSCRIPTION ... SET (slot_name = NONE)")


def outside_statements(migrations: Sequence[Migration], *, down: bool = False
                       ) -> Iterator[tuple[Migration, Statement, str]]:
    """Each statement of ``migrations`` that reaches outside any database server: a
    subscription's publisher (a replay anywhere, on a throwaway server too, would make, use or
    drop a replication slot there), the server machine's files and programs (``COPY TO``
    a file, ``COPY ... PROGRAM``)."""
    from pgshift.runner import body_statements

    for migration in migrations:
        both = down and migration.down_sql is not None
        directions: tuple[Direction, ...] = ("up", "down") if both else ("up",)
        for direction in directions:
            detached: set[str] = set()  # slot_name = NONE: DROP SUBSCRIPTION stays here
            for statement in body_statements(migration, direction):
                what = _on_publisher(statement.node, detached) or _on_host(statement.node)
                if what is not None:
                    yield migration, statement, what


def _on_publisher(node: Any, detached: set[str]) -> str | None:
    kind = type(node).__name__
    if kind == "CreateSubscriptionStmt":
        if _option(node.options, "connect") in _FALSE:
            if _option(node.options, "slot_name") == "none":
                detached.add(node.subname)
            return None
        return f"CREATE SUBSCRIPTION {node.subname}"
    if kind == "AlterSubscriptionStmt":
        change = node.kind.name.removeprefix("ALTER_SUBSCRIPTION_")
        if change == "OPTIONS":
            slot = _option(node.options, "slot_name")
            if slot is not None:
                (detached.add if slot == "none" else detached.discard)(node.subname)
            return None
        if change == "ENABLED" and _option(node.options, "enabled") in _FALSE:
            return None
        return f"ALTER SUBSCRIPTION {node.subname} {change.replace('_', ' ')}"
    if kind == "DropSubscriptionStmt" and node.subname not in detached:
        return f"DROP SUBSCRIPTION {node.subname}"
    return None


def _on_host(node: Any) -> str | None:
    if type(node).__name__ != "CopyStmt" or node.filename is None:
        return None
    if node.is_program:
        return f"COPY {'FROM' if node.is_from else 'TO'} PROGRAM '{node.filename}'"
    return None if node.is_from else f"COPY TO the file '{node.filename}'"


_FALSE = ("false", "off", "no", "0")


def _option(options: Any, name: str) -> str | None:
    """A WITH option's value as lowercase text (None when not given)."""
    for item in options or ():
        if item.defname == name:
            arg = item.arg
            if hasattr(arg, "boolval"):
                return "true" if arg.boolval else "false"
            if hasattr(arg, "names"):  # a bare word: off, none
                return str(getattr(arg.names[-1], "sval", "")).lower()
            return str(getattr(arg, "sval", getattr(arg, "ival", "true"))).lower()
    return None
