"""Expand and contract: which migrations are safe before the application deploy, which after.

``expand`` migrations are safe while the old application version runs (add a column, an index,
a NOT VALID constraint...); ``contract`` ones are safe only once every instance runs the new
version (drop or rename what the old version uses). A file states its phase with
``-- pgshift:phase expand|contract``; without it, pgshift infers it from the statements (with
pglast): ``DROP TABLE/VIEW/SEQUENCE/TYPE/FUNCTION/SCHEMA/EXTENSION...``, ``ALTER TABLE ... DROP
COLUMN``, ``RENAME`` of a table, column, view, type, function or schema, ``SET SCHEMA`` of
one (the old version no longer finds it by its name) and renaming an enum's value make a
migration ``contract``. Dropping or renaming an index, a constraint or a trigger does not. A
repeatable migration is ``expand`` unless it drops or renames something it does not create again
(``DROP VIEW v; CREATE VIEW v ...`` is how repeatables change a view).

Rules applied by ``pgshift up``:

- ``--phase expand`` applies pending migrations in order up to, not including, the first
  contract migration (skipping it would make it out of order later).
- A plain ``up`` refuses to apply a contract migration in the same run as an expand migration
  it depends on, unless ``--allow-contract``. It *depends on* an earlier expand migration of the
  same run when both touch a common table (by name, schema ignored): the application deploy
  belongs between them.
- Before a contract migration drops or renames a column (or drops a table), and when the
  ``pg_stat_statements`` extension is installed in the database, pgshift looks for statements
  recorded since its last reset that still mention the table and the column, and refuses with
  them as evidence (``--unsafe`` overrides). pgshift's own backfill batches are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgshift.errors import CheckFailedError, InputError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from pgshift.migrations.model import Migration, Phase

_DROPPED_OBJECTS = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE",
                    "OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_FUNCTION", "OBJECT_PROCEDURE",
                    "OBJECT_ROUTINE", "OBJECT_AGGREGATE", "OBJECT_SCHEMA",
                    "OBJECT_FOREIGN_TABLE", "OBJECT_EXTENSION"}
_RENAMED_OBJECTS = {"OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_VIEW", "OBJECT_MATVIEW",
                    "OBJECT_TYPE", "OBJECT_SCHEMA", "OBJECT_ATTRIBUTE", "OBJECT_FOREIGN_TABLE",
                    "OBJECT_SEQUENCE", "OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE",
                    "OBJECT_AGGREGATE"}
# SET SCHEMA of these: the old version no longer finds them where it looks (its search_path).
_MOVED_OBJECTS = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE",
                  "OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_FUNCTION", "OBJECT_PROCEDURE",
                  "OBJECT_ROUTINE", "OBJECT_AGGREGATE", "OBJECT_FOREIGN_TABLE"}


@dataclass
class Shape:
    """What a migration's up part does, as far as phases care."""

    contract_reasons: list[str] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)
    removed_columns: list[tuple[str, str]] = field(default_factory=list)  # (table, column)
    removed_tables: list[str] = field(default_factory=list)
    # The reasons that drop an object the migration creates again after (a repeatable's view).
    recreated: list[str] = field(default_factory=list)


_SHAPES: dict[tuple[str, str], Shape] = {}


def shape_of(migration: Migration) -> Shape:
    """Parse ``migration``'s up part: tables touched, contract statements, columns removed.

    Remembered per file and up part (after placeholders: fleet targets may fill the same file
    differently): ``up`` asks several times, and a walk of a huge file's syntax tree takes
    seconds.
    """
    key = (str(migration.path), migration.up_sql)
    if key not in _SHAPES:
        _SHAPES[key] = _shape_of(migration)
    return _SHAPES[key]


def _shape_of(migration: Migration) -> Shape:
    from pgshift.migrations.statements import split_statements
    from pgshift.placeholders import check_resolved

    check_resolved(migration.up_sql, migration.path)  # '${x} has no value', not a syntax error
    shape = Shape()
    dropped: dict[str, list[str]] = {}  # object name -> the reasons that drop it
    for statement in split_statements(migration.up_sql, migration.path):
        before = len(shape.contract_reasons)
        _visit(statement.node, shape)
        if type(statement.node).__name__ == "DropStmt":
            for reason in shape.contract_reasons[before:]:
                dropped.setdefault(reason.rsplit(" ", 1)[-1], []).append(reason)
        created = _created_name(statement.node)
        if created is not None:
            shape.recreated += dropped.pop(created, [])
    return shape


