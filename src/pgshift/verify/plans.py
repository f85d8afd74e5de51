"""EXPLAIN plans of prepared statements, summarised and compared before/after a migration.

Plans are the generic plan of the prepared statement (``plan_cache_mode = force_generic_plan``),
so parameter values do not matter and ``NULL`` can stand for each of them. The query is not
executed. But the tables its plan reads are vacuumed first (in a session outside a transaction):
verify runs each query once, rolled back, before and after a migration, and what a rolled-back
UPDATE or INSERT wrote stays in the table until a vacuum, costed by the planner as if it were
live. Without it the same query costs more after each check, and a migration that changes
nothing would be blamed for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
MIN_COST_GROWTH = 10.0  # below this many cost units a growth is noise, whatever the ratio


@dataclass(frozen=True)
class PlanSummary:
    """What matters in a plan for a comparison: its cost and how it reads each table."""

    total_cost: float
    index_scans: frozenset[str]  # index names
    seq_scans: frozenset[str]    # relation names

    def describe(self) -> str:
        how = [f"index {i}" for i in sorted(self.index_scans)]
        how += [f"seq scan on {r}" for r in sorted(self.seq_scans)]
        return f"cost {self.total_cost:.1f}" + (f", {', '.join(how)}" if how else "")


def explain(cur: Any, name: str, parameters: int) -> PlanSummary:
    """The generic plan of prepared statement ``name`` (which takes ``parameters`` values)."""
    args = sql.SQL("")
    if parameters:
        args = sql.SQL("({})").format(sql.SQL(", ").join([sql.SQL("NULL")] * parameters))
    statement = sql.SQL("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {}{}").format(
        sql.Identifier(name), args)
    with _generic_plans(cur):
        return summarise(_settled_plan(cur, statement))


def explain_generic(cur: Any, text: str) -> PlanSummary:
    """The generic plan of the query ``text`` without any parameter value (``EXPLAIN
    (GENERIC_PLAN)``, PostgreSQL 16 and later): for queries that NULL parameters make fail.
    ``text`` must be one statement (see ``pgshift.verify.queries.Query``)."""
    return summarise(_settled_plan(
        cur, sql.SQL("EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) ") + sql.SQL(text)))


def _settled_plan(cur: Any, statement: sql.Composable) -> dict[str, Any]:
    """The plan of ``statement`` (an EXPLAIN), made again once the tables it reads are
    vacuumed, when that could be done. Made again, not read from the plan cache: a vacuum
    that leaves a table's statistics as they were invalidates no plan made before it."""
    plan = _plan(cur, statement)
    if not _vacuum(cur, _relations(plan)):
        return plan
    cur.execute("DISCARD PLANS")  # the session's prepared statements stay, planned anew
    return _plan(cur, statement)


def _plan(cur: Any, statement: sql.Composable) -> dict[str, Any]:
    cur.execute(statement)
    document = cur.fetchone()[0]
    if isinstance(document, str):
        document = json.loads(document)
    return dict(document[0]["Plan"])


def _relations(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(schema, name) of each table ``plan`` reads or writes (EXPLAIN VERBOSE names both)."""
    found: set[tuple[str, str]] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") and node.get("Schema"):
            found.add((str(node["Schema"]), str(node["Relation Name"])))
        stack.extend(node.get("Plans", ()))
    return sorted(found)


def _vacuum(cur: Any, relations: list[tuple[str, str]]) -> bool:
    """``VACUUM`` ``relations`` (skipping one another session locks); False when it was not
    done: none to vacuum, a session in a transaction (VACUUM cannot run there), or an error."""
    import psycopg2
    import psycopg2.extensions

    conn = cur.connection
    if not relations or not conn.autocommit or (
            conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE):
        return False
    skip = sql.SQL(" (SKIP_LOCKED)") if conn.server_version >= 120000 else sql.SQL("")
    tables = sql.SQL(", ").join(sql.Identifier(*relation) for relation in relations)
    try:
        cur.execute(sql.SQL("VACUUM{} {}").format(skip, tables))
    except psycopg2.Error:  # a table of another owner is skipped with a warning, not this
        return False
    return True


@contextmanager
def _generic_plans(cur: Any) -> Iterator[None]:
    """``plan_cache_mode = force_generic_plan`` for the session meanwhile, then what it was
    (left alone when the caller's transaction failed: its rollback undoes the setting)."""
    import psycopg2.extensions

    cur.execute("SELECT current_setting('plan_cache_mode'), "
                "set_config('plan_cache_mode', 'force_generic_plan', false)")
    previous = cur.fetchone()[0]
    try:
        yield
    finally:
        if cur.connection.get_transaction_status() != (
                psycopg2.extensions.TRANSACTION_STATUS_INERROR):
            cur.execute("SELECT set_config('plan_cache_mode', %s, false)", (previous,))


def summarise(plan: dict[str, Any]) -> PlanSummary:
    indexes: set[str] = set()
    seqs: set[str] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        kind = node.get("Node Type")
        if kind in INDEX_NODES and node.get("Index Name"):
            indexes.add(str(node["Index Name"]))
        elif kind == "Seq Scan" and node.get("Relation Name"):
            seqs.add(str(node["Relation Name"]))
        stack.extend(node.get("Plans", ()))
    return PlanSummary(float(plan.get("Total Cost", 0.0)), frozenset(indexes), frozenset(seqs))


def compare_plans(before: PlanSummary, after: PlanSummary, *, threshold: float) -> list[str]:
    """Why ``after`` is worse than ``before``: lost index scans, cost growth over ``threshold``.

    ``threshold`` is a fraction: 0.5 flags a cost more than 1.5 times the one before.
    """
    problems = []
    lost = before.index_scans - after.index_scans
    new_seq = after.seq_scans - before.seq_scans
    # Another index taking over is fine; a table read in full instead is what hurts.
    if lost and (new_seq or not after.index_scans):
        now = ", ".join(f"seq scan on {r}" for r in sorted(new_seq)) or after.describe()
        problems.append(f"lost index scan on {', '.join(sorted(lost))} (now {now})")
    growth = after.total_cost - before.total_cost
    if growth > MIN_COST_GROWTH and after.total_cost > before.total_cost * (1 + threshold):
        problems.append(f"estimated cost grew from {before.total_cost:.1f} to "
                        f"{after.total_cost:.1f} (more than {threshold * 100:g}%)")
    return problems
