"""The statements of a psql script as psql reads them: a migration's body with its callbacks,
each statement headed by its file and line, and a role's ``PASSWORD '…'`` turned into a psql
variable given with ``-v``, so that no password is in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pgshift.errors import InputError
from pgshift.migrations.statements import Statement
from pgshift.runner import Direction, body_statements

if TYPE_CHECKING:
    from pgshift.callbacks import Callbacks
    from pgshift.migrations.model import Migration

SECRET_VARIABLE = "pgshift_secret_{}"
_ROLE_STATEMENTS = ("CreateRoleStmt", "AlterRoleStmt")


def script_body(migration: Migration, direction: Direction, callbacks: Callbacks | None,
                variables: list[str]) -> list[Statement]:
    """The statements the migration runs, with its beforeEach…/afterEach… callbacks; what a
    script cannot run is refused here. The psql variables its passwords become are added to
    ``variables``."""
    body = body_statements(migration, direction)
    from pgshift.backfill.migration import marked_backfills

    backfills = marked_backfills(migration, direction, body)
    if backfills:
        line = body[min(backfills)].line
        raise InputError("a batched backfill (-- pgshift:backfill) cannot run from a script",
                         path=migration.path, line=line, migration=migration.label,
                         hint="apply this migration with 'pgshift up'; script the ones "
                              "before it with --to")
    statements = callbacks.around(body, direction) if callbacks else body
    return [_without_passwords(s, variables) for s in statements]


def _without_passwords(statement: Statement, variables: list[str]) -> Statement:
    """A role's password literal becomes a psql variable (``-v``): never in the file."""
    from pgshift.redaction import sql_passwords

    spans = sql_passwords(statement.text)
    if not spans:
        return statement
    if type(statement.node).__name__ not in _ROLE_STATEMENTS:
        raise InputError(
            "sets a password where a script could only write it in clear",
            path=statement.path, line=statement.line,
            hint="set it in a CREATE ROLE or ALTER ROLE statement of its own (the script "
                 "then asks for it with psql -v), or apply this migration with pgshift")
    names = [SECRET_VARIABLE.format(len(variables) + n) for n in range(1, len(spans) + 1)]
    variables += names
    text = statement.text
    for (start, end), name in reversed(list(zip(spans, names, strict=True))):
        text = f"{text[:start]}:'{name}'{text[end:]}"
    return Statement(text, statement.line, statement.path, statement.offset)


def statement_lines(statements: Sequence[Statement]) -> list[str]:
    """The script's lines for ``statements``: each headed by its file and line."""
    lines = []
    for statement in statements:
        if not statement.text.strip():
            continue
        text = statement.text.rstrip()
        ends_in_comment = "--" in text.rsplit("\n", 1)[-1]
        lines += [comment(f"{statement.path.name}:{statement.line}"),
                  text + ("\n;" if ends_in_comment else ";")]
    return lines


def comment(text: str) -> str:
    """An SQL comment line: a line break in a name (a database's, a file's) would end it, and
    psql would run the rest."""
    return "-- " + " ".join(text.splitlines())
