"""Row-level security: policies made, dropped or changed, and whether a table enables (and
forces) it. A changed policy is dropped and made again: ALTER POLICY cannot change its command
or whether it is permissive."""

from __future__ import annotations

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import Catalogs, Change, Found, State


def policies(catalogs: Catalogs, made: dict[str, set[tuple[str, str]]]) -> Found:
    """The policies' changes, and the row security of tables on both sides (a table made gets
    its own with it: ``row_security``). ``made`` says which tables each direction makes: a
    policy on a table neither side has and nothing makes is under that table's TODO line."""
    for key, before, after in catalogs.pairs("policy"):
        name, _, table = key.partition(" on ")
        for direction, old, new, _ in catalogs.directions(before, after):
            if old is not None:
                yield direction, Change("policy", False, f"DROP POLICY {name} ON {table};",
                                        reads=f"{old.get('using')} {old.get('with_check')}")
            exists = table in catalogs.expected.get("table", {}) and (
                table in catalogs.actual.get("table", {}))
            if new is not None and (exists or ("table", table) in made[direction]):
                yield direction, Change("policy", True, _create_policy(name, table, new))
    for key, before, after in catalogs.pairs("table"):
        if before is not None and after is not None:
            for direction, old, new, _ in catalogs.directions(before, after):
                assert old is not None and new is not None
                for sql in row_security(key, old, new):
                    yield direction, Change("policy", True, sql)


def row_security(table: str, old: State | None, new: State) -> list[str]:
    """ALTER TABLE statements that take the table's row security from ``old`` (None: a table
    just made) to ``new``'s."""
    statements = []
    for attribute, on, off in (("row_security", "ENABLE", "DISABLE"),
                               ("force_row_security", "FORCE", "NO FORCE")):
        if bool((old or {}).get(attribute)) != bool(new.get(attribute)):
            statements.append(f"ALTER TABLE {table} {on if new.get(attribute) else off} "
                              "ROW LEVEL SECURITY;")
    return statements


def _create_policy(name: str, table: str, state: State) -> str:
    roles = ", ".join("PUBLIC" if role == "public" else ident(role) for role in state["roles"])
    sql = (f"CREATE POLICY {name} ON {table} AS {state['permissive']} FOR {state['command']} "
           f"TO {roles}")
    if state.get("using") is not None:
        sql += f" USING ({state['using']})"
    if state.get("with_check") is not None:
        sql += f" WITH CHECK ({state['with_check']})"
    return sql + ";"
