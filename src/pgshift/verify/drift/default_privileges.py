"""Default privileges (``ALTER DEFAULT PRIVILEGES … GRANT`` and ``REVOKE``), for only the
privileges that differ.

The snapshot names an entry ``[for role R] [in schema S] on tables`` (no role: the role that
read it, which is the one that runs the migration) and lists its privileges as ``grantee
PRIVILEGE [WITH GRANT OPTION]``, the role's own as OWNER's. An entry that is not there holds
PostgreSQL's built-in defaults: nothing in a schema; everywhere else, the owner's privileges
(and PUBLIC's EXECUTE on functions and USAGE on types). An entry in a schema that a direction
drops goes with it.

A statement that goes away from PostgreSQL's defaults (a privilege granted, a built-in one
revoked) runs last, after all that the migration makes, and one that goes back towards them (a
grant taken back, a built-in privilege given back) runs first. So what the migration makes is
given, as it is made, what the entries the same on both sides give, and of the others what
they share and what PostgreSQL's defaults hold (``at_creation``): its grants are written from
that (``drift.attributes``).
"""

from __future__ import annotations

from pgshift.recipes.model import ident
from pgshift.verify.drift.change import Catalogs, Change, Found, identifiers
from pgshift.verify.drift.grants import acl_item, owners

Grant = tuple[str, str, bool]  # grantee (PUBLIC, OWNER or a role), privilege, grant option
_OBJECTS = {"tables": "TABLES", "sequences": "SEQUENCES", "functions": "FUNCTIONS",
            "types": "TYPES", "schemas": "SCHEMAS"}
_OWNER_HAS = {"tables": ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES",
                         "TRIGGER"),
              "sequences": ("SELECT", "UPDATE", "USAGE"), "functions": ("EXECUTE",),
              "types": ("USAGE",), "schemas": ("USAGE", "CREATE")}
_PUBLIC_HAS = {"functions": ("EXECUTE",), "types": ("USAGE",)}
# Which default privileges an object made in a snapshot's category takes.
_TAKES = {"table": "tables", "sequence": "sequences", "function": "functions",
          "aggregate": "functions", "type": "types", "schema": "schemas"}


def default_privileges(catalogs: Catalogs) -> Found:
    for key, before, after in catalogs.pairs("default privileges"):
        role, schema, objects = _entry(key)
        if objects not in _OBJECTS:
            catalogs.by_hand("default privileges", key)
            continue
        builtin = set() if schema else _builtin(objects, catalogs.major, before, after)
        # (an entry in a schema only adds to the others: nothing when it is not there)
        alter = "ALTER DEFAULT PRIVILEGES" + (f" FOR ROLE {role}" if role else "") + (
            f" IN SCHEMA {ident(schema)}" if schema else "")
        for direction, old, new, snapshot in catalogs.directions(before, after):
            if schema and schema not in snapshot.get("schema", {}):
                continue  # dropped with its schema
            had = builtin if old is None else _grants(old)
            has = builtin if new is None else _grants(new)
            # Those that go towards PostgreSQL's defaults first, the others last: what the
            # migration makes in between is written with its grants as from those defaults.
            for towards, sql in _statements(had, has, _OBJECTS[objects], role, builtin):
                yield direction, Change("default privileges", not towards, f"{alter} {sql};")


def _entry(key: str) -> tuple[str | None, str | None, str]:
    """``[for role R] [in schema S] on X`` -> (R, S, X); R as regrole prints it, S raw."""
    role = schema = None
    rest = key
    if rest.startswith("for role "):
        role, rest = _role(rest.removeprefix("for role "))
        rest = rest.removeprefix(" ")
    head, _, objects = rest.rpartition("on ")
    if head.startswith("in schema "):
        schema = head.removeprefix("in schema ").removesuffix(" ")
    return role, schema, objects


def _role(text: str) -> tuple[str, str]:
    """A role's name as regrole prints it (double-quoted when it needs it) at the start of
    ``text``, and what follows it."""
    if not text.startswith('"'):
        name, _, rest = text.partition(" ")
        return name, " " + rest if rest else ""
    index = 1
    while index < len(text):
        if text[index] == '"' and text[index + 1:index + 2] == '"':
            index += 2
        elif text[index] == '"':
            break
        else:
            index += 1
    return text[:index + 1], text[index + 1:]


def _grants(state: dict) -> set[Grant]:
    found = set()
    for item in state.get("grants") or []:
        grantee, rest = _role(item)
        privilege, option = rest.strip(), False
        if privilege.endswith(" WITH GRANT OPTION"):
            privilege, option = privilege.removesuffix(" WITH GRANT OPTION"), True
        found.add((grantee, privilege, option))
    return found


