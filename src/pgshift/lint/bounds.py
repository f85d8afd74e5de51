"""Whether a table's constraints imply the partition constraint of ``FOR VALUES`` bounds, as
PostgreSQL decides when ATTACH PARTITION may skip its scan.

PostgreSQL (``PartConstraintImpliedByRelConstraint``) proves the partition constraint from
the table's NOT NULL columns and its validated CHECK constraints. For ``FROM (lo) TO (hi)`` on
key ``k`` that constraint is ``k IS NOT NULL AND k >= lo AND k < hi``; for ``IN (a, b)`` it is
``k IS NOT NULL AND k IN (a, b)`` (no IS NOT NULL when the list holds NULL). A CHECK passes
on NULL, so a CHECK of the bounds alone does not prove IS NOT NULL. When the parent is itself
a partition, its own partition constraint must be implied too.

This is narrower than PostgreSQL's prover on purpose: it reads the ANDed comparisons,
``BETWEEN``, ``IN`` and ``= ANY (ARRAY[…])`` of a single-column key against constants, and
answers False to the rest (hash bounds, DEFAULT, several key columns, expression keys, OR,
constants cast to another type than the key's). False makes the rule fire: only a clear
implication lets it pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgshift.lint.coercion import TypeRef, type_of
from pgshift.lint.literals import TEXT, Comparer, Literal, literal_of
from pgshift.lint.nodes import Node, strings
from pgshift.lint.schema import Schema, Table

_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}


@dataclass(frozen=True)
class Fact:
    """What a CHECK says of a column: ``op`` is ``>=``, ``>``, ``<=``, ``<``, ``=``, ``in`` or
    ``notnull``."""

    column: str
    op: str
    values: tuple[Literal, ...] = ()


@dataclass
class Proof:
    """What is known of the table being attached: its facts, column types and whether its
    constants were rendered by a live database (timestamptz with the session's offset)."""

    facts: list[Fact]
    types: dict[str, TypeRef | None]
    rendered: bool = False

    def not_null(self, column: str) -> bool:
        return any(f.column == column and f.op == "notnull" for f in self.facts)

    def about(self, column: str) -> list[Fact]:
        """The facts on ``column`` (and on ``column::text`` when it is a string column)."""
        typ = self.types.get(column)
        text = typ is not None and typ.name in TEXT and not typ.array
        return [f for f in self.facts if f.column == column or (text and f.column == "::" + column)]


def proof_of(table: Table | None) -> Proof:
    """The facts a table's NOT NULL columns and validated CHECKs give."""
    if table is None:
        return Proof([], {})
    facts = [Fact(name, "notnull") for name, column in table.columns.items() if column.not_null]
    rendered = False
    for con in table.constraints.values():
        if not con.validated:
            continue
        facts.extend(Fact(c, "notnull") for c in con.proves_not_null)
        if con.kind == "check" and con.expr is not None:
            facts.extend(facts_of(con.expr))
            rendered = rendered or con.rendered
    types = {name: column.type for name, column in table.columns.items()}
    return Proof(facts, types, rendered)


def facts_of(expr: Node) -> list[Fact]:
    """The facts of a CHECK expression's ANDed terms (terms not understood give none)."""
    facts: list[Fact] = []
    stack = [expr]
    while stack:
        item = stack.pop()
        if "BoolExpr" in item:
            if item["BoolExpr"].get("boolop") == "AND_EXPR":
                stack.extend(reversed(item["BoolExpr"].get("args") or ()))
        elif "NullTest" in item:
            test = item["NullTest"]
            column = _column(test.get("arg"))
            if test.get("nulltesttype") == "IS_NOT_NULL" and column:
                facts.append(Fact(column, "notnull"))
        elif "A_Expr" in item:
            facts.extend(_comparison(item["A_Expr"]))
    return facts


def _comparison(a: Node) -> list[Fact]:
    kind = a.get("kind")
    op = "".join(strings(a.get("name")))
    left, right = a.get("lexpr"), a.get("rexpr")
    if kind == "AEXPR_OP" and op in _FLIP:
        column, literal = _column(left), literal_of(right)
        if not column:
            column, literal, op = _column(right), literal_of(left), _FLIP[op]
        return [Fact(column, op, (literal,))] if column and literal else []
    column = _column(left)
    if not column:
        return []
    if kind == "AEXPR_BETWEEN":
        low, high = (literal_of(item) for item in _items(right)) if len(_items(right)) == 2 \
            else (None, None)
        return [Fact(column, ">=", (low,)), Fact(column, "<=", (high,))] if low and high \
            else []
    if (kind == "AEXPR_IN" and op == "=") or (kind == "AEXPR_OP_ANY" and op == "="):
        items = _items(right) if kind == "AEXPR_IN" else _array(right)
        values = [literal_of(item) for item in items or ()]
        if values and all(values):
            return [Fact(column, "in", tuple(v for v in values if v))]
    return []


def _items(node: Node | None) -> list[Node]:
    return ((node or {}).get("List") or {}).get("items") or []


def _array(node: Node | None) -> list[Node] | None:
    """The elements of ``ARRAY[…]`` (cast to a text array, as PostgreSQL renders it)."""
    while node and "TypeCast" in node:
        cast = type_of(node["TypeCast"].get("typeName"))
        if cast is None or cast.name not in TEXT:
            return None
        node = node["TypeCast"].get("arg")
    if node and "A_ArrayExpr" in node:
        return node["A_ArrayExpr"].get("elements") or []
    return None


def _column(node: Node | None) -> str:
    """The column of ``col`` or ``col::text`` (PostgreSQL renders varchar keys that way)."""
    if node and "TypeCast" in node:
        cast = type_of(node["TypeCast"].get("typeName"))
        if cast is None or cast.name not in TEXT or cast.mods or cast.array:
            return ""
        return _column(node["TypeCast"].get("arg")) and "::" + _column(
            node["TypeCast"].get("arg"))
    if node and "ColumnRef" in node:
        names = strings(node["ColumnRef"].get("fields"))
        return names[-1] if len(names) == len(node["ColumnRef"].get("fields") or ()) else ""
    return ""


# -- the partition constraint ------------------------------------------------------------------


def implied(bound: Node, parent: str, schema: Schema, proof: Proof) -> bool:
    """Whether ``proof`` (the attached table's) implies the partition constraint of ``bound``
    (a ``PartitionBoundSpec``'s fields) under ``parent``, and the parent's own when it is a
    partition."""
    table = schema.tables.get(parent)
    key = table.partition_key if table is not None and table.known else ()
    if not _bound_implied(bound, key, proof):
        return False
    seen = {parent}
    while table is not None and table.parent is not None:
        if table.bound is None or table.parent in seen:
            return False
        seen.add(table.parent)
        grand = schema.tables.get(table.parent)
        if grand is None or not grand.known or not grand.partition_key:
            return False
        if not _bound_implied(table.bound, grand.partition_key, proof):
            return False
        table = grand
    return True


def _bound_implied(bound: Node, key: tuple[str, ...], proof: Proof) -> bool:
    if bound.get("is_default") or bound.get("strategy") not in ("r", "l"):
        return False
    if len(key) > 1 or (key and not key[0]):
        return False  # several key columns or an expression: not attempted
    candidates = list(key) or sorted({f.column for f in proof.facts if f.op != "notnull"})
    test = _range_implied if bound.get("strategy") == "r" else _list_implied
    return any(test(bound, column, proof) for column in candidates)


def describe(bound: Node, key: tuple[str, ...]) -> str:
    """The partition constraint of ``bound`` in words, for messages ("": not said)."""
    column = key[0] if len(key) == 1 and key[0] else "<key>"
    if bound.get("strategy") == "r":
        limits = _range(bound)
        if limits is None:
            return ""
        low, high = limits
        parts = [f"{column} IS NOT NULL"]
        parts += [f"{column} >= {low}"] if isinstance(low, Literal) else []
        parts += [f"{column} < {high}"] if isinstance(high, Literal) else []
        return " AND ".join(parts)
    if bound.get("strategy") == "l":
        listed = _listed(bound)
        if listed is None:
            return ""
        values, allows_null = listed
        known = ", ".join(str(v) for v in values)
        if allows_null:
            return f"{column} IS NULL OR {column} IN ({known})"
        return f"{column} IS NOT NULL AND {column} IN ({known})"
    return ""


_INFINITE = "infinite"  # MINVALUE or MAXVALUE


def _range(bound: Node) -> tuple[Literal | str, Literal | str] | None:
    """Lower and upper bound of a one-column range (``_INFINITE`` for MINVALUE/MAXVALUE), or
    None for several columns or a bound that is not a constant."""
    lows, highs = bound.get("lowerdatums") or [], bound.get("upperdatums") or []
    if len(lows) != 1 or len(highs) != 1:
        return None
    low, high = _datum(lows[0]), _datum(highs[0])
    return (low, high) if low is not None and high is not None else None


def _datum(node: Node) -> Literal | str | None:
    names = strings((node.get("ColumnRef") or {}).get("fields"))
    if names in (["minvalue"], ["maxvalue"]):
        return _INFINITE
    return literal_of(node)


def _listed(bound: Node) -> tuple[list[Literal], bool] | None:
    """The constants of a list bound, and whether it lists NULL (None: not all constants)."""
    items = bound.get("listdatums") or []
    constants = [item for item in items if not (item.get("A_Const") or {}).get("isnull")]
    values = [literal_of(item) for item in constants]
    if any(v is None for v in values):
        return None
    return [v for v in values if v is not None], len(constants) < len(items)


def _range_implied(bound: Node, column: str, proof: Proof) -> bool:
    limits = _range(bound)
    if limits is None or not proof.not_null(column):
        return False
    low, high = limits
    facts = proof.about(column)
    compare = Comparer(proof.types.get(column), proof.rendered)
    low_ok = not isinstance(low, Literal) or any(
        _within(f, low, compare, (">=", ">"), 0) for f in facts)
    high_ok = not isinstance(high, Literal) or any(
        _within(f, high, compare, ("<",), 0) or _within(f, high, compare, ("<=",), 1)
        for f in facts)
    return low_ok and high_ok


def _within(fact: Fact, bound: Literal, compare: Comparer, ops: tuple[str, ...],
            margin: int) -> bool:
    """Whether ``fact`` keeps the column on the inner side of ``bound``: ``ops`` are the
    comparisons that do when their constant is not past the bound (``margin`` 1: strictly
    inside); ``=`` and ``in`` do when every value is inside (the upper bound excluded)."""
    if not fact.values:
        return False
    lower = ops[0].startswith(">")
    if fact.op in ("=", "in"):
        margin = 0 if lower else 1
    elif fact.op not in ops:
        return False
    for value in fact.values:
        order = compare(value, bound)
        if order is None or (order if lower else -order) < margin:
            return False
    return True


def _list_implied(bound: Node, column: str, proof: Proof) -> bool:
    listed = _listed(bound)
    if listed is None or not listed[0]:
        return False
    values, allows_null = listed
    if not (allows_null or proof.not_null(column)):
        return False
    compare = Comparer(proof.types.get(column), proof.rendered)
    return any(fact.op in ("=", "in") and all(
        any(compare(v, w) == 0 for w in values) for v in fact.values)
        for fact in proof.about(column))
