"""vacuum-full-or-cluster."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, option_enabled, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class VacuumFullOrCluster(Rule):
    """VACUUM FULL or CLUSTER.

    Both rewrite the whole table (and rebuild its indexes) while holding ACCESS EXCLUSIVE:
    reads and writes are blocked until the copy finishes.

    Safe way: pg_repack or pg_squeeze, which rebuild the table online; from PostgreSQL 19,
    ``REPACK (CONCURRENTLY)``.
    """

    id = "vacuum-full-or-cluster"
    nodes = ("VacuumStmt", "ClusterStmt")
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        assert ctx.statement is not None
        if ctx.statement.kind == "VacuumStmt":
            if not node.get("is_vacuumcmd") or not option_enabled(node.get("options"), "full"):
                return
            rels = [relation_key((r.get("VacuumRelation") or {}).get("relation"))
                    for r in node.get("rels") or ()]
            what = "VACUUM FULL"
        else:
            rels = [relation_key(node.get("relation"))] if node.get("relation") else []
            what = "CLUSTER"
        existing = [r for r in rels if not ctx.is_new(r)]
        if rels and not existing:
            return
        target = ", ".join(existing) if existing else "every table"
        hint = ("REPACK (CONCURRENTLY)" if ctx.pg_version >= 19
                else "pg_repack or pg_squeeze, which rebuild the table online")
        yield ctx.violation(
            self,
            f"{what} rewrites {target} under ACCESS EXCLUSIVE: reads and writes are blocked "
            "until the copy finishes",
            hint,
            table=existing[0] if len(existing) == 1 else None,
        )
