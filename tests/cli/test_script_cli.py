"""``pgshift up --script FILE`` and ``down --script FILE``: written, not run; the same checks as
the run; one line on stderr saying how to apply it."""

from __future__ import annotations

USERS = ("CREATE TABLE users (id bigint PRIMARY KEY, name text);\n"
         "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20000) g;\nANALYZE users;")


def test_up_script_is_written_and_nothing_runs(cli, write_migration, tmp_path, query) -> None:
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    write_migration("V002__note.sql", "ALTER TABLE users ADD COLUMN note text;",
                    "ALTER TABLE users DROP COLUMN note;")
    target = tmp_path / "deploy.sql"
    result = cli("up", "--script", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"Wrote the up script of 2 migration(s) (V001 to V002) to {target}; "
                             f"run it with: psql -X -f {target} DATABASE_URL\n")
    assert target.read_text().startswith("-- pgshift up script: apply 2 migration(s)")
    assert query("SELECT to_regclass('users'), to_regclass('pgshift.history')") == [
        (None, None)]


def test_script_to_stdout_and_down_script(cli, write_migration) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert "CREATE TABLE a (id int);" in cli("up", "--script", "-").stdout
    assert cli("up").returncode == 0
    down = cli("down", "--script", "-")
    assert down.returncode == 0
    assert "DROP TABLE a;" in down.stdout and "Wrote the down script of 1 migration(s) (V001)" \
        in down.stderr


def test_nothing_to_do_writes_no_script(cli, write_migration, tmp_path) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    assert cli("up").returncode == 0
    result = cli("up", "--script", str(tmp_path / "deploy.sql"))
    assert result.returncode == 0
    assert result.stderr == "Nothing to apply: no script written.\n"
    assert not (tmp_path / "deploy.sql").exists()


def test_the_script_passes_the_lint_gate_as_up_does(cli, write_migration, tmp_path) -> None:
    write_migration("V001__users.sql", USERS, "DROP TABLE users;")
    assert cli("up").returncode == 0
    write_migration("V002__index.sql", "CREATE INDEX users_name ON users (name);",
                    "DROP INDEX users_name;")
    target = tmp_path / "deploy.sql"
    refused = cli("up", "--script", str(target), env={"PGSHIFT_LINT": "true"})
    assert refused.returncode == 1 and "create-index-non-concurrent" in refused.stderr
    assert not target.exists()
    assert cli("up", "--script", str(target), "--unsafe",
               env={"PGSHIFT_LINT": "true"}).returncode == 0


def test_bad_uses_are_input_errors(cli, write_migration, tmp_path) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    both = cli("up", "--script", "-", "--dry-run")
    assert both.returncode == 2 and "takes neither --dry-run nor --all-targets" in both.stderr
    unwritable = cli("up", "--script", str(tmp_path / "missing" / "deploy.sql"))
    assert unwritable.returncode == 2
    assert unwritable.stderr.startswith("pgshift: error: ") and "deploy.sql" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr


def test_embedded_scripts_need_no_database(cli, write_migration) -> None:
    write_migration("V001__a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_migration("V002__b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    offline = {"PGSHIFT_URL": "postgresql://nobody@192.0.2.1:1/none"}
    result = cli("up", "--script", "-", "--embedded", "--after", "1", env=offline)
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE b (id int);" in result.stdout and "CREATE TABLE a" not in result.stdout
    lone = cli("up", "--after", "1")
    assert lone.returncode == 2 and "--after goes with --script --embedded" in lone.stderr
    alone = cli("up", "--embedded")
    assert alone.returncode == 2 and "--embedded goes with --script" in alone.stderr
