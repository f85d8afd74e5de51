"""EXPLAIN plans of prepared statements, summarised and compared before/after a migration.

Plans are the generic plan of the prepared statement (``plan_cache_mode = force_generic_plan``),
so parameter values do not matter and ``NULL`` can stand for each of them. Nothing is executed.
"""

from __future__ import annotations

import json
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
    cur.execute("SET plan_cache_mode = force_generic_plan")
    try:
        cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}{}").format(sql.Identifier(name),
                                                                        args))
        document = cur.fetchone()[0]
    finally:
        cur.execute("RESET plan_cache_mode")
    if isinstance(document, str):
        document = json.loads(document)
    return summarise(document[0]["Plan"])


def explain_generic(cur: Any, text: str) -> PlanSummary:
    """The generic plan of the query ``text`` without any parameter value (``EXPLAIN
    (GENERIC_PLAN)``, PostgreSQL 16 and later): for queries that NULL parameters make fail."""
    cur.execute(sql.SQL("EXPLAIN (GENERIC_PLAN, FORMAT JSON) ") + sql.SQL(text))
    document = cur.fetchone()[0]
    if isinstance(document, str):
        document = json.loads(document)
    return summarise(document[0]["Plan"])


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
                        f"{after.total_cost:.1f} (more than {threshold:.0%})")
    return problems
