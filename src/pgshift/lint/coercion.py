"""Column types and whether changing one to another rewrites the table.

PostgreSQL skips the rewrite (and the index rebuild) of ``ALTER COLUMN … TYPE`` when the old
type is binary-coercible to the new one and any length/precision change only widens it
(``ATColumnChangeRequiresRewrite`` with the ``varchar_support``/``numeric_support``/
``timestamp_support`` planner functions). This module knows those cases.
"""

from __future__ import annotations

from typing import NamedTuple

from pgshift.lint.nodes import Node, const_value, strings


class TypeRef(NamedTuple):
    """A normalised column type: ``varchar`` with ``mods=(100,)``, ``int4[]`` -> array=True."""

    name: str
    mods: tuple[int, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        mods = f"({','.join(str(m) for m in self.mods)})" if self.mods else ""
        return f"{DISPLAY.get(self.name, self.name)}{mods}{'[]' if self.array else ''}"


DISPLAY = {
    "int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
    "float8": "double precision", "bpchar": "char", "bool": "boolean",
}
SERIALS = {"serial": "int4", "serial4": "int4", "bigserial": "int8", "serial8": "int8",
           "smallserial": "int2", "serial2": "int2"}
_ALIASES = {"integer": "int4", "int": "int4", "bigint": "int8", "smallint": "int2",
            "boolean": "bool", "decimal": "numeric", "real": "float4", "float": "float8"}
_STRINGS = {"varchar", "text"}
_PRECISION = {"timestamp", "timestamptz", "time", "timetz"}


def type_of(type_name: Node | None) -> TypeRef | None:
    """The TypeRef of a ``TypeName`` (its fields), or None for a missing one."""
    if not type_name:
        return None
    names = strings(type_name.get("names"))
    if not names:
        return None
    name = names[-1]
    name = _ALIASES.get(name, name)
    mods = []
    for mod in type_name.get("typmods") or ():
        value = const_value(mod)
        if isinstance(value, int):
            mods.append(value)
    if name == "bpchar" and not mods:
        mods = [1]
    return TypeRef(name, tuple(mods), bool(type_name.get("arrayBounds")))


def rewrites(
    old: TypeRef, new: TypeRef, *, pg_version: int, indexed: bool | None, utc: bool
) -> bool:
    """Whether ``ALTER COLUMN … TYPE new`` on a column of type ``old`` rewrites the table.

    ``indexed`` is whether the column is in an index (None: unknown); ``utc`` whether the
    session's TimeZone is UTC (it makes timestamp -> timestamptz free from PostgreSQL 12 on).
    """
    if old == new:
        return False
    if old.array or new.array:
        return old.name != new.name or old.array != new.array or _widens(old, new) is not True
    if old.name == new.name:
        return _widens(old, new) is not True
    pair = (old.name, new.name)
    if old.name in _STRINGS and new.name in _STRINGS:
        # varchar(n) -> text / varchar: free; text -> varchar(n) must check every length.
        return new.name == "varchar" and bool(new.mods)
    if {old.name, new.name} <= {"text", "varchar", "citext"}:
        if new.name == "varchar" and new.mods:
            return True
        # Binary-coercible, but indexes change operator class and are rebuilt.
        return indexed is not False
    if pair == ("cidr", "inet"):
        return False
    if pair == ("timestamp", "timestamptz"):
        return not (pg_version >= 12 and utc and _widens(old, TypeRef(old.name, new.mods)))
    return True


def _widens(old: TypeRef, new: TypeRef) -> bool:
    """Same type, and the new length/precision accepts every old value unchanged."""
    if not new.mods:
        # varchar, numeric, timestamp(p) -> unconstrained: free. bpchar/bit have no support fn.
        return old.name not in ("bpchar", "bit") or not old.mods
    if old.name in ("varchar", "varbit"):
        return bool(old.mods) and new.mods[0] >= old.mods[0]
    if old.name == "numeric":
        if not old.mods:
            return False
        old_scale = old.mods[1] if len(old.mods) > 1 else 0
        new_scale = new.mods[1] if len(new.mods) > 1 else 0
        return new.mods[0] >= old.mods[0] and new_scale == old_scale
    if old.name in _PRECISION:
        old_precision = old.mods[0] if old.mods else 6
        return new.mods[0] >= old_precision
    if old.name == "interval":
        return old.mods == new.mods
    return old.mods == new.mods
