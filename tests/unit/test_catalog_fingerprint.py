"""The catalog fingerprint changes exactly when the linter would see the schema differently."""

from __future__ import annotations

from pgshift.lint.catalog_rows import catalog_fingerprint

COLUMNS = [["id", "bigint", True, False]]


def catalog(tuples: int, size: int, *, columns=COLUMNS, own_rows: int = 0):
    relations = [("public", "users", "r", tuples, size, [], columns, ["id"], ["users_pkey"]),
                 ("pgshift", "history", "r", own_rows, own_rows * 100, [], [], [], [])]
    constraints = [("public", "users", "users_pkey", "p", True, None, ["id"])]
    return relations, constraints, [], ["public", "pgshift"]


def fingerprint(*args, **kwargs) -> str:
    return catalog_fingerprint(catalog(*args, **kwargs), 10_000, "pgshift")


def test_row_estimates_matter_only_across_the_tiny_table_threshold() -> None:
    assert fingerprint(10, 8192) == fingerprint(500, 65536)
    assert fingerprint(20_000, 10**6) == fingerprint(90_000, 10**7)
    assert fingerprint(10, 8192) != fingerprint(20_000, 10**6)


def test_a_column_changes_it_and_pgshifts_own_history_does_not() -> None:
    assert fingerprint(10, 8192) != fingerprint(10, 8192, columns=[*COLUMNS, ["x", "int", 0, 0]])
    assert fingerprint(10, 8192) == fingerprint(10, 8192, own_rows=50_000)


def test_row_order_does_not_matter() -> None:
    relations, constraints, types, names = catalog(10, 8192)
    shuffled = (relations[::-1], constraints, types, names[::-1])
    assert catalog_fingerprint(shuffled, 10_000, "pgshift") == fingerprint(10, 8192)


def test_sessions_temporary_schemas_do_not_change_it() -> None:
    relations, constraints, types, names = catalog(10, 8192)
    with_temp = ([*relations, ("pg_temp_3", "scratch", "r", 0, 0, [], [], [], [])],
                 constraints, types, [*names, "pg_temp_3", "pg_toast_temp_3"])
    assert catalog_fingerprint(with_temp, 10_000, "pgshift") == fingerprint(10, 8192)


def test_a_domain_gaining_or_losing_a_constraint_changes_it() -> None:
    relations, constraints, _types, names = catalog(10, 8192)

    def with_domain(not_null: bool, checks: list[str]) -> str:
        detail = repr(["integer", None, None, not_null, False, checks])
        types = [("public", "amount", "d", detail), ("public", "volume", "fs", None)]
        return catalog_fingerprint((relations, constraints, types, names), 10_000, "pgshift")

    plain = with_domain(False, [])
    assert plain == with_domain(False, [])
    assert len({plain, with_domain(False, ["amount_check"]), with_domain(True, [])}) == 3


def test_a_domain_default_changing_changes_it() -> None:
    relations, constraints, _types, names = catalog(10, 8192)

    def with_default(default: str | None) -> str:
        detail = repr(["double precision", None, None, False, default is not None, [], default])
        types = [("public", "noise", "d", detail)]
        return catalog_fingerprint((relations, constraints, types, names), 10_000, "pgshift")

    assert with_default("random()") == with_default("random()")
    assert len({with_default(None), with_default("random()"), with_default("0.5")}) == 3


def test_the_table_a_foreign_key_references_changes_it() -> None:
    """DROP TABLE and TRUNCATE … CASCADE lock the tables foreign keys link: the linter reads
    each key's referenced table (pg_constraint.confrelid), so the gate must see it change."""
    relations, constraints, types, names = catalog(10, 8192)

    def with_key(referenced: list[str]) -> str:
        key = ("public", "orders", "orders_user_fkey", "f", True, None, ["user_id"], referenced)
        rows = [*constraints, key]
        return catalog_fingerprint((relations, rows, types, names), 10_000, "pgshift")

    assert with_key(["public", "users"]) == with_key(["public", "users"])
    assert with_key(["public", "users"]) != with_key(["archive", "users"])