def _created_name(node: Any) -> str | None:
    """The name of the table, view, function or type a statement creates, else None."""
    from pglast import ast

    if isinstance(node, ast.CreateStmt | ast.ViewStmt):
        relation = node.relation if isinstance(node, ast.CreateStmt) else node.view
        return str(relation.relname)
    if isinstance(node, ast.CreateTableAsStmt):
        return str(node.into.rel.relname)
    if isinstance(node, ast.CreateFunctionStmt | ast.CompositeTypeStmt | ast.CreateEnumStmt
                  | ast.CreateDomainStmt | ast.CreateSeqStmt):
        name = getattr(node, "funcname", None) or getattr(node, "typeName", None) or getattr(
            node, "domainname", None)
        if isinstance(node, ast.CompositeTypeStmt):
            return str(node.typevar.relname)
        if isinstance(node, ast.CreateSeqStmt):
            return str(node.sequence.relname)
        return _names(name)[-1] if _names(name) else None
    return None


def _object_name(obj: Any) -> str:
    """The last part of a DROP's object: a qualified name, a function's, a type's, a name."""
    if isinstance(obj, tuple):
        names = _names(obj)
    elif hasattr(obj, "objname"):  # ObjectWithArgs: a function, procedure, aggregate
        names = _names(obj.objname)
    elif hasattr(obj, "names"):  # TypeName
        names = _names(obj.names)
    else:
        names = [getattr(obj, "sval", "")]
    return names[-1] if names and names[-1] else "?"


def _names(node: Any) -> list[str]:
    return [getattr(part, "sval", "") for part in (node if isinstance(node, tuple) else ())]


def _visit(node: Any, shape: Shape) -> None:
    from pglast import ast
    from pglast.visitors import Visitor

    class Tables(Visitor):
        def visit_RangeVar(self, ancestors: Any, range_var: Any) -> None:
            shape.tables.add(range_var.relname)

    Tables()(node)
    if isinstance(node, ast.DropStmt) and node.removeType.name in _DROPPED_OBJECTS:
        kind = node.removeType.name[len("OBJECT_"):].lower().replace("_", " ")
        for obj in node.objects or ():
            name = _object_name(obj)
            shape.contract_reasons.append(f"drops {kind} {name}")
            if kind == "table":
                shape.tables.add(name)
                shape.removed_tables.append(name)
    elif isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype.name == "AT_DropColumn":
                shape.contract_reasons.append(f"drops column {node.relation.relname}.{cmd.name}")
                shape.removed_columns.append((node.relation.relname, cmd.name))
    elif isinstance(node, ast.RenameStmt) and node.renameType.name in _RENAMED_OBJECTS:
        what = node.renameType.name[len("OBJECT_"):].lower()
        table = node.relation.relname if node.relation is not None else None
        if what in ("column", "attribute") and table:
            shape.contract_reasons.append(f"renames column {table}.{node.subname}")
            shape.removed_columns.append((table, node.subname))
        else:
            name = table or node.subname or (_object_name(node.object)
                                             if node.object is not None else "")
            shape.contract_reasons.append(f"renames {what} {name}".strip())
            if what == "table" and table:
                shape.removed_tables.append(table)
    elif isinstance(node, ast.AlterObjectSchemaStmt) and node.objectType.name in _MOVED_OBJECTS:
        what = node.objectType.name[len("OBJECT_"):].lower().replace("_", " ")
        table = node.relation.relname if node.relation is not None else None
        name = table or (_object_name(node.object) if node.object is not None else "?")
        shape.contract_reasons.append(f"moves {what} {name} to schema {node.newschema}")
        if what == "table" and table:
            shape.tables.add(table)
            shape.removed_tables.append(table)
    elif isinstance(node, ast.AlterEnumStmt) and node.oldVal:
        shape.contract_reasons.append(
            f"renames value '{node.oldVal}' of type {_object_name(node.typeName)}")


def phase_of(migration: Migration, shape: Shape | None = None) -> Phase:
    """The file's ``-- pgshift:phase``, else ``contract`` when it drops or renames, else expand."""
    if migration.directives.phase is not None:
        return migration.directives.phase
    shape = shape or shape_of(migration)
    reasons = shape.contract_reasons
    if migration.kind == "repeatable":  # run again and again: it drops what it makes again
        reasons = [r for r in reasons if r not in shape.recreated]
    return "contract" if reasons else "expand"


def apply_phase(selected: Sequence[Migration], phase: str | None, *,
                allow_contract: bool) -> list[Migration]:
    """The migrations ``up`` may run for ``phase``; raise when the run mixes what it must not."""
    if phase not in (None, "expand"):
        raise InputError(f"--phase must be 'expand', not '{phase}'",
                         hint="a plain 'pgshift up' applies both phases")
    phases = {m.path: _obvious_phase(m) or phase_of(m) for m in selected}
    if phase == "expand":
        chosen = []
        for migration in selected:
            if phases[migration.path] == "contract":
                break
            chosen.append(migration)
        return chosen
    if not allow_contract and "contract" in phases.values():
        shapes = {m.path: shape_of(m) for m in selected if m.kind == "versioned"}
        _refuse_mixed(list(selected), phases, shapes)
    return list(selected)


