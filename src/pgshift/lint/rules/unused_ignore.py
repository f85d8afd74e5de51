"""unused-ignore."""

from __future__ import annotations

from pgshift.lint.rule import Rule, register


@register
class UnusedIgnore(Rule):
    """A ``-- pgshift:ignore RULE`` comment that suppresses nothing.

    The statement after it has no finding of that rule (the code changed, the rule id is
    misspelt or unknown, or no statement follows). A stale ignore would silently hide a real
    problem the next time the statement changes.

    Safe way: remove the comment, or correct the rule id. Write it on the line before the
    statement: ``-- pgshift:ignore RULE -- reason``.
    """

    id = "unused-ignore"
    nodes = ()
    severity = "warning"
    tier = "meta"
