"""CREATE and ALTER DOMAIN replayed onto ``Schema.domains``: each domain's base, NOT NULL,
default and CHECKs, which tell whether adding a column of it rewrites the table (PostgreSQL
checks a constrained domain on every row, see ``add-column-constrained-domain``; and computes a
volatile default for every row, see ``add-column-volatile-default``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.lint.coercion import type_of
from pgshift.lint.nodes import Node, is_null_const, name_key, strings
from pgshift.lint.schema import Domain, Schema

if TYPE_CHECKING:
    from pgshift.lint.replay import Created


def create_domain(schema: Schema, created: Created, stmt: Node) -> None:
    key = name_key(strings(stmt.get("domainname")))
    type_name = stmt.get("typeName") or {}
    # A domain over an array of a domain checks only its own constraints (the array type is
    # not a domain), so only a plain domain base chains.
    base_key = "" if type_name.get("arrayBounds") else name_key(strings(type_name.get("names")))
    base = schema.domains.get(base_key)
    domain = Domain(type_of(type_name), base_key if base is not None else "",
                    has_default=base is not None and base.has_default,
                    default=base.default if base is not None else None)
    for con in stmt.get("constraints") or ():
        _constraint(domain, key, con.get("Constraint") or {})
    schema.domains[key] = domain
    created.types.add(key)


def _constraint(domain: Domain, key: str, con: Node) -> None:
    """A constraint of CREATE DOMAIN or ALTER DOMAIN … ADD (a CHECK unnamed gets PostgreSQL's
    name, ``<domain>_check``, numbered when taken)."""
    contype = con.get("contype")
    if contype == "CONSTR_CHECK":
        stem = f"{key.rsplit('.', 1)[-1]}_check"
        name = con.get("conname") or next(
            f"{stem}{n or ''}" for n in range(len(domain.checks) + 1)
            if f"{stem}{n or ''}" not in domain.checks)
        domain.checks.add(name)
    elif contype in ("CONSTR_NOTNULL", "CONSTR_NULL"):
        domain.not_null = contype == "CONSTR_NOTNULL"
    elif contype == "CONSTR_DEFAULT":
        _set_default(domain, con.get("raw_expr"))


def alter_domain(schema: Schema, created: Created, stmt: Node) -> None:
    """ALTER DOMAIN: constraints added or dropped, NOT NULL set or dropped, the default."""
    key = name_key(strings(stmt.get("typeName")))
    domain = schema.domains.get(key)
    if domain is None:
        return
    subtype = stmt.get("subtype")
    if subtype == "C":
        _constraint(domain, key, (stmt.get("def") or {}).get("Constraint") or {})
    elif subtype == "X":
        name = stmt.get("name", "")
        domain.checks.discard(name)
        if name == f"{key.rsplit('.', 1)[-1]}_not_null":  # NOT NULL has a name from PG 17
            domain.not_null = False
    elif subtype in ("O", "N"):
        domain.not_null = subtype == "O"
    elif subtype == "T":
        _set_default(domain, stmt.get("def"))


def _set_default(domain: Domain, expr: Node | None) -> None:
    """A DEFAULT given (None or NULL: dropped)."""
    domain.has_default = expr is not None and not is_null_const(expr)
    domain.default = expr if domain.has_default else None