def _obvious_phase(migration: Migration) -> Phase | None:
    """The phase when it needs no syntax tree (most files): None when it must be parsed.

    Walking every pending file's tree cost a third of applying a thousand small migrations.
    """
    if migration.directives.phase is not None:
        return migration.directives.phase
    text = migration.up_sql.lower()
    if "drop" in text or "rename" in text or _SET_SCHEMA.search(text):
        return None
    return "expand"


_SET_SCHEMA = re.compile(r"\bset\s+schema\b")


def _refuse_mixed(selected: list[Migration], phases: dict[Any, str],
                  shapes: dict[Any, Shape]) -> None:
    expands: list[Migration] = []
    for migration in selected:
        if phases[migration.path] == "expand":
            expands.append(migration)
            continue
        shape = shapes.get(migration.path) or Shape()
        for earlier in expands:
            common = shape.tables & (shapes.get(earlier.path) or Shape()).tables
            if common:
                what = shape.contract_reasons[0] if shape.contract_reasons else "is contract"
                raise CheckFailedError(
                    f"contract migration {migration.label} ({what}) would run in the same run "
                    f"as expand migration {earlier.label}, which it depends on (both touch "
                    f"{', '.join(sorted(common))})",
                    path=migration.path, migration=migration.label,
                    hint="deploy the application in between: 'pgshift up --phase expand', "
                         "deploy, then 'pgshift up'; or pass --allow-contract")


_OWN_BATCH = "pgshift_backfill"  # the CTE name every batch carries (backfill.batched)
_NOT_APP = (r"^\s*(alter|create|drop|comment|grant|revoke|vacuum|analyze|reindex|cluster|lock|"
            r"truncate|set|show|begin|commit|rollback|start|end)\M")
_USAGE = """
SELECT s.calls, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160)
FROM {schema}.pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.calls > 0 AND s.query ~ %(table)s AND s.query ~ %(column)s
  AND s.query !~* %(ddl)s
  AND position(%(own)s in s.query) = 0
  AND s.query !~* 'pg_stat_statements'
ORDER BY s.calls DESC
LIMIT 5
"""


def check_usage(conn: Connection, selected: Sequence[Migration]) -> None:
    """Refuse a contract migration removing a column or table that recent queries still use."""
    maybe = [m for m in selected if m.kind == "versioned" and _obvious_phase(m) != "expand"]
    contracts = [(m, shape_of(m)) for m in maybe]
    contracts = [(m, s) for m, s in contracts if phase_of(m, s) == "contract"
                 and (s.removed_columns or s.removed_tables)]
    if not contracts:
        return
    schema = statements_schema(conn)
    if schema is None:
        return
    for migration, shape in contracts:
        targets = [(t, c) for t, c in shape.removed_columns]
        targets += [(t, None) for t in shape.removed_tables]
        for table, column in targets:
            evidence = _statements_using(conn, schema, table, column)
            if evidence:
                what = f"column {table}.{column}" if column else f"table {table}"
                calls, text = evidence[0]
                raise CheckFailedError(
                    f"{what} is still used: pg_stat_statements has {len(evidence)} "
                    f"statement(s) mentioning it, e.g. {calls} call(s) of: {text}",
                    path=migration.path, migration=migration.label,
                    hint="deploy the application version that no longer uses it, reset with "
                         "'SELECT pg_stat_statements_reset()', let traffic run, retry; or "
                         "pass --unsafe")


def statements_schema(conn: Connection) -> str | None:
    """The schema of the pg_stat_statements extension; None when it is not installed."""
    with conn.cursor() as cur:
        cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
                    "n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'")
        row = cur.fetchone()
    return row[0] if row else None


def _word(name: str) -> str:
    """A regex for ``name`` in a query's text. A name that needs quotes (mixed case, spaces, a
    reserved word) is matched quoted and case-sensitively: ``\\mSelect\\M`` without case would
    find every SELECT, and ``order`` every ORDER BY. Any other name is folded: any case."""
    from pgshift.recipes.model import ident

    quoted = ident(name)
    if quoted != name:
        return _escaped(quoted)
    return r"(?i)\m" + _escaped(name) + r"\M"


def _escaped(text: str) -> str:
    return re.sub(r"([^0-9A-Za-z_])", r"\\\1", text)


def _statements_using(conn: Connection, schema: str, table: str,
                      column: str | None) -> list[tuple[int, str]]:
    import psycopg2
    from psycopg2 import sql

    query = sql.SQL(_USAGE).format(schema=sql.Identifier(schema))
    params = {"table": _word(table), "column": _word(column or table), "own": _OWN_BATCH,
              "ddl": _NOT_APP}
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return [(int(calls), text) for calls, text in cur.fetchall()]
    except psycopg2.Error:  # installed but not loaded (shared_preload_libraries): no evidence
        return []
