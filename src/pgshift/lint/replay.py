"""Replay DDL statically onto a Schema: what each statement creates, changes or drops.

The same code replays earlier migrations and schema files, and follows the file being linted
statement by statement, so a rule sees the schema as it is just before its statement runs.
``Created`` records what the current file created: those objects are new and empty. How a
definition reads as a model is ``definitions``; functions and their volatility, ``routines``;
domains and their constraints, ``domains``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pgshift.lint.coercion import type_of
from pgshift.lint.definitions import column_of, constraint_of, drop_targets
from pgshift.lint.domains import alter_domain, create_domain
from pgshift.lint.nodes import (
    Node,
    is_null_const,
    name_key,
    relation_key,
    strings,
    table_key,
)
from pgshift.lint.routines import alter_function, create_function, drop_functions
from pgshift.lint.schema import Column, Schema, Table


@dataclass
class Created:
    """Objects created earlier in the current file (keys as in Schema)."""

    tables: set[str] = field(default_factory=set)
    indexes: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)



def _add_column(table: Table, key: str, coldef: Node) -> None:
    name = coldef.get("colname", "")
    column, constraints = column_of(coldef)
    table.columns[name] = column
    for con in constraints:
        contype = con.get("contype")
        if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            table.indexed.add(name)
        if contype in ("CONSTR_CHECK", "CONSTR_FOREIGN", "CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            conname, model = constraint_of(con, key, name)
            table.constraints[conname] = model


def _add_constraint(table: Table, key: str, con: Node) -> None:
    name, model = constraint_of(con, key)
    table.constraints[name] = model
    if model.kind in ("primary", "unique", "exclude"):
        table.indexed.update(model.columns)
    if model.kind == "primary" or (model.kind == "notnull" and model.validated):
        for column in model.columns:
            if column in table.columns:
                table.columns[column].not_null = True


def _table(schema: Schema, key: str) -> Table:
    table = schema.tables.get(key)
    if table is None:
        table = schema.tables[key] = Table()
    return table


def _create(schema: Schema, created: Created, stmt: Node) -> None:
    rel = stmt.get("relation") or {}
    key = relation_key(rel)
    if stmt.get("if_not_exists") and key in schema.tables and key not in created.tables:
        return
    table = schema.tables[key] = Table(known=True, temporary=rel.get("relpersistence") == "t")
    created.tables.add(key)
    spec = stmt.get("partspec")
    if spec:
        table.kind = "partitioned"
        table.partition_key = tuple(
            p["PartitionElem"].get("name", "") for p in spec.get("partParams") or ()
            if "PartitionElem" in p
        )
    for parent in stmt.get("inhRelations") or ():
        parent_key = relation_key(parent.get("RangeVar"))
        if stmt.get("partbound"):
            table.parent, table.bound = parent_key, stmt["partbound"]
        source = schema.tables.get(parent_key)
        if source is not None:
            table.columns.update({n: Column(c.type, c.not_null) for n, c in source.columns.items()})
    for element in stmt.get("tableElts") or ():
        if "ColumnDef" in element:
            _add_column(table, key, element["ColumnDef"])
        elif "Constraint" in element:
            _add_constraint(table, key, element["Constraint"])
        elif "TableLikeClause" in element:
            source = schema.tables.get(relation_key(element["TableLikeClause"].get("relation")))
            if source is not None:
                table.columns.update(
                    {n: Column(c.type, c.not_null) for n, c in source.columns.items()})


def _create_foreign(schema: Schema, created: Created, stmt: Node) -> None:
    """A foreign table: its rows live elsewhere (ATTACH PARTITION does not scan it)."""
    base = stmt.get("base") or {}
    _create(schema, created, base)
    table = schema.tables.get(relation_key(base.get("relation")))
    if table is not None:
        table.kind = "foreign"


def _alter(schema: Schema, created: Created, stmt: Node) -> None:
    key = relation_key(stmt.get("relation"))
    if stmt.get("objtype") not in (None, "OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
        return
    table = _table(schema, key)
    for item in stmt.get("cmds") or ():
        apply_alter_cmd(table, key, item.get("AlterTableCmd") or {})
        note_partition(schema, key, item.get("AlterTableCmd") or {})
        note_attached_rows(created, key, item.get("AlterTableCmd") or {})


def note_partition(schema: Schema, key: str, cmd: Node) -> None:
    """ATTACH PARTITION makes the attached table a partition of ``key``, with its bounds;
    DETACH PARTITION makes it a table of its own again."""
    subtype = cmd.get("subtype")
    if subtype not in ("AT_AttachPartition", "AT_DetachPartition"):
        return
    part = (cmd.get("def") or {}).get("PartitionCmd") or {}
    table = schema.tables.get(relation_key(part.get("name")))
    if table is None:
        return
    if subtype == "AT_AttachPartition":
        table.parent, table.bound = key, part.get("bound")
    else:
        table.parent = table.bound = None


def note_attached_rows(created: Created, key: str, cmd: Node) -> None:
    """ATTACH PARTITION of a table this run did not create brings its rows: the partitioned
    table ``key`` is then no longer new and empty, even if this run created it."""
    if cmd.get("subtype") != "AT_AttachPartition":
        return
    partition = relation_key(((cmd.get("def") or {}).get("PartitionCmd") or {}).get("name"))
    if partition not in created.tables:
        created.tables.discard(key)


def apply_alter_cmd(table: Table, key: str, cmd: Node) -> None:
    """One ``AlterTableCmd``'s effect on ``table``."""
    subtype = cmd.get("subtype")
    name = cmd.get("name", "")
    definition = cmd.get("def") or {}
    if subtype == "AT_AddColumn" and "ColumnDef" in definition:
        if not (cmd.get("missing_ok") and definition["ColumnDef"].get("colname") in table.columns):
            _add_column(table, key, definition["ColumnDef"])
    elif subtype == "AT_DropColumn":
        table.columns.pop(name, None)
        table.indexed.discard(name)
    elif subtype == "AT_AlterColumnType" and "ColumnDef" in definition:
        column = table.columns.setdefault(name, Column())
        column.type = type_of(definition["ColumnDef"].get("typeName"))
    elif subtype in ("AT_SetNotNull", "AT_DropNotNull"):
        table.columns.setdefault(name, Column()).not_null = subtype == "AT_SetNotNull"
    elif subtype == "AT_DropExpression" and name in table.columns:
        table.columns[name].generated = ""
    elif subtype == "AT_ColumnDefault":
        table.columns.setdefault(name, Column()).has_default = bool(definition) and not (
            is_null_const(definition))
    elif subtype == "AT_AddConstraint" and "Constraint" in definition:
        _add_constraint(table, key, definition["Constraint"])
    elif subtype == "AT_ValidateConstraint" and name in table.constraints:
        table.constraints[name].validated = True
        model = table.constraints[name]
        if model.kind == "notnull":
            for column in model.columns:
                table.columns.setdefault(column, Column()).not_null = True
    elif subtype == "AT_DropConstraint":
        table.constraints.pop(name, None)


