"""``${name}`` placeholders in migration SQL, Flyway-style.

Values come from the ``[placeholders]`` table of the config and ``PGSHIFT_PLACEHOLDER_<NAME>``
variables (``Settings.placeholders``); names match case-insensitively. Discovery replaces the
placeholders it has a value for (the checksum stays that of the raw file, so changing a value is
not drift); one still in the SQL when it is about to run is an ``InputError`` naming the file and
line. Every ``${name}`` counts, in strings and comments too, as in Flyway.

A placeholder whose name says it holds a secret (``db_password``, ``api_token``, see
``SECRET_NAME``) is masked where pgshift shows SQL (``up --dry-run``): its value may sit where
the password masking cannot see it, e.g. ``format('… PASSWORD %L', '${app_password}')``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pgshift.errors import InputError

if TYPE_CHECKING:
    from pgshift.migrations.model import Migration

PATTERN = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_.:-]*)\}")
SECRET_NAME = re.compile(r"pass(?:word|wd)|pwd|secret|token|api[_.-]?key|credential", re.I)


def _lookup(values: Mapping[str, str]) -> dict[str, str]:
    folded = {name.lower(): value for name, value in values.items()}
    folded.update(values)
    return folded


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``${name}`` that has a value replaced; the others are left as is."""
    if "${" not in text or not values:
        return text
    known = _lookup(values)

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        value = known.get(name, known.get(name.lower()))
        return match[0] if value is None else value

    return PATTERN.sub(replace, text)


def fill(migration: Migration, values: Mapping[str, str] | None) -> Migration:
    """``migration`` with the placeholders of its up and down SQL replaced (checksum unchanged)."""
    if not values:
        return migration
    up = substitute(migration.up_sql, values)
    down = substitute(migration.down_sql, values) if migration.down_sql is not None else None
    if up is migration.up_sql and down is migration.down_sql:
        return migration
    return replace(migration, up_sql=up, down_sql=down)


def check_resolved(text: str, path: Path, *, first_line: int = 1) -> None:
    """Raise InputError at the first ``${name}`` left in ``text`` (line 1 is ``first_line``)."""
    if "${" not in text:
        return
    match = PATTERN.search(text)
    if match is None:
        return
    name = match["name"]
    line = first_line + text.count("\n", 0, match.start())
    raise InputError(f"no value for placeholder ${{{name}}}", path=path, line=line,
                     hint=_hint(name))


def _hint(name: str) -> str:
    """Where to set ``name``. The variable's suffix is the name itself, lowercased: a '-' or '.'
    stays (APP_ROLE would be app_role, another name), so such a name needs env(1), not export."""
    variable = f"PGSHIFT_PLACEHOLDER_{name.upper()}"
    if re.fullmatch(r"[A-Za-z0-9_]+", name):
        return f"set it under [placeholders] in pgshift.toml or in {variable}"
    return (f'set "{name}" under [placeholders] in pgshift.toml, or run with '
            f"env '{variable}=...'")


def names_in(text: str) -> list[str]:
    """The distinct placeholder names ``text`` uses, in order of first use."""
    return list(dict.fromkeys(m["name"] for m in PATTERN.finditer(text)))


def secret_values(values: Mapping[str, str]) -> list[str]:
    """The values of the placeholders whose name says they hold a secret, longest first."""
    found = {value for name, value in values.items() if value and SECRET_NAME.search(name)}
    return sorted(found, key=len, reverse=True)
