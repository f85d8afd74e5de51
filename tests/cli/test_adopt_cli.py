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


def test_adopt_names_the_pending_versions_up_will_refuse_as_out_of_order(
    database_url: str, migrations_dir: Path, query, capsys
) -> None:
    for number in (1, 2, 3):
        (migrations_dir / f"2024010100000{number}_s.sql").write_text(
            f"-- migrate:up\nSELECT {number};\n-- migrate:down\nSELECT 0;\n")
    query("CREATE TABLE schema_migrations (version varchar primary key)")
    query("INSERT INTO schema_migrations VALUES ('20240101000001'), ('20240101000003')")
    base = ["--url", database_url, "--dir", str(migrations_dir)]
    assert main(["adopt", "--from", "dbmate", *base]) == 0
    out = capsys.readouterr().out
    assert ("1 of them older than an applied version (V20240101000002): 'pgshift up' refuses "
            "them unless given --out-of-order.") in out
    assert main(["adopt", "--from", "dbmate", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["out_of_order"] == ["20240101000002_s.sql"]
    assert main(["up", *base]) == 3  # as adopt said
    assert main(["up", "--out-of-order", *base]) == 0


def test_adopt_while_another_runner_holds_the_lock_exits_4_and_records_nothing(
    database_url: str, migrations_dir: Path, query, capsys
) -> None:
    import psycopg2

    from pgshift.config import Settings

    setup_golang(migrations_dir, query, dirty=False)
    holder = psycopg2.connect(database_url)
    holder.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (Settings().lock_key,))
        code = main(["adopt", "--from", "golang-migrate", "--url", database_url, "--dir",
                     str(migrations_dir), "--lock-wait", "0.3s"])
    finally:
        holder.close()
    assert code == 4
    assert "another pgshift runner holds the migration lock" in capsys.readouterr().err
    assert query("SELECT to_regclass('pgshift.history')") == [(None,)]


def test_adopt_tells_to_keep_the_flavor_only_when_the_configuration_lacks_it(
    database_url: str, migrations_dir: Path, query, capsys, tmp_path: Path
) -> None:
    (migrations_dir / "V1__a.sql").write_text("SELECT 1;\n")
    query("CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version "
          "varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL, script "
          "varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL, "
          "installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, "
          "success boolean NOT NULL)")
    base = ["--url", database_url, "--dir", str(migrations_dir)]
    assert main(["adopt", "--from", "flyway", "--dry-run", *base]) == 0
    assert "keep flavor = \"flyway\"" in capsys.readouterr().out
    config = tmp_path / "pgshift.toml"
    config.write_text('flavor = "flyway"\n')
    assert main(["adopt", "--from", "flyway", "--dry-run", "--config", str(config), *base]) == 0
    assert "keep flavor" not in capsys.readouterr().out
