"""Expand/contract phases: inference, --phase expand, the contract refusal, usage evidence."""

from __future__ import annotations

import psycopg2
import pytest

from pgshift import api
from pgshift.errors import CheckFailedError
from pgshift.migrations.discover import discover_migrations
from pgshift.phases import phase_of


@pytest.fixture
def expand_then_contract(write_migration, query) -> None:
    query("CREATE TABLE users (id int PRIMARY KEY, name text)")
    write_migration("V1__add_display.sql", "ALTER TABLE users ADD COLUMN display text;",
                    "ALTER TABLE users DROP COLUMN display;")
    write_migration("V2__drop_name.sql", "ALTER TABLE users DROP COLUMN name;",
                    "ALTER TABLE users ADD COLUMN name text;")


def test_drop_and_rename_are_inferred_contract_and_the_directive_wins(
    write_migration, migrations_dir
) -> None:
    write_migration("V1__a.sql", "CREATE TABLE a (id int); CREATE INDEX ai ON a (id);")
    write_migration("V2__b.sql", "ALTER TABLE a RENAME COLUMN id TO key;")
    write_migration("V3__c.sql", "DROP TABLE old_things;")
    write_migration("V4__d.sql", "DROP INDEX ai; ALTER TABLE a DROP CONSTRAINT IF EXISTS x;")
    write_migration("V5__e.sql", "ALTER TABLE a DROP COLUMN key;", header="-- pgshift:phase expand")
    phases = [phase_of(m) for m in discover_migrations(migrations_dir)]
    assert phases == ["expand", "contract", "contract", "expand", "expand"]


def test_a_file_filled_differently_per_target_is_judged_by_what_it_runs(
    write_migration, migrations_dir
) -> None:
    """Fleet targets fill placeholders each their own way: the same file, the same checksum,
    different statements (the shape was once remembered by file and checksum alone)."""
    import dataclasses

    from pgshift.phases import shape_of

    write_migration("V1__a.sql", "${statement};", "SELECT 1;")
    [raw] = discover_migrations(migrations_dir)
    dropping = dataclasses.replace(raw, up_sql="ALTER TABLE a DROP COLUMN b;")
    adding = dataclasses.replace(raw, up_sql="ALTER TABLE a ADD COLUMN b int;")
    assert shape_of(dropping).removed_columns == [("a", "b")]
    assert shape_of(adding).removed_columns == []


def test_plain_up_refuses_a_contract_migration_with_the_expand_one_it_depends_on(
    settings, expand_then_contract, query
) -> None:
    with pytest.raises(CheckFailedError, match=r"V2 \(drops column users\.name\) would run in the "
                       r"same run as expand migration V1") as caught:
        api.up(settings)
    assert "--phase expand" in caught.value.hint and "--allow-contract" in caught.value.hint
    assert query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'"
                 ) == [(2,)]


def test_phase_expand_stops_before_the_first_contract_then_a_plain_up_finishes(
    settings, expand_then_contract, query
) -> None:
    first = api.up(settings, phase="expand")
    assert [o.migration.label for o in first.outcomes] == ["V1"]
    second = api.up(settings)  # the deploy happened in between: contract alone is fine
    assert [o.migration.label for o in second.outcomes] == ["V2"]
    assert query("SELECT array_agg(column_name::text ORDER BY column_name) FROM "
                 "information_schema.columns WHERE table_name = 'users'") == [
        (["display", "id"],)]


def test_allow_contract_applies_both_in_one_run(settings, expand_then_contract) -> None:
    result = api.up(settings, allow_contract=True)
    assert len(result.outcomes) == 2


def test_contract_on_another_table_does_not_depend_on_the_expand(
    settings, write_migration, query
) -> None:
    query("CREATE TABLE users (id int); CREATE TABLE logs (id int, old text)")
    write_migration("V1__a.sql", "ALTER TABLE users ADD COLUMN x int;",
                    "ALTER TABLE users DROP COLUMN x;")
    write_migration("V2__b.sql", "ALTER TABLE logs DROP COLUMN old;",
                    "ALTER TABLE logs ADD COLUMN old text;")
    assert len(api.up(settings).outcomes) == 2


