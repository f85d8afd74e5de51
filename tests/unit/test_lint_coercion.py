"""Which column type changes rewrite the table."""

from __future__ import annotations

import json

import pytest
from pglast import parser

from pgshift.lint.coercion import TypeRef, rewrites, type_of


def typ(text: str) -> TypeRef:
    tree = json.loads(parser.parse_sql_json(f"SELECT NULL::{text}"))
    target = tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]
    result = type_of(target["val"]["TypeCast"]["typeName"])
    assert result is not None
    return result


@pytest.mark.parametrize(("old", "new"), [
    ("varchar(100)", "varchar(200)"),
    ("varchar(100)", "character varying"),
    ("varchar(100)", "text"),
    ("text", "varchar"),
    ("numeric(10,2)", "numeric(12,2)"),
    ("numeric(10,2)", "numeric"),
    ("cidr", "inet"),
    ("timestamp(3)", "timestamp"),
    ("timestamptz(0)", "timestamptz(6)"),
    ("varbit(4)", "varbit(8)"),
    ("integer", "int4"),
    ("text", "citext"),
])
def test_binary_coercible_changes_do_not_rewrite(old: str, new: str) -> None:
    assert not rewrites(typ(old), typ(new), pg_version=15, indexed=False, utc=False)


@pytest.mark.parametrize(("old", "new"), [
    ("integer", "bigint"),
    ("smallint", "integer"),
    ("varchar(200)", "varchar(100)"),
    ("text", "varchar(100)"),
    ("varchar", "varchar(10)"),
    ("numeric(10,2)", "numeric(10,4)"),
    ("numeric", "numeric(10,2)"),
    ("char(2)", "char(4)"),
    ("char(2)", "text"),
    ("real", "double precision"),
    ("json", "jsonb"),
    ("text", "uuid"),
    ("inet", "cidr"),
    ("timestamptz", "timestamp"),
    ("int[]", "bigint[]"),
])
def test_other_changes_rewrite(old: str, new: str) -> None:
    assert rewrites(typ(old), typ(new), pg_version=15, indexed=False, utc=True)


def test_citext_on_an_indexed_column_rebuilds_the_index() -> None:
    assert rewrites(typ("text"), typ("citext"), pg_version=15, indexed=True, utc=False)
    assert rewrites(typ("text"), typ("citext"), pg_version=15, indexed=None, utc=False)


def test_timestamp_to_timestamptz_is_free_only_in_utc_from_pg12() -> None:
    old, new = typ("timestamp"), typ("timestamptz")
    assert not rewrites(old, new, pg_version=12, indexed=False, utc=True)
    assert rewrites(old, new, pg_version=11, indexed=False, utc=True)
    assert rewrites(old, new, pg_version=15, indexed=False, utc=False)
