"""Foreign keys read from a live database: the table each references (``confrelid``), and the
locks that follow in the dry run's plan (``plan_locks``)."""

from __future__ import annotations

import dataclasses

import psycopg2

from pgshift import api
from pgshift.lint.catalog import load_schema

TABLES = """
CREATE TABLE users (id integer PRIMARY KEY);
CREATE SCHEMA billing;
CREATE TABLE billing.orders (id integer PRIMARY KEY, user_id integer REFERENCES users);
CREATE TABLE order_items (order_id integer,
                          CONSTRAINT item_order FOREIGN KEY (order_id) REFERENCES billing.orders);
"""


def test_the_catalog_gives_each_foreign_key_the_table_it_references(query, database_url) -> None:
    query(TABLES)
    conn = psycopg2.connect(database_url)
    try:
        schema = load_schema(conn)
    finally:
        conn.close()
    assert schema.tables["billing.orders"].constraints["orders_user_id_fkey"].references == (
        "users")
    assert schema.tables["order_items"].constraints["item_order"].references == "billing.orders"
    assert schema.tables["users"].constraints["users_pkey"].references == ""
    assert schema.referencing_tables("billing.orders") == ["order_items"]


def test_the_dry_run_plan_lists_the_tables_a_drop_or_truncate_locks_through_foreign_keys(
    query, settings, write_migration,
) -> None:
    query(TABLES)
    write_migration("V1__drop_orders.sql", "DROP TABLE billing.orders CASCADE;", "-- none")
    write_migration("V2__empty_users.sql", "TRUNCATE users CASCADE;", "-- none")
    migrations = api.up(dataclasses.replace(settings, unsafe=True), dry_run=True).selected
    assert api.plan_locks(settings, migrations) == {
        "V1": [("billing.orders", "ACCESS EXCLUSIVE"), ("users", "ACCESS EXCLUSIVE"),
                            ("order_items", "ACCESS EXCLUSIVE")],
        # V1 dropped orders, and order_items' key with it: only users is left to empty
        "V2": [("users", "ACCESS EXCLUSIVE")],
    }
