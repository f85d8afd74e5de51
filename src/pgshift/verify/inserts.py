"""What an application's ``INSERT`` leaves out: the columns it gives no value, which must take
their default, and fail when they are ``NOT NULL`` without one.

The query probe runs each query with ``NULL`` for every parameter, so an INSERT fails before a
migration as after it, and a migration that makes a column the INSERT leaves out ``NOT NULL``
(``ADD COLUMN ... NOT NULL``, ``SET NOT NULL``, ``DROP DEFAULT``) would go unseen. The columns
an INSERT gives are read from its syntax tree (named, or the first N by position; a ``DEFAULT``
in ``VALUES`` gives none), the required ones from the catalog. A table with a ``BEFORE INSERT``
row trigger may fill any column itself: its INSERTs are not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_COLUMNS_SQL = """
    SELECT a.attname,
           a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
           AND t.typdefaultbin IS NULL AS required,
           EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal
                   AND g.tgtype::int & 7 = 7) AS filled_by_trigger
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p')
    ORDER BY a.attnum"""


@dataclass(frozen=True)
class InsertShape:
    """The table an INSERT writes and which of its columns the INSERT gives a value."""

    relation: str  # quoted, qualified when the query qualifies it
    columns: tuple[str, ...] | None  # named columns; None: by position
    count: int | None  # by position: how many values (None: not known, e.g. SELECT *)
    defaults: frozenset[int]  # 0-based positions (in ``columns`` or the table) given DEFAULT


def shape_of(text: str) -> InsertShape | None:
    """The shape of ``text`` when it is one INSERT whose given columns can be known."""
    from pglast import ast, parser

    try:
        parsed = parser.parse_sql(text)
    except parser.ParseError:
        return None
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.InsertStmt):
        return None
    stmt = parsed[0].stmt
    relation = ".".join(_quoted(name) for name in (stmt.relation.schemaname,
                                                   stmt.relation.relname) if name)
    columns = tuple(str(c.name) for c in stmt.cols) if stmt.cols else None
    select = stmt.selectStmt
    if select is None:  # DEFAULT VALUES
        return InsertShape(relation, (), 0, frozenset())
    rows = select.valuesLists
    if rows:
        first = rows[0]
        defaults = frozenset(i for i, item in enumerate(first)
                             if isinstance(item, ast.SetToDefault))
        return InsertShape(relation, columns, len(first), defaults)
    targets = select.targetList or ()
    stars = any(isinstance(getattr(t.val, "fields", (None,))[-1], ast.A_Star) for t in targets)
    if select.op.name != "SETOP_NONE" or stars:
        return InsertShape(relation, columns, None, frozenset()) if columns else None
    return InsertShape(relation, columns, len(targets), frozenset())


def left_out(cur: Any, shape: InsertShape) -> list[str]:
    """The columns ``shape`` gives no value that the table requires (NOT NULL, no default)."""
    cur.execute(_COLUMNS_SQL, (shape.relation,))
    rows = cur.fetchall()
    if not rows or any(row[2] for row in rows):
        return []  # not a table (a view, gone), or a trigger may fill what it leaves out
    names = [row[0] for row in rows]
    if shape.columns is not None:
        given = {c for i, c in enumerate(shape.columns) if i not in shape.defaults}
    elif shape.count is not None:
        given = {c for i, c in enumerate(names[:shape.count]) if i not in shape.defaults}
    else:
        return []
    return [name for name, required, _ in rows if required and name not in given]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
