"""A transactional migration's statements sent to the server as one string: one round trip.

psycopg2 speaks the simple query protocol, in which a string of several statements runs as one
message, and an error does not say which of them failed. So between statements the string
advances a temporary sequence (``setval`` is not undone by the rollback that follows an error),
and after a failure one small query reads it back; an error that carries a position (a column
that does not exist) is placed by its position instead. Since PostgreSQL 13, statement_timeout
applies to each statement of such a string separately, as it does when they are sent one by one.

A session that may not create temporary objects, or a server older than 13, gets its
statements one per round trip.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg2

    from pgshift.migrations.statements import Statement

MARKER_NAME = "pgshift_progress"  # 'pgshift ps' (pgshift.monitor.ddl) skips its setval too
MARKER = f"pg_temp.{MARKER_NAME}"
_STRIDE = 1 << 20  # a marker is serial * _STRIDE + the statement's number in its round trip


def create_marker(cur: Any) -> bool:
    """Create this session's marker sequence; False when the role may not (no TEMP)."""
    import psycopg2

    try:
        # UPDATE for every role: a migration may SET ROLE, and setval runs as that role.
        cur.execute(f"CREATE TEMP SEQUENCE IF NOT EXISTS {MARKER_NAME};"
                    f"GRANT UPDATE ON SEQUENCE {MARKER} TO PUBLIC")
    except psycopg2.Error:
        return False
    return True


@dataclass(frozen=True)
class RoundTrip:
    """``statements`` joined into ``text``, with ``prefix`` before and ``suffix`` after them."""

    text: str
    statements: tuple[Statement, ...]
    starts: tuple[int, ...]  # where each statement's text begins in ``text``
    serial: int

    @classmethod
    def join(
        cls, prefix: str, statements: tuple[Statement, ...] | list[Statement], suffix: str,
        serial: int, name: Callable[[int], str] | None = None,
    ) -> RoundTrip:
        """``name(n)``: a quoted application_name for the transaction while statement n > 1
        runs, set with the mark before it: 'pgshift ps' reads the statement's number there."""
        parts, starts, length = [prefix], [], len(prefix)
        for number, statement in enumerate(statements, 1):
            if number > 1:  # a newline first: the statement before may end in a -- comment
                also = f", set_config('application_name', {name(number)}, true)" if name else ""
                mark = f"\n;SELECT setval('{MARKER}', {serial * _STRIDE + number}){also};"
                parts.append(mark)
                length += len(mark)
            starts.append(length)
            parts.append(statement.text)
            length += len(statement.text)
        parts.append("\n;" + suffix)
        return cls("".join(parts), tuple(statements), tuple(starts), serial)

    def locate(self, exc: psycopg2.Error, cur: Any, offset: int = 0) -> tuple[Statement, int]:
        """The statement that raised ``exc`` and where its text begins in ``text``.

        ``offset``: where ``text`` begins in the string sent (see ``Chain``). Call it after the
        rollback: the marker is read with a query of its own. An error in what rides after the
        last statement (its history row, the COMMIT) is placed on it.
        """
        number = self._by_position(exc, offset) or self._by_marker(cur)
        index = min(max(number, 1), len(self.statements)) - 1
        return self.statements[index], self.starts[index]

    def _by_position(self, exc: psycopg2.Error, offset: int) -> int:
        """The statement the error's position falls in; 0 when it has none (or it is outside
        this round trip's statements)."""
        if len(self.statements) == 1:
            return 1
        position = getattr(getattr(exc, "diag", None), "statement_position", None)
        if not position or not 0 <= int(position) - 1 - offset < len(self.text):
            return 0
        return bisect_right(self.starts, int(position) - 1 - offset)

    def _by_marker(self, cur: Any) -> int:
        """The number of the statement running when the error came (1 when none was marked)."""
        import psycopg2

        try:
            cur.execute(f"SELECT last_value FROM {MARKER}")
            value = int(cur.fetchone()[0])
        except psycopg2.Error:  # the connection is gone: the first statement is all we know
            return 1
        serial, number = divmod(value, _STRIDE)
        return number if serial == self.serial else 1


@dataclass(frozen=True)
class Chain:
    """Round trips of migrations that are each their own transaction (BEGIN … COMMIT), sent
    together as one string: quick migrations in a row cost one round trip per chain.

    The server runs the string up to the first error: the migrations before the failing one
    are committed, with their history rows. Which one failed is read from the history after
    the rollback (``pgshift.runner``); where in it, from its own round trip (``locate``).
    """

    trips: tuple[RoundTrip, ...]
    offsets: tuple[int, ...]  # where each trip's text begins in ``text``
    text: str

    @classmethod
    def of(cls, trips: list[RoundTrip]) -> Chain:
        offsets, at = [], 0
        for trip in trips:
            offsets.append(at)
            at += len(trip.text) + 1
        return cls(tuple(trips), tuple(offsets), ";".join(trip.text for trip in trips))
