"""``pgshift create --recipe NAME ...``: the recipe options of ``create`` and its handler."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgshift.config import Settings

RECIPE_NAMES = ("add-column-default", "add-index", "add-check", "add-foreign-key",
                "set-not-null", "add-enum", "rename-column", "change-column-type",
                "remove-column", "attach-partition", "partition-table", "add-partition",
                "remove-table")


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "recipes", "write the expand/contract migrations of a change (see docs/zero-downtime.md)")
    group.add_argument("--recipe", choices=RECIPE_NAMES, help="which change")
    group.add_argument("--table", help="the table, e.g. users or app.users (attach-partition: "
                                        "the partitioned table)")
    group.add_argument("--column", help="the column (partition-table: the partition key)")
    group.add_argument("--type", help="the (new) column type, or the ENUM type's name")
    group.add_argument("--default", help="default expression (add-column-default, add-enum)")
    group.add_argument("--new-column", help="the new column's name (rename, change type)")
    group.add_argument("--check", help="CHECK expression (add-check; attach-partition: what the "
                                        "bounds say, e.g. \"at IS NOT NULL AND at >= '2025-01-01' "
                                        "AND at < '2025-02-01'\")")
    group.add_argument("--partition", help="the existing table to attach (attach-partition); "
                                            "the first new partition's name (partition-table); "
                                            "the new partition (add-partition)")
    group.add_argument("--bounds", help="what follows FOR VALUES, e.g. \"FROM ('2025-01-01') TO "
                                         "('2025-02-01')\" (attach-partition, add-partition)")
    group.add_argument("--like", help="add-partition: the table to copy columns, constraints "
                                       "and indexes from (default: the partitioned table)")
    group.add_argument("--cutoff", help="partition-table: the key value from which rows go to "
                                         "new partitions, e.g. \"'2027-01-01'\"; the existing "
                                         "rows must all be below it")
    group.add_argument("--until", help="partition-table: the upper bound of the first new "
                                        "partition, e.g. \"'2027-02-01'\"")
    group.add_argument("--name", dest="constraint", metavar="NAME",
                       help="constraint or index name; the retired table's name "
                            "(remove-table) (default: derived)")
    group.add_argument("--references", help="referenced table(column) (add-foreign-key)")
    group.add_argument("--values", help="comma-separated ENUM values (add-enum)")
    group.add_argument("--columns", help="index columns or expressions (add-index)")
    group.add_argument("--unique", action="store_true", help="a unique index (add-index)")
    group.add_argument("--using", metavar="EXPR",
                       help="change-column-type: one SQL expression over the old column giving "
                            "the new value, e.g. \"amount::numeric(12,2)\" (default: a cast)")
    group.add_argument("--reverse-using", metavar="EXPR",
                       help="change-column-type: one SQL expression over the new column giving "
                            "the old value, for the sync trigger and the down part (default: a "
                            "cast)")
    group.add_argument("--not-null", action="store_true",
                       help="also make the column NOT NULL (add-column-default)")


def create_from_recipe(args: argparse.Namespace, settings: Settings) -> int:
    from pgshift import api
    from pgshift.recipes import RecipeParams

    values = tuple(v.strip() for v in (args.values or "").split(",") if v.strip())
    params = RecipeParams(
        table=args.table, column=args.column, type=args.type, default=args.default,
        new_column=args.new_column, check=args.check, constraint=args.constraint,
        references=args.references, values=values, columns=args.columns, unique=args.unique,
        using=args.using, reverse_using=args.reverse_using, not_null=args.not_null,
        partition=args.partition, bounds=args.bounds, cutoff=args.cutoff, until=args.until,
        like=args.like)
    for path in api.create_recipe(settings, args.recipe, params):
        print(path)
    return 0
