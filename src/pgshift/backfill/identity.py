"""What a checkpoint's walk was (its ``walk`` column): which table, in which key order.

``<table oid>:<type>[ COLLATE <collation>], …`` for a key walk, one entry per key column (the
type as ``format_type`` writes it, the collation the key's index sorts by when it is not the
database's default); ``<table oid>:ctid`` for a ctid walk. The key's column names are the
checkpoint's ``key_columns``.

A last key means something only in the order it was taken in: on another table (dropped and
recreated, another renamed into its place, the name resolving to another schema under another
search_path) or under another type or collation (``int`` to ``text``: ``'10000' > '9'`` is
false) going on from it would skip rows or update some twice: ``another_table`` and
``retyped`` say what changed.

Two kinds of change keep the order. Between ``smallint``, ``integer`` and ``bigint`` (a key
widened to ``bigint``): one btree operator family, so one order; the values convert exactly
(or the ALTER fails), and a last key reads back as the same number. And a string key widened
under the same collation, from ``character varying(n)`` to a longer one, to ``text`` or to
``character varying``, or between those two: ``varchar`` has no comparison of its own (it is
compared as ``text``), and widening keeps every value (narrowing may cut trailing spaces).
Every other change is one (``numeric`` to ``integer`` rounds, ``float4`` to ``float8`` changes
a value's text, ``char`` compares without trailing spaces, a collation sorts otherwise).
"""

from __future__ import annotations

import re
from typing import Any

_INTEGERS = frozenset({"smallint", "integer", "bigint"})

_NAME = ("(SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
         "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s)")


def of_key(oid: int, types: list[str], collations: list[str | None]) -> str:
    """A key walk's identity: the table, each key column's type and collation."""
    return f"{oid}:" + ", ".join(t if c is None else f"{t} COLLATE {c}"
                                 for t, c in zip(types, collations, strict=True))


def of_ctid(oid: int) -> str:
    return f"{oid}:ctid"


def another_table(cur: Any, old: str | None, new: str, *, table_name: str
                  ) -> tuple[str, str, str | None] | None:
    """Whether the walk ``old`` (a checkpoint's; None when an earlier pgshift wrote it) was
    on another table than ``new`` (the table's now): None, or (what changed, said after the
    checkpoint's walk; where its last key means nothing; how to put it back, if it can be)."""
    if old is None or old.partition(":")[0] == new.partition(":")[0]:
        return None
    old_oid, new_oid = old.partition(":")[0], new.partition(":")[0]
    cur.execute(f"SELECT {_NAME}, {_NAME}", (int(old_oid), int(new_oid)))
    walked, now = cur.fetchone()
    where = "on this table"
    if walked is None:
        return (f"{table_name} is another table now ({now}, oid {new_oid}; the one walked, oid "
                f"{old_oid}, is gone: dropped and recreated?)", where, None)
    return (f"{table_name} is another table now ({now}, oid {new_oid}; it walked {walked}, "
            f"oid {old_oid})", where,
            f"make {table_name} name {walked} again (the search_path, a rename)")


def retyped(old: str | None, new: str) -> tuple[str, str, str | None] | None:
    """Whether the key of the walk ``old`` (on the same table, by the same columns) sorts
    otherwise now (``new``): None, or (what changed, where its last key means nothing, how
    to put it back), as ``another_table``."""
    if old is None or old == new:
        return None
    olds, news = old.partition(":")[2].split(", "), new.partition(":")[2].split(", ")
    if len(olds) == len(news) and all(map(_same_order, olds, news)):
        return None
    what = ("collation" if [o.partition(" COLLATE ")[0] for o in olds]
            == [n.partition(" COLLATE ")[0] for n in news] else "type")
    return (f"its key's {what} changed from {_listed(olds)} to {_listed(news)}",
            "in the new key's order", f"give the key its {what} back ({_listed(olds)})")


def _same_order(old: str, new: str) -> bool:
    if old == new:
        return True
    old_type, _, old_collation = old.partition(" COLLATE ")
    new_type, _, new_collation = new.partition(" COLLATE ")
    if old_type in _INTEGERS and new_type in _INTEGERS:
        return not old_collation and not new_collation
    if old_collation != new_collation:
        return False
    old_length, new_length = _string_length(old_type), _string_length(new_type)
    return (old_length is not None and new_length is not None
            and (new_length == 0 or 0 < old_length <= new_length))


def _string_length(type_name: str) -> int | None:
    """A string type's length limit (0: none), or None when it is not ``text`` nor
    ``character varying``."""
    if type_name in ("text", "character varying"):
        return 0
    match = re.fullmatch(r"character varying\((\d+)\)", type_name)
    return int(match.group(1)) if match else None


def _listed(entries: list[str]) -> str:
    return entries[0] if len(entries) == 1 else f"({', '.join(entries)})"
