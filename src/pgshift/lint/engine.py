"""The lint engine: parse one file, walk its statements in order, dispatch rules, apply ignores.

Each statement is checked against the schema as it is just before it runs, then applied to
that schema (``replay``), so later statements and later files see its effect. ALTER TABLE is
dispatched command by command (rules visiting ``AlterTableCmd``) after the statement itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pgshift.errors import InputError
from pgshift.lint.context import Context
from pgshift.lint.conventions import tool_file
from pgshift.lint.locks import ACCESS_EXCLUSIVE, LOCKING_STATEMENTS, statement_locks
from pgshift.lint.nodes import relation_key
from pgshift.lint.options import LintOptions
from pgshift.lint.replay import (
    Created,
    apply,
    apply_alter_cmd,
    note_attached_rows,
    note_partition,
)
from pgshift.lint.rule import Rule, Violation, all_rules
from pgshift.lint.schema import Schema, Table
from pgshift.lint.search_path import qualify, schemas
from pgshift.lint.source import Ignore, SourceText, SqlSyntaxError, Statement, parse_source
from pgshift.lint.transaction import Transaction

UNUSED_IGNORE = "unused-ignore"
_TABLE_OBJECTS = (None, "OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE")


@dataclass(frozen=True)
class Prepared:
    """The SQL of a file that runs, and how it runs."""

    sql: str
    transactional: bool
    lock_timeout: bool
    statement_timeout: bool
    # Who wraps the file in a transaction: pgshift, or another tool (goose, dbmate…).
    wrapper: str = "pgshift"


def prepare(text: str, path: Path, options: LintOptions) -> Prepared:
    """The up part of a pgshift migration (with its directives), or a whole plain SQL file.

    goose, sql-migrate and dbmate files keep their down part in the same file: only the up
    part is linted, and it runs in a transaction unless the file says otherwise, as those
    tools do. A dbmate file ``pgshift up`` refuses raises its InputError.
    """
    tool = tool_file(text, path)
    if options.runner == "psql":
        if tool is not None:
            return Prepared(tool.sql, tool.transactional, False, False, wrapper=tool.tool)
        return Prepared(text, False, False, False)
    from pgshift.migrations.parse import parse_text

    if tool is not None:
        text = tool.sql
    parsed = parse_text(text, path)
    d = parsed.directives
    lock_timeout = d.lock_timeout if d.lock_timeout is not None else options.lock_timeout
    # pgshift runs a dbmate or node-pg-migrate file as that tool would: without a transaction
    # when its marker says so.
    transactional = d.transactional and (tool is None or tool.transactional)
    return Prepared(parsed.up_sql, transactional, lock_timeout > 0, True)


# Files ``pgshift up`` refuses whole; lint reads them as their own tool runs them.
_REFUSED_BY_UP = ("goose", "sql-migrate")


def _refuse_as_up(sql: str, path: Path) -> None:
    """Raise the InputError ``pgshift up`` raises for ``sql``, the up part of a file, before
    running anything: a ``${name}`` without a value, ``COPY … FROM stdin`` or ``TO stdout``
    (and the syntax error of COPY rows, with up's hint). Up's own checks, called as it calls
    them; the linter's parse reports every other syntax error, with its column."""
    if "${" in sql:  # the placeholders were filled before (see workers.run)
        from pgshift.placeholders import check_resolved

        check_resolved(sql, path)
    lowered = sql.lower()
    if "stdin" in lowered or "stdout" in lowered:  # only such a file can hold a client COPY
        from pgshift.migrations.statements import split_statements

        split_statements(sql, path)


class Engine:
    """Runs the selected rules over files; shared by every file of a lint run."""

    def __init__(self, options: LintOptions) -> None:
        self.options = options
        self.selected = options.rule_ids()
        self.rules: list[Rule] = [cls() for rid, cls in sorted(all_rules().items())
                                  if rid in self.selected]
        self.dispatch: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for node in rule.nodes:
                self.dispatch.setdefault(node, []).append(rule)
        self.known = frozenset(all_rules())
        self.unignorable = frozenset(rid for rid, cls in all_rules().items() if cls.always)
        self.finishers = [r for r in self.rules if type(r).finish is not Rule.finish]

    def lint(self, text: str, path: Path, schema: Schema) -> list[Violation]:
        """Violations of one file; ``schema`` is updated with the file's effects.

        With the pgshift runner, what ``pgshift up`` refuses in the file before running it
        raises up's own InputError (see ``_refuse_as_up``).
        """
        prepared = prepare(text, path, self.options)
        if self.options.runner == "pgshift" and prepared.wrapper not in _REFUSED_BY_UP:
            _refuse_as_up(prepared.sql, path)
        return self.lint_prepared(prepared, path, schema)

    def lint_prepared(self, prepared: Prepared, path: Path, schema: Schema,
                      created: Created | None = None,
                      locks: list[tuple[str, str]] | None = None) -> list[Violation]:
        """Violations of SQL whose runner settings are known (``Prepared``).

        ``created``: objects already known to be new and empty (made by earlier migrations of
        the same ``up`` run); the file's own creations are added to it. ``locks``, when given,
        receives the (table, mode) locks of SHARE or stronger the statements take.
        """
        source, statements, ignores = self._parse(prepared.sql, path)
        runner = "pgshift" if prepared.wrapper != "pgshift" else self.options.runner
        tx = Transaction.start(runner=runner, transactional=prepared.transactional,
                               lock_timeout=prepared.lock_timeout,
                               statement_timeout=prepared.statement_timeout,
                               wrapper=prepared.wrapper)
        ctx = Context(self.options, path, source, schema, tx,
                      created if created is not None else Created())
        found: list[Violation] = []
        last = -1
        do_block = False  # a DO block outside a transaction block is a transaction of its own
        for statement in statements:
            if statement.index != last:
                if do_block:
                    tx.end()
                    do_block = False
                if last >= 0:
                    tx.after_statement()
                last = statement.index
                ctx.positions[statement.index] = statement.offset
            if statement.in_do and not tx.open:
                tx.open = do_block = True
            try:
                found.extend(self._statement(statement, ctx))
            except RecursionError:
                raise _too_deep(source, statement, path) from None
        if do_block:
            tx.end()
        for rule in self.finishers:
            found.extend(rule.finish(ctx))
        if locks is not None:
            locks.extend(ctx.locks)
        return self._apply_ignores(found, ignores, ctx)

    def replay(self, text: str, path: Path, schema: Schema, *, plain: bool = False) -> None:
        """Apply a file's schema changes without linting it: an earlier migration, or (``plain``)
        a schema file such as ``pg_dump --schema-only`` output."""
        sql = text if plain else prepare(text, path, self.options).sql
        source, statements, _ = self._parse(sql, path, meta=plain)
        created = Created()
        tx = Transaction.start(runner="psql", transactional=False, lock_timeout=False)
        for statement in statements:
            kind, node = statement.kind, statement.node
            search = schemas(tx.search_path)
            try:
                if search:
                    qualify(kind, node, search, schema)
                apply(schema, created, kind, node)
            except RecursionError:
                raise _too_deep(source, statement, path) from None
            if kind == "VariableSetStmt":
                tx.set_variable(node)
            elif kind == "SelectStmt" and node.get("targetList"):
                tx.set_config_calls(node)

    def _parse(self, sql: str, path: Path, *, meta: bool = False
               ) -> tuple[SourceText, list[Statement], list[Ignore]]:
        try:
            return parse_source(sql, meta_commands=meta or self.options.runner == "psql")
        except SqlSyntaxError as exc:
            raise InputError(f"{exc.message} (column {exc.column})", path=path, line=exc.line,
                             hint="PostgreSQL's parser rejects this SQL") from None

    def _statement(self, statement: Statement, ctx: Context) -> Iterable[Violation]:
        ctx.statement = statement
        kind, node = statement.kind, statement.node
        tx = ctx.tx
        search = schemas(tx.search_path)
        if search:
            qualify(kind, node, search, ctx.schema)
        found: list[Violation] = []
        for rule in self.dispatch.get(kind, ()):
            found.extend(rule.check(node, ctx))
        for inner_kind, inner in _data_modifying_ctes(node):  # WITH x AS (UPDATE …) SELECT …
            for rule in self.dispatch.get(inner_kind, ()):
                found.extend(rule.check(inner, ctx))
        if kind in _LOCKING:
            locks = statement_locks(kind, node, ctx)
            ctx.locks.extend(locks)
            if tx.open:
                tx.exclusive.update(k for k, mode in locks if mode == ACCESS_EXCLUSIVE)
        if kind == "AlterTableStmt":
            found.extend(self._alter(node, ctx))
        else:
            if kind == "CreateStmt" and "ColumnDef" in self.dispatch:
                found.extend(self._column_defs(node, ctx))
            apply(ctx.schema, ctx.created, kind, node)
        if kind == "TransactionStmt":
            self._transaction(node, statement.index, tx)
        elif kind == "VariableSetStmt":
            tx.set_variable(node)
        elif kind == "SelectStmt" and node.get("targetList"):
            tx.set_config_calls(node)
        return found

    def _alter(self, node: dict, ctx: Context) -> list[Violation]:
        key = relation_key(node.get("relation"))
        ctx.alter, ctx.target = node, key
        rules = self.dispatch.get("AlterTableCmd", ())
        table_like = node.get("objtype") in _TABLE_OBJECTS
        table = ctx.schema.tables.get(key)
        if table is None and table_like:
            table = ctx.schema.tables[key] = Table()
        found: list[Violation] = []
        for item in node.get("cmds") or ():
            cmd = item.get("AlterTableCmd") or {}
            if table is not None and _adds_existing_column(cmd, table):
                continue  # ADD COLUMN IF NOT EXISTS of a column already there: PostgreSQL skips it
            for rule in rules:
                found.extend(rule.check(cmd, ctx))
            if cmd.get("subtype") == "AT_AddColumn" and "ColumnDef" in (cmd.get("def") or {}):
                coldef = cmd["def"]["ColumnDef"]
                for rule in self.dispatch.get("ColumnDef", ()):
                    found.extend(rule.check(coldef, ctx))
                ctx.created.columns.add((key, coldef.get("colname", "")))
            if table is not None and table_like:
                apply_alter_cmd(table, key, cmd)
                note_partition(ctx.schema, key, cmd)
                note_attached_rows(ctx.created, key, cmd)
        ctx.alter, ctx.target = None, ""
        return found

    def _column_defs(self, node: dict, ctx: Context) -> list[Violation]:
        ctx.target = relation_key(node.get("relation"))
        found: list[Violation] = []
        for element in node.get("tableElts") or ():
            if "ColumnDef" in element:
                for rule in self.dispatch["ColumnDef"]:
                    found.extend(rule.check(element["ColumnDef"], ctx))
        ctx.target = ""
        return found

    @staticmethod
    def _transaction(node: dict, index: int, tx: Transaction) -> None:
        kind = node.get("kind", "")
        if tx.runner_transaction:
            return  # pgshift refuses transaction control in a transactional file
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START") and not tx.open:
            tx.begin(index)
        elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE") and tx.open:
            tx.end(chain=bool(node.get("chain")), rolled_back=kind == "TRANS_STMT_ROLLBACK")

    def _apply_ignores(self, found: list[Violation], ignores: list[Ignore],
                       ctx: Context) -> list[Violation]:
        by_statement: dict[int, list[Ignore]] = {}
        for ignore in ignores:
            by_statement.setdefault(ignore.statement, []).append(ignore)
        kept = []
        for violation in found:
            suppressed = False
            for ignore in by_statement.get(violation.statement, ()):
                if violation.rule in ignore.rules and violation.rule not in self.unignorable:
                    ignore.used.add(violation.rule)
                    suppressed = True
            if not suppressed:
                kept.append(violation)
        if UNUSED_IGNORE in self.selected:
            kept.extend(self._unused(ignores, ctx))
        kept.sort(key=lambda v: (v.line, v.column, v.rule))
        return kept

    def _unused(self, ignores: list[Ignore], ctx: Context) -> list[Violation]:
        rule = all_rules()[UNUSED_IGNORE]
        result = []
        for ignore in ignores:
            for rid in ignore.rules or ("",):
                if rid in ignore.used or (rid in self.known and rid not in self.selected):
                    continue
                if not rid:
                    message = "'-- pgshift:ignore' names no rule"
                elif rid not in self.known:
                    message = f"'-- pgshift:ignore {rid}' names an unknown rule"
                elif ignore.statement < 0:
                    message = f"'-- pgshift:ignore {rid}' is followed by no statement"
                elif rid in self.unignorable:
                    message = f"'-- pgshift:ignore {rid}' cannot suppress it: PostgreSQL " \
                              "refuses the statement there, so the migration would fail"
                else:
                    message = f"'-- pgshift:ignore {rid}' suppresses nothing: the next " \
                              f"statement has no {rid} finding"
                result.append(Violation(rule.id, rule.severity, message,
                                        "remove the comment, or fix the rule id",
                                        ctx.path, ignore.line, ignore.column, ignore.statement))
        return result


def _adds_existing_column(cmd: dict, table: Table) -> bool:
    """``ADD COLUMN IF NOT EXISTS`` of a column the table already has (a no-op)."""
    if cmd.get("subtype") != "AT_AddColumn" or not cmd.get("missing_ok"):
        return False
    return ((cmd.get("def") or {}).get("ColumnDef") or {}).get("colname") in table.columns


def _too_deep(source: SourceText, statement: Statement, path: Path) -> InputError:
    line, _ = source.position(statement.offset)
    return InputError("this statement nests too deeply for the linter", path=path, line=line,
                      hint="split the expression into simpler parts")


# Every statement the lock model knows (CREATE TABLE … PARTITION OF and ALTER DOMAIN too).
_LOCKING = frozenset(LOCKING_STATEMENTS)


def _data_modifying_ctes(node: dict) -> Iterable[tuple[str, dict]]:
    """The UPDATE and DELETE statements in ``node``'s WITH clause: they run as statements do."""
    for cte in (node.get("withClause") or {}).get("ctes") or ():
        query = (cte.get("CommonTableExpr") or {}).get("ctequery") or {}
        for kind in ("UpdateStmt", "DeleteStmt"):
            if kind in query:
                yield kind, query[kind]
