"""Which table locks of SHARE or stronger a statement takes on existing relations.

A lock of SHARE or stronger conflicts with the app's writes (ACCESS EXCLUSIVE with its reads
too); while the migration waits for it behind a long transaction, every later query on the
table queues behind the migration. This is what ``lock_timeout`` bounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.lint.definitions import drop_targets
from pgshift.lint.nodes import Node, name_key, option_enabled, relation_key, strings

if TYPE_CHECKING:
    from pgshift.lint.context import Context

SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
LOCK_MODES = {5: SHARE, 6: SHARE_ROW_EXCLUSIVE, 7: EXCLUSIVE, 8: ACCESS_EXCLUSIVE}
_RANK = {SHARE: 5, SHARE_ROW_EXCLUSIVE: 6, EXCLUSIVE: 7, ACCESS_EXCLUSIVE: 8}
WHAT_IT_BLOCKS = {
    SHARE: "blocks writes",
    SHARE_ROW_EXCLUSIVE: "blocks writes",
    EXCLUSIVE: "blocks writes",
    ACCESS_EXCLUSIVE: "blocks reads and writes",
}
# ALTER TABLE commands that take SHARE UPDATE EXCLUSIVE at most (no conflict with the app).
_WEAK_COMMANDS = {
    "AT_ValidateConstraint", "AT_SetStatistics", "AT_SetOptions", "AT_ResetOptions",
    "AT_SetRelOptions", "AT_ResetRelOptions", "AT_ClusterOn", "AT_DropCluster",
}
_SRE_COMMANDS = {
    "AT_EnableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig", "AT_EnableTrigAll",
    "AT_EnableTrigUser", "AT_DisableTrig", "AT_DisableTrigAll", "AT_DisableTrigUser",
}
_RELATIONS = {"OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE", "OBJECT_VIEW"}

Lock = tuple[str, str]


def strongest(locks: list[Lock]) -> Lock | None:
    return max(locks, key=lambda lock: _RANK[lock[1]]) if locks else None


def _existing(ctx: Context, key: str) -> bool:
    return bool(key) and not ctx.is_new(key)


def _references(constraints: list[Node], ctx: Context) -> list[Lock]:
    locks = []
    for con in constraints:
        fields = con.get("Constraint", con)
        if fields.get("contype") == "CONSTR_FOREIGN":
            key = relation_key(fields.get("pktable"))
            if _existing(ctx, key):
                locks.append((key, SHARE_ROW_EXCLUSIVE))
    return locks


def drop_links(ctx: Context, keys: list[str], cascade: bool) -> list[str]:
    """The existing tables besides ``keys`` that DROP TABLE of ``keys`` locks ACCESS EXCLUSIVE,
    as far as the linter knows: those their foreign keys reference (the keys' triggers on them
    go), and with CASCADE those whose foreign keys reference them (those keys go)."""
    linked: dict[str, None] = {}
    for key in keys:
        table = ctx.schema.tables.get(key)
        if table is not None:
            linked.update(dict.fromkeys(table.referenced_tables(key)))
        if cascade:
            linked.update(dict.fromkeys(ctx.schema.referencing_tables(key)))
    return [key for key in linked if key not in keys and _existing(ctx, key)]


def truncate_links(ctx: Context, keys: list[str]) -> list[str]:
    """The existing tables besides ``keys`` that TRUNCATE … CASCADE of ``keys`` also empties
    (under ACCESS EXCLUSIVE): those referencing them by foreign keys, recursively."""
    seen = dict.fromkeys(keys)
    queue = list(keys)
    while queue:
        for referencing in ctx.schema.referencing_tables(queue.pop()):
            if referencing not in seen:
                seen[referencing] = None
                queue.append(referencing)
    return [key for key in seen if key not in keys and _existing(ctx, key)]


def _dropped_foreign_keys(cmd: Node, key: str, ctx: Context) -> list[Lock]:
    """Dropping a foreign key (DROP CONSTRAINT, or DROP COLUMN of one of its columns) drops its
    triggers on the referenced table, under ACCESS EXCLUSIVE there too."""
    subtype = cmd.get("subtype")
    table = ctx.schema.tables.get(key)
    if subtype not in ("AT_DropConstraint", "AT_DropColumn") or table is None:
        return []
    name = cmd.get("name", "")
    if subtype == "AT_DropConstraint":
        found = [table.constraints[name]] if name in table.constraints else []
    else:
        found = [c for c in table.constraints.values() if name in c.columns]
    targets = dict.fromkeys(c.references for c in found if c.references and c.references != key)
    return [(target, ACCESS_EXCLUSIVE) for target in targets if _existing(ctx, target)]


def alter_command_locks(cmd: Node, key: str, ctx: Context) -> list[Lock]:
    """Locks one ``AlterTableCmd`` takes (``key``: its table)."""
    subtype = cmd.get("subtype", "")
    definition = cmd.get("def") or {}
    locks: list[Lock] = []
    if subtype in ("AT_AttachPartition", "AT_DetachPartition"):
        partition = relation_key((definition.get("PartitionCmd") or {}).get("name"))
        concurrent = (definition.get("PartitionCmd") or {}).get("concurrent")
        if subtype == "AT_DetachPartition" and concurrent:
            return []
        if subtype == "AT_DetachPartition" or ctx.pg_version < 12:
            locks.append((key, ACCESS_EXCLUSIVE))
        if _existing(ctx, partition):
            locks.append((partition, ACCESS_EXCLUSIVE))
        return [lock for lock in locks if _existing(ctx, lock[0])]
    if subtype in _WEAK_COMMANDS:
        return []
    if subtype == "AT_AddConstraint" and "Constraint" in definition:
        refs = _references([definition], ctx)
        if refs:
            return refs + ([(key, SHARE_ROW_EXCLUSIVE)] if _existing(ctx, key) else [])
    if subtype == "AT_AddColumn" and "ColumnDef" in definition:
        locks.extend(_references(definition["ColumnDef"].get("constraints") or [], ctx))
    locks.extend(_dropped_foreign_keys(cmd, key, ctx))
    mode = SHARE_ROW_EXCLUSIVE if subtype in _SRE_COMMANDS else ACCESS_EXCLUSIVE
    if _existing(ctx, key):
        locks.append((key, mode))
    return locks


def statement_locks(kind: str, stmt: Node, ctx: Context) -> list[Lock]:
    """Locks of SHARE or stronger that a statement takes on relations this file did not create."""
    handler = _HANDLERS.get(kind)
    return handler(stmt, ctx) if handler is not None else []


def _alter(stmt: Node, ctx: Context) -> list[Lock]:
    objtype = stmt.get("objtype")
    key = relation_key(stmt.get("relation"))
    cmds = [c.get("AlterTableCmd") or {} for c in stmt.get("cmds") or ()]
    if objtype == "OBJECT_INDEX":
        owner = ctx.index_table(key) or key
        if key in ctx.created.indexes or ctx.is_new(owner):
            return []
        return [(owner, ACCESS_EXCLUSIVE)] if any(
            c.get("subtype") == "AT_SetTableSpace" for c in cmds) else []
    if objtype not in _RELATIONS or objtype == "OBJECT_VIEW":
        return []
    locks: list[Lock] = []
    for cmd in cmds:
        locks.extend(alter_command_locks(cmd, key, ctx))
    return locks


def _rename(stmt: Node, ctx: Context) -> list[Lock]:
    kind = stmt.get("renameType")
    if kind in ("OBJECT_COLUMN", "OBJECT_TABCONSTRAINT"):
        kind = stmt.get("relationType")
    if kind not in _RELATIONS:
        return []
    key = relation_key(stmt.get("relation"))
    return [(key, ACCESS_EXCLUSIVE)] if _existing(ctx, key) else []


def _index(stmt: Node, ctx: Context) -> list[Lock]:
    key = relation_key(stmt.get("relation"))
    if stmt.get("concurrent") or not _existing(ctx, key):
        return []
    return [(key, SHARE)]


def _drop(stmt: Node, ctx: Context) -> list[Lock]:
    kind = stmt.get("removeType")
    if kind in _RELATIONS:
        keys = drop_targets(stmt)
        linked = drop_links(ctx, keys, stmt.get("behavior") == "DROP_CASCADE")
        return [(key, ACCESS_EXCLUSIVE) for key in [*keys, *linked] if _existing(ctx, key)]
    if kind == "OBJECT_INDEX" and not stmt.get("concurrent"):
        locks = []
        for key in drop_targets(stmt):
            owner = ctx.index_table(key) or key
            if key not in ctx.created.indexes and _existing(ctx, owner):
                locks.append((owner, ACCESS_EXCLUSIVE))
        return locks
    if kind in ("OBJECT_TRIGGER", "OBJECT_RULE", "OBJECT_POLICY"):
        locks = []
        for obj in stmt.get("objects") or ():
            names = strings((obj.get("List") or {}).get("items"))
            key = name_key(names[:-1])
            if _existing(ctx, key):
                locks.append((key, ACCESS_EXCLUSIVE))
        return locks
    return []


def _relations(items: list[Node] | None, ctx: Context, mode: str) -> list[Lock]:
    keys = [relation_key(i.get("RangeVar") or i) for i in items or ()]
    return [(key, mode) for key in keys if _existing(ctx, key)]


def _truncate(stmt: Node, ctx: Context) -> list[Lock]:
    locks = _relations(stmt.get("relations"), ctx, ACCESS_EXCLUSIVE)
    if stmt.get("behavior") == "DROP_CASCADE":
        keys = [relation_key(r.get("RangeVar") or r) for r in stmt.get("relations") or ()]
        locks.extend((key, ACCESS_EXCLUSIVE) for key in truncate_links(ctx, keys))
    return locks


def _reindex(stmt: Node, ctx: Context) -> list[Lock]:
    """The table's lock as its queries meet it: REINDEX locks the table SHARE but each index
    ACCESS EXCLUSIVE, and planning any query of the table opens all of its indexes."""
    if option_enabled(stmt.get("params"), "concurrently"):
        return []
    kind = stmt.get("kind", "")
    if kind == "REINDEX_OBJECT_INDEX":
        key = relation_key(stmt.get("relation"))
        owner = ctx.index_table(key) or key
        return [] if key in ctx.created.indexes or ctx.is_new(owner) else [
            (owner, ACCESS_EXCLUSIVE)]
    if kind == "REINDEX_OBJECT_TABLE":
        key = relation_key(stmt.get("relation"))
        return [(key, ACCESS_EXCLUSIVE)] if _existing(ctx, key) else []
    return [(stmt.get("name") or "every table", ACCESS_EXCLUSIVE)]


def _vacuum(stmt: Node, ctx: Context) -> list[Lock]:
    if not stmt.get("is_vacuumcmd") or not option_enabled(stmt.get("options"), "full"):
        return []
    rels = [(r.get("VacuumRelation") or {}).get("relation") for r in stmt.get("rels") or ()]
    if not rels:
        return [("every table", ACCESS_EXCLUSIVE)]
    return [(relation_key(r), ACCESS_EXCLUSIVE) for r in rels if _existing(ctx, relation_key(r))]


def _cluster(stmt: Node, ctx: Context) -> list[Lock]:
    key = relation_key(stmt.get("relation")) or "every clustered table"
    return [(key, ACCESS_EXCLUSIVE)] if _existing(ctx, key) else []


def _refresh(stmt: Node, ctx: Context) -> list[Lock]:
    key = relation_key(stmt.get("relation"))
    mode = EXCLUSIVE if stmt.get("concurrent") else ACCESS_EXCLUSIVE
    return [(key, mode)] if _existing(ctx, key) else []


def _lock(stmt: Node, ctx: Context) -> list[Lock]:
    mode = LOCK_MODES.get(int(stmt.get("mode") or 8))
    return _relations(stmt.get("relations"), ctx, mode) if mode else []


def _trigger(stmt: Node, ctx: Context) -> list[Lock]:
    key = relation_key(stmt.get("relation"))
    return [(key, SHARE_ROW_EXCLUSIVE)] if _existing(ctx, key) else []


def _policy(stmt: Node, ctx: Context) -> list[Lock]:
    """CREATE/ALTER POLICY lock their table ACCESS EXCLUSIVE (policy.c)."""
    key = relation_key(stmt.get("table"))
    return [(key, ACCESS_EXCLUSIVE)] if _existing(ctx, key) else []


def _rule(stmt: Node, ctx: Context) -> list[Lock]:
    key = relation_key(stmt.get("relation"))
    return [(key, ACCESS_EXCLUSIVE)] if _existing(ctx, key) else []


def domain_scan(stmt: Node) -> bool:
    """Whether an ALTER DOMAIN checks the existing values: ADD CONSTRAINT (a CHECK or NOT NULL)
    without NOT VALID, VALIDATE CONSTRAINT or SET NOT NULL."""
    subtype = stmt.get("subtype")
    if subtype == "C":
        return not ((stmt.get("def") or {}).get("Constraint") or {}).get("skip_validation")
    return subtype in ("V", "O")


def domain_tables(ctx: Context, key: str) -> list[str]:
    """Tables this file did not create that have a column of domain ``key`` (or of a domain
    over it, or an array of either), as far as the linter knows."""
    domains = {k for k in ctx.schema.domains if key in _chain_keys(ctx, k)} | {key}
    names = {k.rsplit(".", 1)[-1] for k in domains}
    return [table for table, model in ctx.schema.tables.items() if not ctx.is_new(table) and any(
        c.type is not None and c.type.name in names for c in model.columns.values())]


def _chain_keys(ctx: Context, key: str) -> list[str]:
    keys = []
    while key in ctx.schema.domains and key not in keys:
        keys.append(key)
        key = ctx.schema.domains[key].base_domain
    return keys


def _domain(stmt: Node, ctx: Context) -> list[Lock]:
    """A domain's scan holds SHARE on every table with a column of it (typecmds.c)."""
    key = name_key(strings(stmt.get("typeName")))
    if not domain_scan(stmt) or key in ctx.created.types:
        return []
    return [(table, SHARE) for table in domain_tables(ctx, key)]


