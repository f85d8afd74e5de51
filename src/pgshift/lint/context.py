"""Context: what a rule knows when it checks a node.

The schema as it is just before the statement, what this file created (new, empty objects),
the transaction and timeout state, the server version and the statement being checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgshift.lint.replay import Created
from pgshift.lint.rule import Rule, Violation
from pgshift.lint.schema import Schema, Table
from pgshift.lint.source import SourceText, Statement
from pgshift.lint.transaction import Transaction

if TYPE_CHECKING:
    from pgshift.lint.nodes import Node
    from pgshift.lint.options import LintOptions


@dataclass
class Context:
    options: LintOptions
    path: Path
    source: SourceText
    schema: Schema
    tx: Transaction
    created: Created = field(default_factory=Created)
    statement: Statement | None = None
    # The AlterTableStmt (fields) whose command is being checked, and its relation's key.
    alter: dict[str, Any] | None = None
    target: str = ""
    positions: dict[int, int] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    # Locks of SHARE or stronger the file's statements take on tables it did not create.
    locks: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pg_version(self) -> int:
        return self.options.pg_version

    @property
    def in_transaction(self) -> bool:
        """Whether the current statement runs inside a transaction block (a DO block is one)."""
        return self.tx.open or bool(self.statement and self.statement.in_do)

    def is_new(self, key: str) -> bool:
        """Whether the relation was created earlier in this file (so it is empty and unused).

        Names are compared schema and all: a file that set search_path had its unqualified
        names qualified through it before (``lint.search_path``), and a table created in
        another schema says nothing of ``public``'s table of the same name.
        """
        return key in self.created.tables

    @property
    def no_transaction_way(self) -> str:
        """How to run a statement outside a transaction block, for this runner."""
        if self.options.runner == "pgshift":
            return "in a migration of its own marked '-- pgshift:no-transaction'"
        return "outside any transaction block (no BEGIN around it)"

    def altering_table(self) -> bool:
        """Whether the AlterTableStmt being checked targets a table (not a view, index, type)."""
        return self.alter is not None and self.alter.get("objtype") in (
            "OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE")

    def column_added_to_existing_table(self, cmd: Node) -> Node | None:
        """The ``ColumnDef`` an ADD COLUMN command adds to a table that existed before this file
        (adding to a new one is harmless: it is empty and unused), else None."""
        from pgshift.lint.nodes import added_column

        coldef = added_column(cmd)
        if coldef is None or not self.altering_table() or self.is_new(self.target):
            return None
        return coldef

    def existing_column(self, cmd: Node, subtype: str) -> str | None:
        """The column an ALTER TABLE command of ``subtype`` changes, when both the table and the
        column existed before this file (a new one is empty and unused: nothing to flag)."""
        if cmd.get("subtype") != subtype or not self.altering_table():
            return None
        column = cmd.get("name", "")
        if self.is_new(self.target) or (self.target, column) in self.created.columns:
            return None
        return column

    def table(self, key: str) -> Table | None:
        return self.schema.tables.get(key)

    def domain_key(self, type_name: Node | None) -> str | None:
        """The key of the known domain a ``TypeName`` names (an array of it included), found
        through the file's search_path like PostgreSQL; None when it names no known domain."""
        from pgshift.lint.nodes import name_key, strings, table_key
        from pgshift.lint.search_path import schemas

        names = strings((type_name or {}).get("names"))
        if len(names) != 1:
            key = name_key(names)
            return key if key in self.schema.domains else None
        for space in (*schemas(self.tx.search_path), None):
            key = table_key(space, names[0])
            if key in self.schema.domains:
                return key
        return None

    def index_table(self, index_key: str) -> str | None:
        """The table an index belongs to, when known."""
        return self.schema.indexes.get(index_key)

    def rule_state(self, rule: Rule, factory: Any = dict) -> Any:
        """Per-file scratch state of a rule (rules themselves are shared and stateless)."""
        if rule.id not in self.state:
            self.state[rule.id] = factory()
        return self.state[rule.id]

    def violation(
        self,
        rule: Rule,
        message: str,
        hint: str,
        *,
        table: str | None = None,
        statement: int | None = None,
        recipe: str | None = None,
    ) -> Violation:
        """A Violation of ``rule`` at the current statement (or at statement index ``statement``).

        ``recipe``: the ``pgshift create --recipe`` that writes the safe way, named in the hint.

        With ``table`` given and the rule's ``size_matters``, a table known (from a live
        database) to be tiny downgrades an error to a warning.
        """
        severity = rule.severity
        if recipe:
            hint += f" ('pgshift create --recipe {recipe}' writes it)"
        if table is not None and rule.size_matters:
            known = self.schema.tables.get(table)
            rows = known.rows if known is not None else None
            if rows is not None and rows < self.options.small_table_rows and severity == "error":
                severity = "warning"
                message += f" (about {rows} rows in {table}, so it is brief)"
        if statement is None:
            assert self.statement is not None
            index, offset = self.statement.index, self.statement.offset
        else:
            index, offset = statement, self.positions.get(statement, 0)
        line, column = self.source.position(offset)
        return Violation(rule.id, severity, message, hint, self.path, line, column, index)
