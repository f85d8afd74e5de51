"""What the linter knows about the existing database: tables, columns, constraints, indexes.

Filled from a live database (``catalog.py``), a schema file or earlier migrations replayed
statically (``replay.py``). Everything is optional: an unknown table is assumed to exist and
to be large, which is what a migration must be written for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pgshift.lint.coercion import TypeRef

RelKind = Literal["table", "partitioned", "view", "matview", "foreign", "sequence"]
ConKind = Literal["check", "notnull", "foreign", "unique", "primary", "exclude"]


@dataclass
class Column:
    type: TypeRef | None = None
    not_null: bool = False
    has_default: bool = False
    generated: str = ""  # "s": GENERATED … STORED, "v": VIRTUAL (PostgreSQL 18), "": neither


@dataclass
class Constraint:
    """A table constraint. ``proves_not_null`` lists columns a CHECK guarantees are not null;
    ``expr`` is a CHECK's expression (parse tree), ``rendered`` True when it was read back
    from a live database (its constants as that session renders them); ``references`` is a
    foreign key's referenced table (its key; "" when not a foreign key)."""

    kind: ConKind
    validated: bool = True
    columns: frozenset[str] = frozenset()
    proves_not_null: frozenset[str] = frozenset()
    expr: dict[str, Any] | None = field(default=None, compare=False)
    rendered: bool = False
    references: str = ""


@dataclass
class Table:
    kind: RelKind = "table"
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    indexed: set[str] = field(default_factory=set)
    partition_key: tuple[str, ...] = ()  # "" for an expression
    # For a partition: its partitioned table, and its bounds (a PartitionBoundSpec's fields).
    parent: str | None = None
    bound: dict[str, Any] | None = None
    rows: int | None = None
    temporary: bool = False  # CREATE TEMP TABLE: found before the search_path's schemas
    # True when the definition was seen (CREATE TABLE, catalog, schema file); False for a
    # placeholder made because a statement touched a table the linter had not seen.
    known: bool = False

    def column_indexed(self, name: str) -> bool:
        return name in self.indexed

    def referenced_tables(self, own_key: str) -> list[str]:
        """The tables this table's foreign keys reference, itself (``own_key``) left out."""
        found = {c.references for c in self.constraints.values() if c.references}
        found.discard(own_key)
        return sorted(found)

    def proven_not_null(self, column: str) -> bool:
        """A validated constraint (CHECK or PG18 NOT NULL) guarantees ``column`` is not null."""
        return any(c.validated and column in c.proves_not_null for c in self.constraints.values())


@dataclass
class Domain:
    """A domain: its base type, the key of its base when that is a domain too (whose
    constraints then hold as well), its CHECK constraints by name, NOT NULL, and whether it
    has a default (CREATE DOMAIN copies its base domain's) with that default's expression
    (parse tree; None when unknown): a volatile one makes ADD COLUMN rewrite the table."""

    base: TypeRef | None = None
    base_domain: str = ""
    checks: set[str] = field(default_factory=set)
    not_null: bool = False
    has_default: bool = False
    default: dict[str, Any] | None = field(default=None, compare=False)


@dataclass
class Schema:
    """Relations by key (``users``, ``audit.logs``), plus indexes, types, schemas and the
    volatility of user functions."""

    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    domains: dict[str, Domain] = field(default_factory=dict)
    schemas: set[str] = field(default_factory=set)
    # An index's key columns in order ("" for an expression), when its definition was seen.
    index_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # User functions by key: each overload's input argument types -> provolatile (i, s, v).
    functions: dict[str, dict[str, str]] = field(default_factory=dict)

    def function_volatile(self, key: str) -> bool | None:
        """Whether calling function ``key`` may be volatile: True when an overload is (or
        may be), False when every known overload is STABLE or IMMUTABLE, None if unknown."""
        overloads = self.functions.get(key)
        if not overloads:
            return None
        return any(v not in ("i", "s") for v in overloads.values())

    def table(self, key: str) -> Table | None:
        return self.tables.get(key)

    def domain_chain(self, key: str) -> list[Domain]:
        """Domain ``key`` and its base domains, nearest first ([] when ``key`` is not a known
        domain)."""
        chain: list[Domain] = []
        seen: set[str] = set()
        while key in self.domains and key not in seen:
            seen.add(key)
            chain.append(self.domains[key])
            key = chain[-1].base_domain
        return chain

    def domain_constrained(self, key: str) -> bool:
        """Whether PostgreSQL must check a value of domain ``key``: it or a base domain has a
        CHECK (valid or not) or NOT NULL (``DomainHasConstraints``)."""
        return any(d.checks or d.not_null for d in self.domain_chain(key))

    def domain_base(self, key: str) -> TypeRef | None:
        """The type under domain ``key`` and its base domains, when known."""
        chain = self.domain_chain(key)
        return chain[-1].base if chain else None

    def column(self, key: str, name: str) -> Column | None:
        table = self.tables.get(key)
        return table.columns.get(name) if table is not None else None

    def default_partition(self, parent: str) -> str | None:
        """The key of ``parent``'s DEFAULT partition, when the linter knows one."""
        for key, table in self.tables.items():
            if table.parent == parent and (table.bound or {}).get("is_default"):
                return key
        return None

    def referencing_tables(self, key: str) -> list[str]:
        """The tables with a foreign key that references ``key`` (``key`` itself left out)."""
        return [name for name, table in self.tables.items() if name != key and any(
            c.references == key for c in table.constraints.values())]

    def rename_table(self, old: str, new: str) -> None:
        table = self.tables.pop(old, None)
        if table is not None:
            self.tables[new] = table
        for index, owner in self.indexes.items():
            if owner == old:
                self.indexes[index] = new
        for model in self.tables.values():  # foreign keys follow the table (by oid)
            for con in model.constraints.values():
                if con.references == old:
                    con.references = new

    def drop_table(self, key: str) -> None:
        self.tables.pop(key, None)
        for index in [i for i, owner in self.indexes.items() if owner == key]:
            del self.indexes[index]
            self.index_columns.pop(index, None)
        # Foreign keys to it went with it (DROP … CASCADE; without CASCADE the DROP fails).
        for model in self.tables.values():
            for name in [n for n, c in model.constraints.items() if c.references == key]:
                del model.constraints[name]
