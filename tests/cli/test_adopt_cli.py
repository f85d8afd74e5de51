"""``pgshift adopt``: output, JSON, dry run and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from pgshift.cli.main import main


def setup_golang(migrations_dir: Path, query, dirty: bool) -> None:
    for number in (1, 2):
        (migrations_dir / f"{number}_step.up.sql").write_text(f"SELECT {number};\n")
        (migrations_dir / f"{number}_step.down.sql").write_text("SELECT 0;\n")
    query("CREATE TABLE schema_migrations (version bigint not null primary key, "
          "dirty boolean not null)")
    query("INSERT INTO schema_migrations VALUES (1, %s)", dirty)


def test_adopt_dry_run_then_adopt_print_what_they_record(
    database_url: str, migrations_dir: Path, query, capsys
) -> None:
    setup_golang(migrations_dir, query, dirty=False)
    base = ["--url", database_url, "--dir", str(migrations_dir)]
    assert main(["adopt", "--from", "golang-migrate", "--dry-run", *base]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Would record 1 migration(s) applied by golang-migrate "
                          "(from public.schema_migrations)")
    assert "1 migration(s) not applied yet: run 'pgshift up'." in out and "Dry run" in out
    assert main(["adopt", "--from", "golang-migrate", "--json", *base]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recorded"] == ["1_step.up.sql"] and report["pending"] == ["2_step.up.sql"]
    assert report["dry_run"] is False and report["flavor"] == "golang-migrate"


def test_adopt_of_a_dirty_database_exits_3_with_one_line(
    database_url: str, migrations_dir: Path, query, capsys
) -> None:
    setup_golang(migrations_dir, query, dirty=True)
    code = main(["adopt", "--from", "golang-migrate", "--url", database_url,
                 "--dir", str(migrations_dir)])
    err = capsys.readouterr().err
    assert code == 3
    assert err == ("pgshift: error: golang-migrate left this database dirty at version 1 "
                   "(hint: fix the schema by hand, then 'migrate force 1', then adopt)\n")


def test_adopt_without_a_history_table_exits_2(
    database_url: str, migrations_dir: Path, capsys
) -> None:
    code = main(["adopt", "--from", "flyway", "--url", database_url, "--dir",
                 str(migrations_dir)])
    assert code == 2
    assert "no flyway history table 'flyway_schema_history'" in capsys.readouterr().err
