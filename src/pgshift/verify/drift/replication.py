"""What logical replication reads: a table's replica identity, and publications.

- Replica identity: ``ALTER TABLE … REPLICA IDENTITY`` DEFAULT, FULL, NOTHING or USING INDEX,
  for a table on both sides whose identity differs, for one the migration makes, and for one
  whose identity index is built again (which forgets it). One set USING an index that is gone
  (PostgreSQL then acts as with NOTHING) is a TODO line.
- Publications: made (FOR ALL TABLES, or FOR TABLE with their tables' column lists and row
  filters, and TABLES IN SCHEMA) with their options (``publish``,
  ``publish_via_partition_root``, and from 18 ``publish_generated_columns``), dropped, tables
  and schemas added and dropped, a table whose column list or row filter changed dropped and
  added again (``SET TABLE`` would replace every table), options set. One that becomes (or
  stops being) FOR ALL TABLES, or whose options this does not know, is a TODO line.
"""

from __future__ import annotations

import json

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import (
    Catalogs,
    Change,
    Found,
    State,
    differing,
    identifiers,
    quoted,
)

_IDENTITIES = {None: "DEFAULT", "f": "FULL", "n": "NOTHING"}
_SIDES = {"up": "in the database", "down": "after the migrations"}  # what each direction makes
_PUBLISH = (("pubinsert", "insert"), ("pubupdate", "update"), ("pubdelete", "delete"),
            ("pubtruncate", "truncate"))
_KNOWN_OPTIONS = {"puballtables", "pubviaroot", "pubgencols", *(flag for flag, _ in _PUBLISH)}


def replica_identities(catalogs: Catalogs, made: dict[str, set[tuple[str, str]]]) -> Found:
    """``made`` holds what each direction makes (``drift.migration``)."""
    want, have = catalogs.expected.get("table", {}), catalogs.actual.get("table", {})
    rebuilt = {key for key, before, after in catalogs.pairs("index")  # dropped, built again
               if before is not None and after is not None
               and differing(before, after, ("clustered",))}
    for key in sorted(want.keys() | have.keys()):
        for direction, old, new, _ in catalogs.directions(want.get(key), have.get(key)):
            if new is None or new.get("kind") not in ("r", "p"):
                continue
            if old is None and ("table", key) not in made[direction]:
                continue  # not made here: its TODO line
            setting, index = _identity(new), new.get("replica_index")
            renew = index is not None and (  # an index made, or built again, is not it yet
                f"{identifiers(key)[0]}.{index}" in rebuilt or old is None)
            if setting == _identity(old or {}) and not renew:
                continue
            if setting is None:
                catalogs.todo.append(f"table {key}: its replica identity {_SIDES[direction]} "
                                     "is an index that is gone (as NOTHING): set one")
                continue
            yield direction, Change("replica identity", True,
                                    f"ALTER TABLE {key} REPLICA IDENTITY {setting};")


def _identity(state: State) -> str | None:
    """How REPLICA IDENTITY says the table's; None for an index that is gone."""
    identity = state.get("replica_identity")
    if identity == "i":
        index = state.get("replica_index")
        return f"USING INDEX {index}" if index else None
    return _IDENTITIES.get(identity)


def publications(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("publication"):
        rows = [None if state is None else _row(state) for state in (before, after)]
        if any(state is not None and row is None
               for state, row in zip((before, after), rows, strict=True)):
            catalogs.by_hand("publication", key)  # an option this does not know
            continue
        if rows[0] is not None and rows[1] is not None and (
                rows[0].get("puballtables") != rows[1].get("puballtables")):
            catalogs.todo.append(
                f"publication {key}: {'' if rows[1].get('puballtables') else 'not '}FOR ALL "
                f"TABLES in the database, {'' if rows[0].get('puballtables') else 'not '}after "
                "the migrations (ALTER PUBLICATION cannot change that: drop it and make it "
                "again)")
            continue
        for direction, old, new in (("up", before, after), ("down", after, before)):
            for change in _publication(key, old, new):
                yield direction, change


def _publication(key: str, old: State | None, new: State | None) -> list[Change]:
    name = ident(key)
    if new is None:
        return [Change("publication", False, f"DROP PUBLICATION {name};")]
    row = _row(new) or {}
    if old is None:
        scope = [*(f"TABLE {t}" for t in new.get("tables") or []),
                 *(f"TABLES IN SCHEMA {s}" for s in new.get("schemas") or [])]
        scope_sql = (" FOR ALL TABLES" if row.get("puballtables") else
                     f" FOR {', '.join(scope)}" if scope else "")
        return [Change("publication", True, f"CREATE PUBLICATION {name}{scope_sql} WITH "
                                            f"({_with(row)});", (("publication", key),))]
    changes = []
    if _with(_row(old) or {}) != _with(row):
        changes.append(Change("publication", True,
                              f"ALTER PUBLICATION {name} SET ({_with(row)});"))
    for what, attribute in (("TABLE", "tables"), ("TABLES IN SCHEMA", "schemas")):
        before, after = set(old.get(attribute) or []), set(new.get(attribute) or [])
        for item in sorted(before - after):  # a drop: before a table it had is dropped
            changes.append(Change("publication", False, f"ALTER PUBLICATION {name} DROP {what} "
                                                        f"{_table_name(item)};"))
        for item in sorted(after - before):
            changes.append(Change("publication", True, f"ALTER PUBLICATION {name} ADD {what} "
                                                       f"{item};"))
    return changes


def _table_name(spec: str) -> str:
    """``public.t (a, b) WHERE (…)`` -> ``public.t``: DROP TABLE takes neither list nor
    filter. A name, as regclass prints it, has no space outside its quotes."""
    inside = False
    for index, char in enumerate(spec):
        if char == '"':
            inside = not inside
        elif char == " " and not inside:
            return spec[:index]
    return spec


def _row(state: State) -> dict | None:
    """The publication's catalog row (its flags); None when it holds one this does not know."""
    row = json.loads(str(state.get("options") or "{}"))
    return None if set(row) - _KNOWN_OPTIONS else row


def _with(row: dict) -> str:
    publish = ", ".join(word for flag, word in _PUBLISH if row.get(flag))
    settings = [f"publish = {quoted(publish)}",
                f"publish_via_partition_root = {'true' if row.get('pubviaroot') else 'false'}"]
    if "pubgencols" in row:  # 18: 'n' (none) or 's' (stored)
        settings.append("publish_generated_columns = "
                        f"{'stored' if row['pubgencols'] == 's' else 'none'}")
    return ", ".join(settings)
