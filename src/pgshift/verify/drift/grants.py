"""GRANT and REVOKE from the difference of two ACLs, as the catalog shows them.

An ACL item reads ``grantee=privileges/grantor``: PUBLIC is the empty grantee, and a ``*``
after a privilege's letter is its grant option. An empty ACL is the object's default: its owner
has every privilege, and PUBLIC has EXECUTE on a function and USAGE on a type. Once anything is
granted the owner shows as an item of its own (grantee and grantor the same role); that item is
left out, so that a default ACL and one that only names the owner compare equal, and so do two
that differ only in who owns the object (a scratch database replayed by another role). What is
granted is compared as a set of (grantee, privilege, grant option) and only the difference is
written. An ACL that cannot be written so (a grantor other than the owner, the owner's own
privileges revoked, a privilege this does not know) is left to a TODO line.
"""

from __future__ import annotations

from pgshift.recipes.model import ident

_PRIVILEGES = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE",
               "x": "REFERENCES", "t": "TRIGGER", "m": "MAINTAIN", "X": "EXECUTE", "U": "USAGE",
               "C": "CREATE"}
# What an owner's own item holds at the least (17 adds MAINTAIN on tables).
_OWNER_HAS = {"TABLE": "arwdDxt", "SEQUENCE": "rwU", "FUNCTION": "X", "PROCEDURE": "X",
              "SCHEMA": "UC", "TYPE": "U", "FOREIGN DATA WRAPPER": "U", "FOREIGN SERVER": "U"}
# What PUBLIC holds when the ACL is empty.
_PUBLIC_HAS = {"FUNCTION": "X", "PROCEDURE": "X", "TYPE": "U"}

Grant = tuple[str, str, bool]  # grantee ("" for PUBLIC), privilege letter, grant option


class AclError(ValueError):
    """An ACL this cannot write as GRANT and REVOKE; the message says why."""


def grant_statements(what: str, on: str, old: list[str], new: list[str],
                     column: str | None = None) -> list[str]:
    """The REVOKE and GRANT statements that take ``what on`` (e.g. ``TABLE public.t``; with
    ``column``, that column of it) from the ACL ``old`` to ``new``. Raises AclError."""
    before, after = _grants(what, old, column), _grants(what, new, column)
    statements = []
    for grantee in sorted({g for g, _, _ in before | after}):
        had = {letter: option for g, letter, option in before if g == grantee}
        has = {letter: option for g, letter, option in after if g == grantee}
        target = f"ON {what} {on} {{}} {'PUBLIC' if not grantee else ident(grantee)}"
        revoke = [x for x in had if x not in has]
        no_option = [x for x in had if x in has and had[x] and not has[x]]
        grant = [x for x in has if x not in had or (has[x] and not had[x])]
        if revoke:
            statements.append(f"REVOKE {_list(revoke, column)} {target.format('FROM')};")
        if no_option:
            statements.append(f"REVOKE GRANT OPTION FOR {_list(no_option, column)} "
                              f"{target.format('FROM')};")
        for option in (False, True):
            letters = [x for x in grant if has[x] == option]
            if letters:
                statements.append(f"GRANT {_list(letters, column)} {target.format('TO')}"
                                  f"{' WITH GRANT OPTION' if option else ''};")
    return statements


def acl_item(grantee: str, privileges: list[tuple[str, bool]], grantor: str) -> str:
    """``grantee=privileges/grantor`` from privileges' names (``SELECT``) and grant options;
    PUBLIC is the empty grantee."""
    letters = {name: letter for letter, name in _PRIVILEGES.items()}
    text = "".join(letters[name] + ("*" if option else "") for name, option in privileges)
    return f"{_quoted(grantee)}={text}/{_quoted(grantor)}"


def _quoted(role: str) -> str:
    plain = role.replace("_", "").isalnum() or not role
    return role if plain else '"' + role.replace('"', '""') + '"'


def owners(acl: list[str]) -> set[str]:
    """The roles the ACL names as grantors: the owner, when it can be written."""
    return {_item(text)[2] for text in acl}


def _grants(what: str, acl: list[str], column: str | None) -> set[Grant]:
    if not acl:
        return set() if column else {("", x, False) for x in _PUBLIC_HAS.get(what, "")}
    items = [_item(text) for text in acl]
    grantors = {grantor for _, _, grantor in items}
    if len(grantors) > 1:
        raise AclError(f"granted by more than one role ({', '.join(sorted(grantors))})")
    owner = grantors.pop()
    found: set[Grant] = set()
    for grantee, privileges, _ in items:
        if grantee == owner and not column:  # the owner's own item: what owning gives
            if not set(_OWNER_HAS[what]) <= {letter for letter, _ in privileges}:
                raise AclError(f"its owner {owner} has lost some of its own privileges")
            continue
        found |= {(grantee, letter, option) for letter, option in privileges}
    return found


def _item(text: str) -> tuple[str, list[tuple[str, bool]], str]:
    """``grantee=privileges/grantor`` -> (grantee, [(letter, grant option)], grantor)."""
    grantee, rest = _role(text, "=")
    letters, _, grantor_text = rest.partition("/")
    grantor, _ = _role(grantor_text, "")
    privileges = []
    for index, letter in enumerate(letters):
        if letter == "*":
            continue
        if letter not in _PRIVILEGES:
            raise AclError(f"a privilege this does not know ({letter!r} in {text})")
        privileges.append((letter, letters[index + 1:index + 2] == "*"))
    return grantee, privileges, grantor


def _role(text: str, stop: str) -> tuple[str, str]:
    """A role's name at the start of ``text`` (double-quoted when it needs it), and what
    follows ``stop`` after it."""
    if not text.startswith('"'):
        name, _, rest = text.partition(stop) if stop else (text, "", "")
        return name, rest
    name, index = "", 1
    while index < len(text):
        if text[index] == '"' and text[index + 1:index + 2] == '"':
            name, index = name + '"', index + 2
        elif text[index] == '"':
            break
        else:
            name, index = name + text[index], index + 1
    return name, text[index + 1 + len(stop):]


def _list(letters: list[str], column: str | None) -> str:
    ordered = [p for x, p in _PRIVILEGES.items() if x in letters]
    return ", ".join(f"{p} ({column})" if column else p for p in ordered)
