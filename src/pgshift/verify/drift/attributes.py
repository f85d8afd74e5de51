"""What is set on an object once it exists: its comment and its grants. An object kept on both
sides gets the difference; one the migration makes (or drops and makes again, as a changed
view) starts from none and gets all of its own. An object on one side only that nothing makes
is under its own TODO line, and so are its comment and grants."""

from __future__ import annotations

from pgshift.recipes.model import ident
from pgshift.verify.drift.aggregates import routine_signature
from pgshift.verify.drift.change import Catalogs, Change, Found, State, quoted, table_and_name
from pgshift.verify.drift.default_privileges import at_creation
from pgshift.verify.drift.grants import AclError, grant_statements, owners

_GRANT_ON = {"schema": "SCHEMA", "table": "TABLE", "column": "TABLE", "sequence": "SEQUENCE",
             "function": "FUNCTION", "aggregate": "FUNCTION", "type": "TYPE",
             "foreign data wrapper": "FOREIGN DATA WRAPPER", "foreign server": "FOREIGN SERVER"}
# Named as themselves, not schema-qualified: they are quoted here (a snapshot's key is not).
_BARE_NAMES = ("schema", "foreign data wrapper", "foreign server")
_COMMENT_ON = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW",
               "m": "MATERIALIZED VIEW"}


def attributes(catalogs: Catalogs, made: dict[str, set[tuple[str, str]]]) -> Found:
    """Comments and grants; ``made`` holds what each direction makes."""
    for category in _GRANT_ON:
        want, have = catalogs.expected.get(category, {}), catalogs.actual.get(category, {})
        for key in sorted(want.keys() | have.keys()):
            reported = False
            for direction, old, new, _ in catalogs.directions(want.get(key), have.get(key)):
                remade = (category, key) in made[direction]
                if new is None or (old is None and not remade):
                    continue
                base = None if remade else old
                if (base or {}).get("comment") != new.get("comment"):
                    yield direction, Change("comment", True, _comment(category, key, new))
                # One made starts with what the default privileges in effect give it.
                start = base if base is not None else {"grants": at_creation(
                    catalogs, direction, category, key, new.get("grants") or []) or []}
                try:
                    for sql in _grants(category, key, start, new):
                        yield direction, Change("grant", True, sql)
                except AclError as exc:
                    if not reported:
                        catalogs.todo.append(f"{category} {key}: grants: {exc}")
                        reported = True
                    continue
                owner = (("table", table_and_name(key)[0]) if category == "column"
                         else (category, key))
                if (not reported and base is not None and owner not in catalogs.reowned
                        and _owned_by_another(base, new)):
                    catalogs.todo.append(
                        f"{category} {key}: grants differ only in the role that owns it "
                        f"({', '.join(sorted(owners(base['grants'])))} after the migrations, "
                        f"{', '.join(sorted(owners(new['grants'])))} in the database)")
                    reported = True


def _comment(category: str, key: str, state: State) -> str:
    what = {"schema": "SCHEMA", "column": "COLUMN", "aggregate": "AGGREGATE",
            "function": "PROCEDURE" if state.get("kind") == "p" else "FUNCTION",
            "table": _COMMENT_ON.get(str(state.get("kind")), "TABLE")}[category]
    text = state.get("comment")
    literal = "NULL" if text is None else quoted(str(text))
    return f"COMMENT ON {what} {ident(key) if category in _BARE_NAMES else key} IS {literal};"


def _grants(category: str, key: str, old: State | None, new: State) -> list[str]:
    before, after = list((old or {}).get("grants") or []), list(new.get("grants") or [])
    if before == after:
        return []
    what = _GRANT_ON[category]
    if category == "function" and new.get("kind") == "p":
        what = "PROCEDURE"
    if category == "column":
        table, column = table_and_name(key)
        return grant_statements(what, table, before, after, column)
    if category == "aggregate":
        return grant_statements(what, routine_signature(key), before, after)
    return grant_statements(what, ident(key) if category in _BARE_NAMES else key, before, after)


def _owned_by_another(old: State, new: State) -> bool:
    """Grants alike but for their owner (who owns an object is not written)."""
    before, after = owners(old.get("grants") or []), owners(new.get("grants") or [])
    return bool(before and after and before != after)
