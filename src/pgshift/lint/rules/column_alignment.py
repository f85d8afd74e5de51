"""column-alignment."""

from __future__ import annotations

from collections.abc import Iterator

from pgshift.lint.coercion import SERIALS, type_of
from pgshift.lint.context import Context
from pgshift.lint.nodes import Node
from pgshift.lint.rule import Rule, Violation, register

# Fixed-width types and their alignment (typlen = typalign here).
_WIDTH = {"int8": 8, "float8": 8, "timestamp": 8, "timestamptz": 8, "time": 8, "money": 8,
          "int4": 4, "float4": 4, "date": 4, "oid": 4, "int2": 2, "bool": 1, "uuid": 1}


def _padding(widths: list[int]) -> int:
    offset = padding = 0
    for width in widths:
        align = width if width in (2, 4, 8) else 1
        pad = (-offset) % align
        padding += pad
        offset += pad + width
    return padding


@register
class ColumnAlignment(Rule):
    """CREATE TABLE whose fixed-width columns leave alignment padding (advisory).

    A 1- or 4-byte column followed by an 8-byte one (bigint, timestamptz, double) wastes padding
    bytes in every row; on big tables that is real disk and cache.

    Safe way: order fixed-width columns from widest (8 bytes) to narrowest, variable-width
    columns (text, jsonb, numeric) last.
    """

    id = "column-alignment"
    nodes = ("CreateStmt",)
    severity = "warning"
    tier = "B"

    def check(self, node: Node, ctx: Context) -> Iterator[Violation]:
        widths = []
        for element in node.get("tableElts") or ():
            typ = type_of((element.get("ColumnDef") or {}).get("typeName"))
            if typ is None:
                continue
            name = SERIALS.get(typ.name, typ.name)
            if typ.array or name not in _WIDTH:
                break  # variable-width: alignment after it is unpredictable
            widths.append(_WIDTH[name])
        wasted = _padding(widths)
        best = _padding(sorted(widths, reverse=True))
        if wasted <= best:
            return
        yield ctx.violation(
            self,
            f"the column order wastes {wasted - best} padding bytes per row",
            "order fixed-width columns from 8-byte to 1-byte, variable-width ones last",
        )
