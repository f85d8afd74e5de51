"""Whether a DEFAULT expression is volatile (evaluated per row, so ADD COLUMN rewrites).

From PostgreSQL 11, ``ADD COLUMN … DEFAULT expr`` with a non-volatile ``expr`` is evaluated
once and stored in the catalog: no rewrite. Constants, casts, operators, ``now()``,
``CURRENT_TIMESTAMP``, ``ARRAY[]`` and the like are non-volatile. A user function is as
volatile as its ``CREATE FUNCTION`` (or the live database) says; one we do not know is
assumed volatile, as PostgreSQL's default for new functions is VOLATILE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgshift.lint.nodes import Node, func_name, name_key, strings

if TYPE_CHECKING:
    from pgshift.lint.schema import Schema

VOLATILE_FUNCTIONS = frozenset({
    "random", "random_normal", "setseed", "gen_random_uuid", "gen_random_bytes", "uuidv4",
    "uuidv7", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuid_generate_v7",
    "clock_timestamp", "timeofday", "nextval", "currval", "lastval", "setval", "gen_salt",
    "crypt",
})
STABLE_OR_IMMUTABLE_FUNCTIONS = frozenset({
    "now", "transaction_timestamp", "statement_timestamp", "current_date", "current_time",
    "localtimestamp", "localtime", "current_setting", "current_user", "session_user",
    "current_schema", "current_database", "date_trunc", "date_part", "extract", "to_timestamp",
    "to_date", "to_char", "to_number", "make_date", "make_time", "make_timestamp",
    "make_timestamptz", "make_interval", "timezone", "age", "lower", "upper", "initcap", "trim",
    "btrim", "ltrim", "rtrim", "concat", "concat_ws", "length", "substr", "substring", "replace",
    "left", "right", "lpad", "rpad", "repeat", "md5", "sha256", "encode", "decode", "abs",
    "round", "floor", "ceil", "ceiling", "trunc", "greatest", "least", "coalesce", "nullif",
    "jsonb_build_object", "jsonb_build_array", "json_build_object", "json_build_array",
    "to_json", "to_jsonb", "jsonb_object", "json_object", "array_fill", "array_to_string",
    "string_to_array", "uuid_nil", "uuid_ns_dns", "uuid_ns_url", "uuid_ns_oid", "uuid_ns_x500",
    "uuid_generate_v3", "uuid_generate_v5", "int4", "int8", "int2", "numeric", "text",
    "varchar", "bool", "float8", "float4", "date", "timestamp", "timestamptz", "interval",
    "jsonb", "json", "uuid", "inet", "cidr", "tsvector", "to_tsvector", "point", "daterange",
    "tstzrange", "int4range", "int8range", "numrange", "format",
    "char_length", "character_length", "octet_length", "bit_length", "position", "strpos",
    "split_part", "regexp_replace", "regexp_substr", "translate", "reverse", "chr", "ascii",
    "to_hex", "quote_ident", "quote_literal", "quote_nullable", "starts_with", "overlay",
    "normalize", "mod", "power", "pow", "sqrt", "cbrt", "exp", "ln", "log", "log10", "sign",
    "pi", "div", "gcd", "lcm", "sha224", "sha384", "sha512", "hashtext", "convert_to",
    "convert_from", "array_length", "cardinality", "array_append", "array_prepend", "array_cat",
    "array_remove", "array_replace", "jsonb_set", "jsonb_insert", "jsonb_strip_nulls",
    "row_to_json", "array_to_json", "date_bin", "justify_days", "justify_hours",
    "justify_interval", "tsrange", "datemultirange", "bytea", "uuid_extract_timestamp",
    # STABLE, though they look per-call: one value for the whole ALTER (pg_proc.provolatile)
    "txid_current", "pg_current_xact_id", "pg_backend_pid", "inet_client_addr",
})


def is_volatile(expr: Node | None, schema: Schema | None = None) -> bool:
    """True when evaluating ``expr`` can give a different value per row; ``schema`` knows the
    volatility of user functions."""
    if not expr:
        return False
    stack: list[object] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for name, fields in item.items():
            if name == "FuncCall":
                called = func_name(fields)
                names = strings(fields.get("funcname"))
                if called in VOLATILE_FUNCTIONS:
                    return True
                builtin = called in STABLE_OR_IMMUTABLE_FUNCTIONS and names[:-1] in (
                    [], ["pg_catalog"])
                if not builtin and (schema is None or schema.function_volatile(
                        name_key(names)) is not False):
                    return True
                stack.append(fields.get("args"))
            elif name in ("SubLink", "NextValueExpr"):
                return True
            elif isinstance(fields, (dict, list)):
                stack.append(fields)
    return False