def _rename(schema: Schema, created: Created, stmt: Node) -> None:
    kind = stmt.get("renameType")
    new = stmt.get("newname", "")
    rel = stmt.get("relation")
    if kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
        old = relation_key(rel)
        target = table_key((rel or {}).get("schemaname"), new)
        schema.rename_table(old, target)
        if old in created.tables:
            created.tables.discard(old)
            created.tables.add(target)
    elif kind == "OBJECT_COLUMN":
        table = schema.tables.get(relation_key(rel))
        old_name = stmt.get("subname", "")
        if table is not None and old_name in table.columns:
            table.columns[new] = table.columns.pop(old_name)
            if old_name in table.indexed:
                table.indexed.discard(old_name)
                table.indexed.add(new)
                _rename_index_column(schema, relation_key(rel), old_name, new)
    elif kind == "OBJECT_INDEX":
        old = relation_key(rel)
        target = table_key((rel or {}).get("schemaname"), new)
        if old in schema.indexes:
            schema.indexes[target] = schema.indexes.pop(old)
        if old in schema.index_columns:
            schema.index_columns[target] = schema.index_columns.pop(old)
        if old in created.indexes:
            created.indexes.add(target)
    elif kind == "OBJECT_TABCONSTRAINT":
        table = schema.tables.get(relation_key(rel))
        if table is not None and stmt.get("subname") in table.constraints:
            table.constraints[new] = table.constraints.pop(stmt["subname"])
    elif kind == "OBJECT_SCHEMA":
        schema.schemas.discard(stmt.get("subname", ""))
        schema.schemas.add(new)
    elif kind in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
        _rename_type(schema, created, stmt, new)
    elif kind == "OBJECT_DOMCONSTRAINT":
        domain = schema.domains.get(name_key(strings((stmt.get("object") or {}).get(
            "List", {}).get("items"))))
        if domain is not None and stmt.get("subname") in domain.checks:
            domain.checks.discard(stmt["subname"])
            domain.checks.add(new)


def _rename_index_column(schema: Schema, key: str, old: str, new: str) -> None:
    for index, owner in schema.indexes.items():
        columns = schema.index_columns.get(index)
        if owner == key and columns and old in columns:
            schema.index_columns[index] = tuple(new if c == old else c for c in columns)


def _rename_type(schema: Schema, created: Created, stmt: Node, new: str) -> None:
    """``ALTER TYPE old RENAME TO new``: columns of that type now have type ``new``, so a later
    ``ALTER COLUMN … TYPE old`` (a type re-created under the old name) is a real change."""
    names = strings((stmt.get("object") or {}).get("List", {}).get("items"))
    if not names:
        return
    old_key, new_key = name_key(names), name_key([*names[:-1], new])
    for group in (schema.types, created.types):
        if old_key in group:
            group.discard(old_key)
            group.add(new_key)
    if old_key in schema.domains:
        schema.domains[new_key] = schema.domains.pop(old_key)
        for domain in schema.domains.values():
            if domain.base_domain == old_key:
                domain.base_domain = new_key
    for table in schema.tables.values():
        for column in table.columns.values():
            if column.type is not None and column.type.name == names[-1]:
                column.type = column.type._replace(name=new)



