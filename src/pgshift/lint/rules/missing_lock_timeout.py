"""missing-lock-timeout."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.locks import LOCKING_STATEMENTS, WHAT_IT_BLOCKS, statement_locks, strongest
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register


@register
class MissingLockTimeout(Rule):
    """A lock of SHARE or stronger on an existing relation with no ``lock_timeout`` in force.

    ALTER TABLE (except VALIDATE, SET STATISTICS, SET (storage options)), non-concurrent
    CREATE/DROP INDEX, REINDEX, DROP, TRUNCATE, VACUUM FULL, CLUSTER, REFRESH MATERIALIZED
    VIEW, LOCK, CREATE TRIGGER, CREATE/ALTER POLICY, CREATE TABLE … PARTITION OF, ALTER DOMAIN
    … ADD CONSTRAINT/VALIDATE CONSTRAINT/SET NOT NULL (on the tables using the domain) and
    foreign keys to existing tables all take such a lock. If a long transaction holds a
    conflicting lock, the statement waits, and every later query on the table queues behind
    it: even a "instant" ALTER takes the app down for as long as the wait lasts. ``SET
    LOCAL`` stops applying at COMMIT; ``--runner pgshift`` sets lock_timeout itself (unless
    ``-- pgshift:lock-timeout 0``). ``transaction_timeout`` counts from PostgreSQL 17.

    Reported once per file, at the first such statement.

    Safe way: ``SET lock_timeout = '2s'`` (1–5 s) before the statement, and retry with backoff
    when it times out.
    """

    id = "missing-lock-timeout"
    nodes = LOCKING_STATEMENTS

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        tx = ctx.tx
        if ctx.state.get(self.id):
            return
        if tx.in_force("lock_timeout") or (
                ctx.pg_version >= 17 and tx.in_force("transaction_timeout")):
            return
        assert ctx.statement is not None
        lock = strongest(statement_locks(ctx.statement.kind, node, ctx))
        if lock is None:
            return
        table, mode = lock
        ctx.state[self.id] = True
        if ctx.options.runner == "pgshift":
            hint = "remove '-- pgshift:lock-timeout 0' (pgshift then sets lock_timeout and retries)"
        else:
            hint = ("SET lock_timeout = '2s' before it (SET LOCAL inside the transaction) and "
                    "retry with backoff when it times out")
        yield ctx.violation(
            self,
            f"takes {mode} on {table} ({WHAT_IT_BLOCKS[mode]}) with no lock_timeout: if a long "
            f"transaction holds {table}, this waits and every later query on {table} queues "
            "behind it",
            hint,
        )