def _create(stmt: Node, ctx: Context) -> list[Lock]:
    locks: list[Lock] = []
    for element in stmt.get("tableElts") or ():
        if "Constraint" in element:
            locks.extend(_references([element], ctx))
        elif "ColumnDef" in element:
            locks.extend(_references(element["ColumnDef"].get("constraints") or [], ctx))
    if stmt.get("partbound"):
        for parent in stmt.get("inhRelations") or ():
            key = relation_key(parent.get("RangeVar"))
            if _existing(ctx, key):
                locks.append((key, ACCESS_EXCLUSIVE))
            # The DEFAULT partition is scanned for rows of the new bounds, and locked for it.
            default = ctx.schema.default_partition(key)
            if default is not None and _existing(ctx, default) and not (
                    stmt["partbound"].get("is_default")):
                locks.append((default, ACCESS_EXCLUSIVE))
    return locks


_HANDLERS = {
    "AlterTableStmt": _alter,
    "RenameStmt": _rename,
    "IndexStmt": _index,
    "DropStmt": _drop,
    "ReindexStmt": _reindex,
    "TruncateStmt": _truncate,
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "RefreshMatViewStmt": _refresh,
    "LockStmt": _lock,
    "CreateTrigStmt": _trigger,
    "RuleStmt": _rule,
    "CreatePolicyStmt": _policy,
    "AlterPolicyStmt": _policy,
    "CreateStmt": _create,
    "AlterDomainStmt": _domain,
}
LOCKING_STATEMENTS = tuple(_HANDLERS)