def _drop(schema: Schema, created: Created, stmt: Node) -> None:
    kind = stmt.get("removeType")
    if kind == "OBJECT_FUNCTION":
        drop_functions(schema, stmt)
        return
    for key in drop_targets(stmt):
        if kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE",
                    "OBJECT_SEQUENCE"):
            schema.drop_table(key)
            created.tables.discard(key)
        elif kind == "OBJECT_INDEX":
            schema.indexes.pop(key, None)
            schema.index_columns.pop(key, None)
            created.indexes.discard(key)
        elif kind in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
            schema.types.discard(key)
            schema.domains.pop(key, None)
            created.types.discard(key)
            if stmt.get("behavior") == "DROP_CASCADE":  # the columns of that type go with it
                _drop_columns_of_type(schema, key.rsplit(".", 1)[-1])
        elif kind == "OBJECT_SCHEMA":
            schema.schemas.discard(key)
            created.schemas.discard(key)


def _drop_columns_of_type(schema: Schema, name: str) -> None:
    for table in schema.tables.values():
        for column in [c for c, m in table.columns.items()
                       if m.type is not None and m.type.name == name]:
            del table.columns[column]
            table.indexed.discard(column)


def _index(schema: Schema, created: Created, stmt: Node) -> None:
    rel = stmt.get("relation") or {}
    owner = relation_key(rel)
    table = _table(schema, owner)
    for param in stmt.get("indexParams") or ():
        column = (param.get("IndexElem") or {}).get("name")
        if column:
            table.indexed.add(column)
    name = stmt.get("idxname")
    if name:
        key = table_key(rel.get("schemaname"), name)
        if not (stmt.get("if_not_exists") and key in schema.indexes):
            schema.indexes[key] = owner
            schema.index_columns[key] = tuple(
                (p.get("IndexElem") or {}).get("name") or "" for p in stmt.get("indexParams") or ())
            created.indexes.add(key)



def _create_as(schema: Schema, created: Created, stmt: Node) -> None:
    into = stmt.get("into") or {}
    key = relation_key(into.get("rel"))
    if stmt.get("if_not_exists") and key in schema.tables and key not in created.tables:
        return
    kind = "matview" if stmt.get("objtype") == "OBJECT_MATVIEW" else "table"
    schema.tables[key] = Table(kind=kind, known=True,
                               temporary=(into.get("rel") or {}).get("relpersistence") == "t")
    created.tables.add(key)


def _select_into(schema: Schema, created: Created, stmt: Node) -> None:
    into = stmt.get("intoClause")
    if into:
        key = relation_key(into.get("rel"))
        schema.tables[key] = Table(known=True,
                                   temporary=(into.get("rel") or {}).get("relpersistence") == "t")
        created.tables.add(key)


def _sequence(schema: Schema, created: Created, stmt: Node) -> None:
    """A sequence is a relation too: ``ALTER TABLE seq OWNER TO`` on a new one locks nothing
    anyone uses."""
    key = relation_key(stmt.get("sequence"))
    if stmt.get("if_not_exists") and key in schema.tables and key not in created.tables:
        return
    schema.tables[key] = Table(kind="sequence", known=True)
    created.tables.add(key)


def _view(schema: Schema, created: Created, stmt: Node) -> None:
    key = relation_key(stmt.get("view"))
    if key not in schema.tables:
        created.tables.add(key)
    schema.tables[key] = Table(kind="view", known=True)


def _enum(schema: Schema, created: Created, stmt: Node) -> None:
    key = name_key(strings(stmt.get("typeName")))
    schema.types.add(key)
    created.types.add(key)


def _create_schema(schema: Schema, created: Created, stmt: Node) -> None:
    name = stmt.get("schemaname", "")
    if not (stmt.get("if_not_exists") and name in schema.schemas):
        created.schemas.add(name)
    schema.schemas.add(name)


_APPLY: dict[str, Callable[[Schema, Created, Node], None]] = {
    "CreateStmt": _create,
    "CreateForeignTableStmt": _create_foreign,
    "AlterTableStmt": _alter,
    "RenameStmt": _rename,
    "DropStmt": _drop,
    "IndexStmt": _index,
    "CreateTableAsStmt": _create_as,
    "ViewStmt": _view,
    "CreateSeqStmt": _sequence,
    "CreateEnumStmt": _enum,
    "CompositeTypeStmt": lambda s, c, n: _enum(s, c, {"typeName": (n.get("typevar") or {}).get(
        "relname") and [{"String": {"sval": n["typevar"]["relname"]}}]}),
    "CreateDomainStmt": create_domain,
    "AlterDomainStmt": alter_domain,
    "CreateSchemaStmt": _create_schema,
    "CreateFunctionStmt": create_function,
    "AlterFunctionStmt": alter_function,
    "SelectStmt": _select_into,
}


def applies_to(kind: str) -> bool:
    return kind in _APPLY


def apply(schema: Schema, created: Created, kind: str, stmt: Node) -> None:
    """Apply one statement (type ``kind``, ``stmt`` its fields) to ``schema``."""
    handler = _APPLY.get(kind)
    if handler is not None:
        handler(schema, created, stmt)