def test_cli_up_exits_1_on_the_contract_refusal(cli, expand_then_contract) -> None:
    result = cli("up")
    assert result.returncode == 1
    assert "would run in the same run as expand migration V1" in result.stderr
    assert cli("up", "--phase", "expand").returncode == 0


@pytest.fixture
def stats_server(pg_server_factory):
    server = pg_server_factory(settings={"shared_preload_libraries": "pg_stat_statements"})
    conn = psycopg2.connect(server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION pg_stat_statements")
        cur.execute("CREATE TABLE users (id int PRIMARY KEY, nickname text, email text)")
    conn.close()
    return server


def test_contract_dropping_a_column_recent_queries_use_is_refused_with_the_evidence(
    stats_server, settings, write_migration
) -> None:
    write_migration("V1__drop_nickname.sql", "ALTER TABLE users DROP COLUMN nickname;",
                    "ALTER TABLE users ADD COLUMN nickname text;")
    conn = psycopg2.connect(stats_server.url)
    with conn.cursor() as cur:
        for i in range(3):
            cur.execute("SELECT nickname FROM users WHERE id = %s", (i,))
            cur.execute("SELECT email FROM users WHERE id = %s", (i,))
    conn.close()
    target = type(settings)(url=stats_server.url, dir=settings.dir, lint=False)
    with pytest.raises(CheckFailedError, match=r"column users\.nickname is still used") as caught:
        api.up(target)
    assert "3 call(s) of: SELECT nickname FROM users WHERE id = $1" in caught.value.message
    assert "pg_stat_statements_reset" in caught.value.hint
    conn = psycopg2.connect(stats_server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_stat_statements_reset()")
    conn.close()
    assert len(api.up(target).outcomes) == 1


def test_pgshifts_own_backfill_is_not_evidence_against_the_contract_step(
    stats_server, settings
) -> None:
    from pgshift.recipes import RecipeParams

    target = type(settings)(url=stats_server.url, dir=settings.dir, lint=False)
    api.create_recipe(target, "rename-column", RecipeParams(
        table="users", column="email", new_column="email_address"))
    assert len(api.up(target, phase="expand").outcomes) == 2
    assert [o.migration.label for o in api.up(target).outcomes] == ["V003"]


@pytest.mark.parametrize(("app_query", "refused"), [
    ('SELECT "from" FROM "Order Items" WHERE id = 1 ORDER BY id', False),
    ('SELECT "Select" FROM "Order Items" WHERE id = 1', True),
])
def test_a_column_whose_name_needs_quotes_is_evidence_only_where_a_query_names_it(
    stats_server, settings, app_query, refused
) -> None:
    """"Select" and "order" matched without case and quotes found every SELECT and ORDER BY
    on the table: the contract step was refused while nothing used the column."""
    target = type(settings)(url=stats_server.url, dir=settings.dir, lint=False)
    conn = psycopg2.connect(stats_server.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE "Order Items" (id int PRIMARY KEY, "Select" text, '
                    '"from" text, "order" int)')
        cur.execute("SELECT pg_stat_statements_reset()")
        for _ in range(3):
            cur.execute(app_query)
    conn.close()
    for column in ("Select", "order"):
        (settings.dir / f"V{len(column)}__drop.sql").write_text(
            f'-- pgshift:phase contract\nALTER TABLE "Order Items" DROP COLUMN "{column}";\n'
            f'-- pgshift:down\nALTER TABLE "Order Items" ADD COLUMN "{column}" text;\n')
    if refused:
        with pytest.raises(CheckFailedError, match=r'column Order Items\.Select is still used'):
            api.up(target)
    else:
        assert len(api.up(target).outcomes) == 2
