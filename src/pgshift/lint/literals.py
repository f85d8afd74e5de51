"""Constants of SQL parse trees compared as values of a column's type.

A CHECK's ``'2024-01-01'`` and a partition bound's ``'2024-01-01 00:00:00+00'::timestamptz``
(as a live database prints it) are the same timestamp; ``10`` and ``'10'`` the same integer;
``'a'`` and ``'b'`` have no order the linter can vouch for (collations differ). ``Comparer``
says -1, 0 or 1 only when the answer is clear, else None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pgshift.lint.coercion import TypeRef, type_of
from pgshift.lint.nodes import Node

NUMERIC = {"int2", "int4", "int8", "numeric", "float4", "float8"}
TEXT = {"text", "varchar"}
TIMES = {"date", "timestamp", "timestamptz"}
# Types whose cross-type comparisons are immutable operators of one btree family: a constant
# cast to one of them still lets PostgreSQL compare it with the key's.
FAMILIES = ({"int2", "int4", "int8"}, {"float4", "float8"}, TEXT)
DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"(?:\s*(Z|[+-]\d{2}(?::?\d{2})?))?$")


@dataclass(frozen=True)
class Literal:
    """A constant: its text (or number), and the type it is cast to (None: none)."""

    value: Any
    cast: TypeRef | None = None
    quoted: bool = False

    def __str__(self) -> str:
        if self.quoted:
            return "'" + str(self.value).replace("'", "''") + "'"
        return str(self.value)


def literal_of(node: Node | None) -> Literal | None:
    """The constant of an ``A_Const`` node, or of one cast once (``'x'::date``), else None."""
    cast = None
    if node and "TypeCast" in node:
        cast = type_of(node["TypeCast"].get("typeName"))
        node = node["TypeCast"].get("arg")
        if node and "TypeCast" in node:
            return None
    const = (node or {}).get("A_Const")
    if const is None or const.get("isnull"):
        return None
    if "sval" in const:
        return Literal(const["sval"].get("sval", ""), cast, quoted=True)
    if "ival" in const:
        return Literal(const["ival"].get("ival", 0), cast)
    if "fval" in const:
        return Literal(const["fval"].get("fval", "0"), cast)
    if "boolval" in const:
        return Literal(bool(const["boolval"].get("boolval")), cast)
    return None


class Comparer:
    """Compares a CHECK's constant with a bound's as values of the key's type: -1, 0 or 1, or
    None when the order is not clear (an unknown type, a cast to another type…)."""

    def __init__(self, column_type: TypeRef | None, rendered: bool) -> None:
        self.type = column_type
        self.rendered = rendered

    def __call__(self, check: Literal, bound: Literal) -> int | None:
        if not (self._cast_ok(check) and self._cast_ok(bound)):
            return None
        name = self.type.name if self.type is not None else None
        numeric = name in NUMERIC or (name is None and not check.quoted)
        if numeric:
            a, b = _number(check.value), _number(bound.value)
            if a is not None and b is not None:
                return (a > b) - (a < b)
        if name in TIMES:
            order = self._times(check, bound, name)
            if order is not None:
                return order
        if str(check.value) == str(bound.value) and not numeric:
            return 0
        return None

    def _cast_ok(self, literal: Literal) -> bool:
        if literal.cast is None:
            return True
        if self.type is None or literal.cast.array:
            return False
        return any(literal.cast.name in family and self.type.name in family
                   for family in FAMILIES) or literal.cast.name == self.type.name

    def _times(self, check: Literal, bound: Literal, name: str) -> int | None:
        a, b = _moment(str(check.value)), _moment(str(bound.value))
        if a is None or b is None:
            return None
        (a_time, a_zone, a_clock), (b_time, b_zone, b_clock) = a, b
        if name == "date" and (a_clock or b_clock):
            return None
        if name == "timestamptz" and (a_zone is None) != (b_zone is None):
            if not self.rendered:
                return None  # which zone the naive one is read in is the session's
            a_zone = b_zone = None  # rendered in the session's zone: compare the wall clock
        if name != "timestamptz":
            a_zone = b_zone = None
        x = a_time - (a_zone or timedelta())
        y = b_time - (b_zone or timedelta())
        return (x > y) - (x < y)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return None if number.is_nan() else number


def _moment(text: str) -> tuple[datetime, timedelta | None, bool] | None:
    """``(wall clock, UTC offset or None, has a time of day)`` of an ISO date or timestamp."""
    match = DATETIME.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError:
        return None
    offset = None
    if zone is not None:
        if zone == "Z":
            offset = timedelta()
        else:
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            offset = -offset if zone[0] == "-" else offset
    clock = hour is not None and (int(hour), int(minute), int(second or 0), int(
        fraction or 0)) != (0, 0, 0, 0)
    return moment.replace(tzinfo=None), offset, clock

