"""enum-value-used-in-transaction: a label ADD VALUE added, used in the same transaction.

Which literals a statement converts to which type is ``pgshift.lint.enum_literals``' job; this
module follows the file's CREATE TYPE, ADD VALUE and check_function_bodies, and reports a
converted label its transaction added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from pgshift.lint.context import Context
from pgshift.lint.enum_literals import (
    NOT_ENUM,
    Literal,
    Target,
    array_items,
    expression_literals,
    parsed_statements,
    statement_literals,
)
from pgshift.lint.nodes import Node, const_value
from pgshift.lint.plpgsql import do_body, do_body_tree, expressions
from pgshift.lint.rule import Rule, Violation, register

_ADD_VALUE = re.compile(rb"add\s+value", re.IGNORECASE)


class _Added(NamedTuple):
    type: str
    serial: int
    offset: int


@dataclass
class _State:
    added: dict[str, list[_Added]] = field(default_factory=dict)
    created: set[tuple[str, int]] = field(default_factory=set)  # CREATE TYPE … AS ENUM
    enums: set[str] = field(default_factory=set)  # the enum types the file creates or alters
    bodies_off: bool = False  # SET check_function_bodies = off (session)
    bodies_local: tuple[int, bool] | None = None  # SET LOCAL: (transaction serial, off)
    flagged: set[int] = field(default_factory=set)  # statement indexes already reported


def _type_name(node: Node) -> str:
    """The type's last name part (``app.mood`` and ``mood`` are alike: a file rarely has two)."""
    names = node.get("typeName") or []
    last = names[-1] if names else {}
    return str((last.get("String") or {}).get("sval", "")).lower()


def _bodies_off(ctx: Context, state: _State) -> bool:
    local = state.bodies_local
    return local[1] if local is not None and local[0] == ctx.tx.serial else state.bodies_off


def _note_setting(node: Node, ctx: Context, state: _State) -> None:
    """Follow ``SET [LOCAL] check_function_bodies``."""
    if (node.get("name") or "").lower() != "check_function_bodies":
        if node.get("kind") == "VAR_RESET_ALL":
            state.bodies_off, state.bodies_local = False, None
        return
    args = node.get("args") or []
    value = str(const_value(args[0]) if args else "").lower()
    if args and "String" in args[0]:
        value = args[0]["String"].get("sval", "").lower()
    off = node.get("kind") == "VAR_SET_VALUE" and value in ("off", "false", "0", "no", "f")
    if node.get("is_local"):
        state.bodies_local = (ctx.tx.serial, off)
    else:
        state.bodies_off, state.bodies_local = off, None


def _recorded(node: Node, ctx: Context, state: _State) -> _Added | None:
    """The label an ``ALTER TYPE … ADD VALUE`` adds that its transaction cannot use, if any.

    From PostgreSQL 17 a label of a type created in the same transaction is usable."""
    if node.get("oldVal") or not node.get("newVal"):
        return None  # RENAME VALUE
    type_name = _type_name(node)
    if ctx.pg_version >= 17 and (type_name, ctx.tx.serial) in state.created:
        return None
    return _Added(type_name, ctx.tx.serial, ctx.statement.offset if ctx.statement else -1)


def _converts(target: Target | None, added: _Added, state: _State) -> bool:
    """Whether converting to ``target`` reads ``added``'s type (None: the context decides,
    which the linter cannot see: assume it does)."""
    if target is None or target.name == added.type:
        return True
    # Not a built-in type nor another enum of this file: perhaps a domain over the enum.
    return not (target.catalog or target.name in NOT_ENUM or target.name in state.enums)


def _first_use(literals: Iterator[Literal], added: dict[str, list[_Added]], serial: int,
               offset: int, state: _State) -> tuple[str, str] | None:
    """``(label, type)`` of the first literal converting a label this transaction added."""
    for value, target in literals:
        if value is None:  # every label of the type
            for label, entries in added.items():
                for entry in entries:
                    if entry.serial == serial and entry.offset < offset and target is not None \
                            and target.name == entry.type:
                        return label, entry.type
            continue
        labels = array_items(value) if target is not None and target.array else [value]
        for label in labels:
            for entry in added.get(label, ()):
                if entry.serial == serial and entry.offset < offset and _converts(
                        target, entry, state):
                    return label, entry.type
    return None


def _do_use(node: Node, ctx: Context, state: _State) -> tuple[str, str] | None:
    """The first label a DO block's PL/pgSQL expressions (conditions, assignments, FOR
    queries…) use after it was added; its SQL statements are checked as statements."""
    found = do_body(node, ctx.source.data)
    serial = ctx.tx.serial
    pending = any(e.serial == serial for entries in state.added.values() for e in entries)
    if found is None or not (pending or _ADD_VALUE.search(found[0].encode())):
        return None
    tree = do_body_tree(found[0])
    if tree is None:
        return None
    added = {label: list(entries) for label, entries in state.added.items()}
    datums = tree.get("datums") or []
    offset = ctx.statement.offset if ctx.statement else 0
    for owner, stmt, expr in expressions(tree):
        if owner == "PLpgSQL_stmt_execsql":  # run as a statement: only note its ADD VALUE
            for kind, fields in parsed_statements(str(expr.get("query") or "")):
                entry = _recorded(fields, ctx, state) if kind == "AlterEnumStmt" else None
                if entry is not None:
                    added.setdefault(str(fields["newVal"]), []).append(entry._replace(offset=-1))
        elif owner not in ("PLpgSQL_stmt_perform", "PLpgSQL_stmt_dynexecute",
                           "PLpgSQL_stmt_dynfors"):  # statements, or SQL built at run time
            literals = expression_literals(stmt, expr, datums, ctx, not _bodies_off(ctx, state))
            use = _first_use(literals, added, serial, offset, state)
            if use is not None:
                return use
    return None


