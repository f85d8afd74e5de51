"""CREATE, ALTER and DROP FUNCTION replayed onto ``Schema.functions``: each overload's
volatility, which tells whether a DEFAULT calling it rewrites the table (see ``volatility``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.lint.coercion import type_of
from pgshift.lint.nodes import Node, name_key, strings
from pgshift.lint.schema import Schema

if TYPE_CHECKING:
    from pgshift.lint.replay import Created


def _signature(parameters: list[Node] | None) -> str:
    """A function's input argument types, as overloads are told apart."""
    types = []
    for item in parameters or ():
        param = item.get("FunctionParameter") or {}
        if param.get("mode") not in ("FUNC_PARAM_OUT", "FUNC_PARAM_TABLE"):
            typ = type_of(param.get("argType"))
            types.append(str(typ) if typ is not None else "?")
    return ",".join(types)


def _volatility(options: list[Node] | None) -> str | None:
    """``i``, ``s`` or ``v`` from a function's IMMUTABLE/STABLE/VOLATILE option, if any."""
    for item in options or ():
        elem = item.get("DefElem") or {}
        if elem.get("defname") == "volatility":
            return str(((elem.get("arg") or {}).get("String") or {}).get("sval", "v"))[:1]
    return None


def create_function(schema: Schema, created: Created, stmt: Node) -> None:
    """CREATE FUNCTION: its volatility (VOLATILE unless it says otherwise), per overload."""
    if stmt.get("is_procedure"):
        return
    key = name_key(strings(stmt.get("funcname")))
    overloads = schema.functions.setdefault(key, {})
    overloads[_signature(stmt.get("parameters"))] = _volatility(stmt.get("options")) or "v"


def alter_function(schema: Schema, created: Created, stmt: Node) -> None:
    """ALTER FUNCTION … IMMUTABLE/STABLE/VOLATILE."""
    func = stmt.get("func") or {}
    overloads = schema.functions.get(name_key(strings(func.get("objname"))))
    volatility = _volatility(stmt.get("actions"))
    if overloads is None or volatility is None:
        return
    if func.get("args_unspecified"):
        for signature in overloads:
            overloads[signature] = volatility
    else:
        overloads[_signature(func.get("objfuncargs"))] = volatility


def drop_functions(schema: Schema, stmt: Node) -> None:
    for obj in stmt.get("objects") or ():
        func = obj.get("ObjectWithArgs") or {}
        key = name_key(strings(func.get("objname")))
        if func.get("args_unspecified"):
            schema.functions.pop(key, None)
        else:
            schema.functions.get(key, {}).pop(_signature(func.get("objfuncargs")), None)
