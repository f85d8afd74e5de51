"""Constraints on tables and domains: added, dropped, validated, or dropped and added again with
another definition. A constraint's index (a primary key's, a unique or exclusion constraint's)
comes and goes with it. PostgreSQL 18's NOT NULL constraints follow their columns
(``drift.not_null``)."""

from __future__ import annotations

from typing import Any

from pgshift.verify.drift.change import Catalogs, Change, Found, identifiers


def constraints(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("constraint"):
        name, table = _constraint_name_and_table(key)
        if (before or after or {}).get("type") == "n":
            continue  # 18's NOT NULL constraints: the columns' (and drift.not_null)
        if name is None or table is None:
            catalogs.todo.append(f"constraint {key}: not on a table")
            continue
        if _is_table(table, catalogs):
            alter = f"ALTER TABLE {table}"
        elif _is_domain(table, catalogs):
            alter = f"ALTER DOMAIN {table}"
        else:
            catalogs.todo.append(f"constraint {key}: not on a table")
            continue

        def add(state: dict[str, Any], alter: str = alter, name: str = name) -> str:
            return f"{alter} ADD CONSTRAINT {name} {state['definition']};"

        def drop(state: dict[str, Any], alter: str = alter, name: str = name) -> Change:
            return Change("constraint", False, f"{alter} DROP CONSTRAINT {name};",
                          reads=state["definition"])

        if before is None or after is None:
            yield "up", (Change("constraint", True, add(after)) if after is not None
                         else drop(before))
            yield "down", (Change("constraint", True, add(before)) if before is not None
                           else drop(after))
        elif (_strip_not_valid(before["definition"]) == _strip_not_valid(after["definition"])
              and before["valid"] != after["valid"] and after["valid"]):
            yield "up", Change("constraint", True, f"{alter} VALIDATE CONSTRAINT {name};")
            yield "down", drop(after)
            yield "down", Change("constraint", True, add(before))  # back NOT VALID: no scan
        else:
            yield "up", drop(before)
            yield "up", Change("constraint", True, add(after))
            yield "down", drop(after)
            yield "down", Change("constraint", True, add(before))


def constraint_indexes(catalogs: Catalogs) -> set[str]:
    """The indexes that primary key, unique and exclusion constraints make (either side's)."""
    return {_constraint_index(key) for snapshot in (catalogs.expected, catalogs.actual)
            for key, state in snapshot.get("constraint", {}).items()
            if state["type"] in ("p", "u", "x")}


def _strip_not_valid(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


def _is_domain(name: str, catalogs: Catalogs) -> bool:
    states = [s.get("type", {}).get(name) for s in (catalogs.expected, catalogs.actual)]
    return any(state is not None and state["kind"] == "d" for state in states)


def _is_table(table: str, catalogs: Catalogs) -> bool:
    states = [s.get("table", {}).get(table) for s in (catalogs.expected, catalogs.actual)]
    return any(state is not None and state["kind"] in ("r", "p") for state in states)


def _constraint_name_and_table(key: str) -> tuple[str | None, str | None]:
    """``schema.name on table`` -> (``name``, ``table``); ``table`` as regclass prints it."""
    head, sep, table = key.partition(" on ")
    parts = identifiers(head)
    if not sep or len(parts) != 2:
        return None, None
    return parts[1], _qualified(parts[0], table)


def _qualified(schema: str, table: str) -> str:
    """The table's name with its schema: regclass leaves out a schema on the search_path."""
    return table if len(identifiers(table)) > 1 else f"{schema}.{table}"


def _constraint_index(key: str) -> str:
    """The index a constraint's key would have: ``schema.name``."""
    return key.partition(" on ")[0]
