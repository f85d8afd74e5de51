"""refresh-matview-non-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.context import Context
from pgshift.lint.nodes import Node, relation_key
from pgshift.lint.rule import Rule, Violation, register


@register
class RefreshMatviewNonConcurrent(Rule):
    """REFRESH MATERIALIZED VIEW without CONCURRENTLY.

    The view is rewritten (a new file) while holding ACCESS EXCLUSIVE on it: every read of the
    materialized view is blocked until the refresh finishes.

    ``WITH NO DATA`` is quick but empties the view: once it commits, every read of it fails
    ("materialized view … has not been populated") until a plain REFRESH fills it again
    (CONCURRENTLY cannot fill an unpopulated view). PostgreSQL refuses CONCURRENTLY together
    with WITH NO DATA, so that migration fails.

    Safe way: ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` (needs a unique index on the view; it
    takes EXCLUSIVE, so reads go on). Empty a view only when nothing reads it any more.
    """

    id = "refresh-matview-non-concurrent"
    nodes = ("RefreshMatViewStmt",)
    size_matters = True

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        key = relation_key(node.get("relation"))
        if node.get("skipData"):
            yield from self._no_data(key, bool(node.get("concurrent")), ctx)
        elif not node.get("concurrent") and not ctx.is_new(key):
            yield ctx.violation(
                self,
                f"REFRESH MATERIALIZED VIEW {key} rewrites it holding ACCESS EXCLUSIVE on it: "
                f"every read of {key} is blocked until the refresh finishes",
                f"REFRESH MATERIALIZED VIEW CONCURRENTLY {key} (needs a unique index on it)",
                table=key,
            )

    def _no_data(self, key: str, concurrent: bool, ctx: Context) -> Iterator[Violation]:
        # Not a matter of size: an empty view fails its readers however small it was.
        if concurrent:
            yield ctx.violation(
                self,
                f"REFRESH MATERIALIZED VIEW CONCURRENTLY {key} WITH NO DATA: PostgreSQL "
                "refuses CONCURRENTLY with WITH NO DATA, so the migration fails",
                f"to refresh {key} without blocking reads, drop WITH NO DATA; to empty it, "
                "drop CONCURRENTLY",
            )
        elif not ctx.is_new(key):  # a view this file created has no readers yet
            yield ctx.violation(
                self,
                f"REFRESH MATERIALIZED VIEW {key} WITH NO DATA empties {key}: once it commits, "
                f"every read of {key} fails (not populated) until a plain REFRESH fills it "
                "again",
                f"if {key} is still read, refresh it with data instead: REFRESH MATERIALIZED "
                f"VIEW CONCURRENTLY {key} (needs a unique index on it; it cannot be combined "
                "with WITH NO DATA)",
            )