@register
class EnumValueUsedInTransaction(Rule):
    """A label ``ALTER TYPE … ADD VALUE`` added, used later in the same transaction.

    From PostgreSQL 12, ADD VALUE may run in a transaction block, but the new label cannot be
    used until that transaction commits (from PostgreSQL 17, unless the same transaction
    created the type): PostgreSQL fails the statement with "unsafe use of new value" and the
    migration rolls back. With ``--runner pgshift`` the whole file is one transaction.
    Before 12, ADD VALUE itself is refused in a transaction block
    (``concurrently-in-transaction``).

    A use is a string PostgreSQL converts to the enum when it parses the statement (so even
    under ``WHERE false``): a literal cast to the enum, to a domain over it or to an array of
    it, or one written where the enum is expected (an enum column's INSERT, SET or DEFAULT, a
    comparison or IN list, a parameter default, a CHECK, an index predicate), and
    ``enum_range``/``enum_last`` of the type. So are such literals in a DO block (its
    statements, conditions, assignments; every branch counts, though PostgreSQL only parses
    those that run) and in a ``LANGUAGE sql`` function's body, which PostgreSQL analyses at
    creation (unless ``check_function_bodies`` is off or a parameter is polymorphic); a
    PL/pgSQL function's body is not analysed until it is called. A literal cast to ``text``
    (or another built-in type) or to another enum, a LIKE pattern, a ``format()`` argument,
    or a literal stored in a column the linter knows is ``text`` is not converted: no use.
    Where the linter cannot see the type a bare literal meets, it counts it as a use.

    Safe way: add the label in one migration and use it (UPDATE, a DEFAULT, a CHECK) in the
    next one.
    """

    id = "enum-value-used-in-transaction"
    # Where a label is used: the statements a migration writes data, defaults, definitions
    # with; and CREATE TYPE, ADD VALUE and SET check_function_bodies, which it follows.
    nodes = ("CreateEnumStmt", "AlterEnumStmt", "UpdateStmt", "InsertStmt", "DeleteStmt",
             "SelectStmt", "MergeStmt", "AlterTableStmt", "CreateStmt", "AlterDomainStmt",
             "CreateDomainStmt", "CreateFunctionStmt", "DoStmt", "ViewStmt",
             "CreateTableAsStmt", "IndexStmt", "CreatePolicyStmt", "AlterPolicyStmt",
             "PrepareStmt", "ExplainStmt", "CallStmt", "RuleStmt", "VariableSetStmt")

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        statement = ctx.statement
        if ctx.pg_version < 12 or statement is None or node is not statement.node:
            return  # a WITH clause's UPDATE: walked with its statement already
        state: _State = ctx.rule_state(self, _State)
        kind = statement.kind
        if kind == "VariableSetStmt":
            _note_setting(node, ctx, state)
        elif kind == "CreateEnumStmt":
            state.enums.add(_type_name(node))
            state.created.add((_type_name(node), ctx.tx.serial))
        elif kind == "AlterEnumStmt":
            entry = _recorded(node, ctx, state) if ctx.in_transaction else None
            state.enums.add(_type_name(node))
            if entry is not None:
                state.added.setdefault(str(node["newVal"]), []).append(entry)
        elif statement.index not in state.flagged:
            use = self._use(kind, node, ctx, state)
            if use is not None:
                state.flagged.add(statement.index)
                yield self._violation(ctx, *use)

    @staticmethod
    def _use(kind: str, node: Node, ctx: Context, state: _State) -> tuple[str, str] | None:
        if kind == "DoStmt":  # a transaction of its own when outside one
            return _do_use(node, ctx, state)
        if not state.added or not ctx.in_transaction:
            return None  # the common case: no ADD VALUE earlier in the file, nothing to do
        serial, offset = ctx.tx.serial, ctx.statement.offset if ctx.statement else 0
        if not any(e.serial == serial for entries in state.added.values() for e in entries):
            return None
        literals = statement_literals(kind, node, ctx, not _bodies_off(ctx, state))
        return _first_use(literals, state.added, serial, offset, state)

    def _violation(self, ctx: Context, label: str, type_name: str) -> Violation:
        where = " (in the DO block)" if ctx.statement and ctx.statement.kind == "DoStmt" else ""
        return ctx.violation(
            self,
            f"'{label}' was added to {type_name} by ADD VALUE in this transaction and is used "
            f"here{where}: PostgreSQL refuses to use it before the transaction commits "
            "(unsafe use of new value)",
            f"add the value in one migration and use '{label}' in the next",
        )