def _builtin(objects: str, major: int | None, *states: dict | None) -> set[Grant]:
    """What an entry not in schema holds when it is not there: PostgreSQL's defaults (a
    table's owner has MAINTAIN from 17)."""
    owner = list(_OWNER_HAS[objects])
    seen = {p for state in states if state is not None for _, p, _ in _grants(state)}
    if objects == "tables" and ((major or 0) >= 17 or (major is None and "MAINTAIN" in seen)):
        owner.append("MAINTAIN")
    return ({("OWNER", p, False) for p in owner}
            | {("PUBLIC", p, False) for p in _PUBLIC_HAS.get(objects, ())})


def _statements(had: set[Grant], has: set[Grant], objects: str, role: str | None,
                builtin: set[Grant]) -> list[tuple[bool, str]]:
    """GRANT and REVOKE (without ALTER DEFAULT PRIVILEGES …) from ``had`` to ``has``, each
    with whether it goes towards ``builtin`` (PostgreSQL's defaults) rather than away."""
    plain = {(g, p) for g, p, _ in builtin}  # which hold no grant option
    found = []
    for grantee in sorted({g for g, _, _ in had | has}):
        before = {p: option for g, p, option in had if g == grantee}
        after = {p: option for g, p, option in has if g == grantee}
        # OWNER is the entry's role: the one named, else the one that runs the migration.
        to = (role or "CURRENT_USER") if grantee == "OWNER" else grantee
        revoke = [p for p in before if p not in after]
        grant = [p for p in after if p not in before and not after[p]]
        option = " WITH GRANT OPTION"
        for towards, verb, privileges, suffix in (
                (True, "REVOKE", [p for p in revoke if (grantee, p) not in plain], ""),
                (True, "REVOKE GRANT OPTION FOR",
                 [p for p in before if before[p] and p in after and not after[p]], ""),
                (True, "GRANT", [p for p in grant if (grantee, p) in plain], ""),
                (False, "REVOKE", [p for p in revoke if (grantee, p) in plain], ""),
                (False, "GRANT", [p for p in grant if (grantee, p) not in plain], ""),
                (False, "GRANT", [p for p in after if after[p] and not before.get(p)], option)):
            if privileges:
                found.append((towards, f"{verb} {', '.join(sorted(privileges))} ON {objects} "
                                       f"{'FROM' if verb.startswith('REVOKE') else 'TO'} {to}"
                                       f"{suffix}"))
    return found


def at_creation(catalogs: Catalogs, direction: str, category: str, key: str,
                grants: list[str]) -> list[str] | None:
    """The ACL (as the snapshot lists it) that an object ``direction`` makes has once made,
    from the default privileges of the role that runs the migration then in effect; None where
    that is PostgreSQL's default. ``grants``: the object's own, which name its owner."""
    objects = _TAKES.get(category)
    if objects is None:
        return None
    old, new = ((catalogs.expected, catalogs.actual) if direction == "up"
                else (catalogs.actual, catalogs.expected))
    builtin = _builtin(objects, catalogs.major)
    keys = [f"on {objects}"]
    if category != "schema":
        keys.append(f"in schema {_unquoted(identifiers(key)[0])} on {objects}")
    given: set[Grant] = set()
    for entry in keys:
        default = builtin if entry == keys[0] else set()
        states = [side.get("default privileges", {}).get(entry) for side in (old, new)]
        had, has = (default if state is None else _grants(state) for state in states)
        given |= _in_effect(had, has, builtin if entry == keys[0] else set())
    if given == builtin:
        return None
    owner = next(iter(sorted(owners(grants))), "OWNER")  # no grants: its name is not needed
    by_grantee: dict[str, list[tuple[str, bool]]] = {}
    for grantee, privilege, option in sorted(given):
        name = owner if grantee == "OWNER" else "" if grantee == "PUBLIC" else _unquoted(grantee)
        by_grantee.setdefault(name, []).append((privilege, option))
    return sorted(acl_item(name, privileges, owner) for name, privileges in by_grantee.items())


def _in_effect(had: set[Grant], has: set[Grant], builtin: set[Grant]) -> set[Grant]:
    """What an entry gives while the migration makes its objects, between ``had`` and ``has``:
    what both hold, and of the rest what PostgreSQL's defaults hold (``_statements`` takes
    those towards the defaults first, and the others last)."""
    plain = {(g, p) for g, p, _ in builtin}
    before = {(g, p): option for g, p, option in had}
    after = {(g, p): option for g, p, option in has}
    found = set()
    for pair in before.keys() | after.keys():
        if pair in before and pair in after:
            found.add((*pair, before[pair] and after[pair]))
        elif pair in plain and (pair in before or not after[pair]):
            found.add((*pair, before.get(pair, False)))
    return found


def _unquoted(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name
