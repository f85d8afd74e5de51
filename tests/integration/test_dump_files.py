"""``pgshift dump``'s file: never among the migrations, where every later run would refuse it."""

from __future__ import annotations

from pathlib import Path


def test_a_schema_file_in_the_migrations_directory_is_refused_and_not_written(
    cli, write_migration, migrations_dir: Path
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    result = cli("dump", "-o", str(migrations_dir / "schema.sql"))
    assert result.returncode == 2, result.stderr
    assert "schema.sql: the schema file would be in the migrations directory" in result.stderr
    up = cli("up", env={"PGSHIFT_SCHEMA_FILE": str(migrations_dir / "schema.sql")})
    assert up.returncode == 0, up.stderr  # the run is done; the file is a warning
    assert "pgshift: warning: the migrations ran, but" in up.stderr
    assert sorted(p.name for p in migrations_dir.iterdir()) == ["V001__t.sql"]
    assert cli("status").returncode == 0
