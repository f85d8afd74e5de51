"""Constants compared as values of a column's type, only when the answer is clear."""

from __future__ import annotations

import pytest

from pgshift.lint.coercion import TypeRef
from pgshift.lint.literals import Comparer, Literal


def text(value: str, cast: str | None = None) -> Literal:
    return Literal(value, TypeRef(cast) if cast else None, quoted=True)


@pytest.mark.parametrize(("column", "check", "bound", "order"), [
    ("int8", Literal(10), Literal(10), 0),
    ("int8", text("-5", "int4"), Literal(0), -1),  # as PostgreSQL prints a bigint's CHECK
    (None, Literal(20), text("10"), 1),  # an unquoted number: the column is a number
    ("numeric", text("NaN"), Literal(1), None),
    ("timestamptz", text("2024-01-01"), text("2024-01-01"), 0),
    ("timestamptz", text("2024-01-01 02:00:00+02"), text("2024-01-01T00:00Z"), 0),
    ("timestamptz", text("2024-01-01 00:00:00+00"), text("2024-01-01"), None),  # which zone?
    ("timestamp", text("2024-01-01 00:00"), text("2024-01-01"), 0),
    ("date", text("2024-01-01 12:00"), text("2024-01-01"), None),
    ("date", text("2024-01-01", "timestamptz"), text("2024-01-01"), None),  # cross-type
    ("text", text("b"), text("a"), None),  # collations order text: not said
    ("text", text("a", "varchar"), text("a"), 0),
    (None, text("2024-01-01", "date"), text("2024-01-01"), None),
])
def test_constants_compare_only_when_the_order_is_clear(
    column: str | None, check: Literal, bound: Literal, order: int | None
) -> None:
    assert Comparer(TypeRef(column) if column else None, rendered=False)(check, bound) == order


def test_a_constant_a_database_printed_takes_the_sessions_zone() -> None:
    compare = Comparer(TypeRef("timestamptz"), rendered=True)
    assert compare(text("2024-01-01 00:00:00+01"), text("2024-01-01")) == 0
