"""``up --dry-run`` shows all the SQL a run would send: the migrations' and their callbacks',
with placeholders filled in, but never the value of a placeholder named as a secret (a plan is
pasted into reviews and posted by bots)."""

from __future__ import annotations

import json

import pytest

ROLE = ("CREATE ROLE ${app_role} LOGIN PASSWORD '${app_password}';",
        "DROP ROLE ${app_role};")


@pytest.mark.parametrize("as_json", [False, True])
def test_a_dry_run_masks_a_secret_placeholder_and_fills_the_others(cli, write_migration,
                                                                   as_json) -> None:
    write_migration("V001__role.sql", *ROLE)
    env = {"PGSHIFT_PLACEHOLDER_APP_ROLE": "reporting",
           "PGSHIFT_PLACEHOLDER_APP_PASSWORD": "s3cr3t-hunter2"}
    result = cli("up", "--dry-run", *(["--json"] if as_json else []), env=env)
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-hunter2" not in result.stdout + result.stderr
    assert "CREATE ROLE reporting LOGIN PASSWORD" in (
        json.dumps(json.loads(result.stdout)) if as_json else result.stdout)


@pytest.fixture
def with_callbacks(write_migration, migrations_dir) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    (migrations_dir / "beforeEachMigrate.sql").write_text("SET LOCAL work_mem = '64MB';\n")
    (migrations_dir / "callbacks").mkdir()
    (migrations_dir / "callbacks" / "afterMigrate__grants.sql").write_text(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;\n")


def test_a_dry_run_shows_each_callback_and_when_it_runs(cli, with_callbacks) -> None:
    result = cli("up", "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "callback  beforeEachMigrate.sql  [in each migration's transaction, before it]" in out
    assert "callback  afterMigrate__grants.sql  [after the migrations, in its own transaction]" \
        in out
    # the SQL in the order it runs: the before callback, the migration, the after callback
    order = [out.index(text) for text in ("SET LOCAL work_mem", "CREATE TABLE a", "GRANT SELECT")]
    assert order == sorted(order)


def test_a_dry_run_as_json_lists_the_callbacks(cli, with_callbacks) -> None:
    result = cli("up", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    callbacks = json.loads(result.stdout)["callbacks"]
    assert [(c["event"], c["file"]) for c in callbacks] == [
        ("beforeEachMigrate", "beforeEachMigrate.sql"),
        ("afterMigrate", "afterMigrate__grants.sql")]
    assert callbacks[1]["sql"] == "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;"


def test_a_down_dry_run_shows_the_undo_callbacks_only(cli, with_callbacks, migrations_dir) -> None:
    assert cli("up").returncode == 0
    (migrations_dir / "afterUndo.sql").write_text("SELECT 1;\n")
    out = cli("down", "--dry-run").stdout
    assert "afterUndo.sql" in out
    assert "beforeEachMigrate" not in out and "afterMigrate" not in out
