"""concurrently-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, name_key, option_enabled, strings
from pgshift.lint.rule import Rule, Violation, register

# Statements PostgreSQL runs only outside a transaction block, by node type (as
# pgshift.migrations.statements.needs_no_transaction knows them, on this linter's parse trees).
_NEVER_IN_TRANSACTION = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
}


@register
class ConcurrentlyInTransaction(Rule):
    """CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY, or
    another statement PostgreSQL refuses in a transaction block (VACUUM, REINDEX SYSTEM or
    DATABASE, CREATE/DROP DATABASE, ALTER SYSTEM, CREATE/DROP TABLESPACE, DISCARD ALL, ALTER
    DATABASE … SET TABLESPACE; before PostgreSQL 12 ALTER TYPE … ADD VALUE on a type the
    transaction did not create), inside a transaction block.

    PostgreSQL refuses them with "cannot run inside a transaction block", so the migration
    fails. With ``--runner pgshift`` every file runs in one transaction unless it says
    ``-- pgshift:no-transaction``; with ``--runner psql`` only an explicit BEGIN makes one. A DO
    block is always a single transaction.

    Safe way: put the statement in a migration of its own marked
    ``-- pgshift:no-transaction`` (or, for other tools, with the tool's transaction turned off
    and no BEGIN around it).
    """

    id = "concurrently-in-transaction"
    always = True
    nodes = ("IndexStmt", "DropStmt", "ReindexStmt", "AlterTableCmd", "VacuumStmt",
             "DiscardStmt", "AlterDatabaseStmt", "AlterEnumStmt", *_NEVER_IN_TRANSACTION)

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        what = _concurrent_operation(node, ctx) or _transactionless(node, ctx)
        if what is None or not ctx.in_transaction:
            return
        if ctx.statement is not None and ctx.statement.in_do:
            where = "inside a DO block"
        elif ctx.tx.runner_transaction:
            where = f"in the transaction {ctx.tx.wrapper} wraps around this file"
        else:
            where = "inside the transaction opened by BEGIN"
        yield ctx.violation(
            self,
            f"{what} cannot run {where}: PostgreSQL fails with 'cannot run inside a "
            "transaction block'",
            f"run it {ctx.no_transaction_way}" if ctx.tx.wrapper == "pgshift" else
            f"run it in a {ctx.tx.wrapper} migration without a transaction (its no-transaction "
            "marker)",
        )


def _concurrent_operation(node: Node, ctx: Context) -> str | None:
    kind = ctx.statement.kind if ctx.statement is not None else ""
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and option_enabled(node.get("params"), "concurrently"):
        return "REINDEX CONCURRENTLY"
    part = (node.get("def") or {}).get("PartitionCmd") or {}
    if kind == "AlterTableStmt" and node.get("subtype") == "AT_DetachPartition" and part.get(
            "concurrent"):
        return "DETACH PARTITION CONCURRENTLY"
    return None


def _transactionless(node: Node, ctx: Context) -> str | None:
    """What PostgreSQL refuses in a transaction block whatever its options say."""
    kind = ctx.statement.kind if ctx.statement is not None else ""
    if kind in _NEVER_IN_TRANSACTION:
        return _NEVER_IN_TRANSACTION[kind]
    if kind == "VacuumStmt" and node.get("is_vacuumcmd"):
        return "VACUUM"  # ANALYZE alone runs in a transaction
    if kind == "ReindexStmt" and node.get("kind") in ("REINDEX_OBJECT_SYSTEM",
                                                      "REINDEX_OBJECT_DATABASE"):
        return f"REINDEX {node['kind'].rsplit('_', 1)[1]}"
    if kind == "DiscardStmt" and node.get("target") == "DISCARD_ALL":
        return "DISCARD ALL"
    if kind == "AlterDatabaseStmt" and "tablespace" in {
            (o.get("DefElem") or {}).get("defname") for o in node.get("options") or ()}:
        return "ALTER DATABASE … SET TABLESPACE"
    if kind == "AlterEnumStmt" and ctx.pg_version < 12 and node.get("newVal") is not None \
            and node.get("oldVal") is None:
        key = name_key(strings(node.get("typeName")))
        if key not in ctx.created.types:  # a type the same transaction created may change
            return "ALTER TYPE … ADD VALUE (before PostgreSQL 12)"
    return None
