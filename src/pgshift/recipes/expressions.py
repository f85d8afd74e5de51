"""The SQL a recipe is given to write inline (``--check``, ``--bounds``, ``--cutoff``,
``--until``), read and then tried before anything is written.

Each is read first (pglast): one expression that can be written where the recipe writes it
(no ``;``, no ``--`` comment hiding the rest of the line). Then PostgreSQL is asked to take it
as the migrations will give it, on an empty temporary copy of the table, in a transaction
rolled back (``recipes.probe``): a CHECK over columns that are there, with operators their types
have; bounds that are values of the partition key (an overlap with the table's partitions is
not tried: the copy has none); a cutoff below ``--until``. change-column-type's conversions:
``recipes.conversions``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pgshift.recipes import probe
from pgshift.recipes.model import RecipeParams, name_parts, one_expression

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as Cursor

    from pgshift.recipes.refusals import Refusal


def checks(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """add-check, attach-partition: --check is a CHECK on the table (the partition)."""
    table = p.partition if recipe == "attach-partition" else p.table
    if not (table and p.check):
        return []
    error = one_expression(p.check)[1]
    return _refused(f"--check {p.check}", error, None if error else probe.check_failure(
        cur, table, p.check), f"a CHECK is one boolean expression over the columns of {table}")


def bounds(cur: Cursor, recipe: str, p: RecipeParams) -> list[Refusal]:
    """add-partition, attach-partition: --bounds are bounds of the table's partition key;
    partition-table: --cutoff and --until are values of --column, --until above --cutoff."""
    assert p.table
    if recipe == "partition-table":
        if not (p.column and p.cutoff and p.until):
            return []
        from pgshift.recipes.partition_table import first_partition

        error = one_expression(p.cutoff)[1] or one_expression(p.until)[1]
        return _refused(
            f"--cutoff {p.cutoff} --until {p.until}", error,
            None if error else probe.cutoff_failure(cur, p.table, p.column, first_partition(p),
                                                    p.cutoff, p.until),
            f"each is a value of {p.column}'s type as SQL writes it, --until above --cutoff, "
            "e.g. --cutoff \"'2027-01-01'\" --until \"'2027-02-01'\"")
    if not (p.bounds and p.partition):
        return []
    given = p.bounds.strip()
    if not given.upper().startswith(("FOR VALUES", "DEFAULT")):
        given = f"FOR VALUES {given}"
    error = _bounds_read_error(given)
    return _refused(f"--bounds {p.bounds}", error, None if error else probe.partition_failure(
        cur, p.table, name_parts(p.partition)[-1], given),
                    f"bounds of the partition key of {p.table}: FROM (…) TO (…), IN (…) or "
                    "WITH (MODULUS …, REMAINDER …)")


def _bounds_read_error(given: str) -> str | None:
    """Why ``FOR VALUES …`` (or ``DEFAULT``) is no partition bounds: PostgreSQL's parser says
    (pglast), or it is more; None when it is."""
    from pglast.parser import ParseError, parse_sql_json

    try:
        tree = json.loads(parse_sql_json(f"CREATE TABLE p PARTITION OF t {given}"))
    except ParseError as exc:
        return str(exc.args[0])
    return None if len(tree.get("stmts", [])) == 1 else "is more than bounds"


def _refused(given: str, error: str | None, failure: probe.Failure | None, hint: str
             ) -> list[Refusal]:
    """The refusal of ``given`` for what reading found (``error``), else for what PostgreSQL
    said (``failure``: counted only with every migration applied when it is about something
    the database lacks); none when neither found anything."""
    from pgshift.recipes.refusals import Refusal

    reason = error or (failure.message if failure else None)
    return [Refusal(f"{given}: {reason}", hint, lacking=bool(failure and failure.missing))
            ] if reason else []


__all__ = ["bounds", "checks"]
