"""``pgshift verify`` as a CI job reads it: the cost threshold as written, and a JSON report a
pull-request bot can place (file, line, query) without parsing messages."""

from __future__ import annotations

import json
from pathlib import Path

PADDED = ("ALTER TABLE t ADD COLUMN pad text;\nUPDATE t SET pad = repeat('x', 300);",
          "ALTER TABLE t DROP COLUMN pad;")


def _padded_table(write_migration, tmp_path: Path) -> Path:
    """A migration that makes every row of ``t`` wider: a full scan costs about three times
    as much, through no lost index."""
    write_migration("V001__t.sql", "CREATE TABLE t (id int, v text);", "DROP TABLE t;")
    write_migration("V002__pad.sql", *PADDED)
    queries = tmp_path / "queries.sql"
    queries.write_text("SELECT count(*) FROM t;\n")
    return queries


def test_a_bare_cost_threshold_is_a_percentage_as_its_help_says(
    cli, write_migration, tmp_path: Path
) -> None:
    """``--cost-threshold 20`` was read as 20 times (2000 %): a query three times as costly
    passed."""
    queries = _padded_table(write_migration, tmp_path)
    args = ("verify", "--json", "--queries", str(queries), "--with-data", "--rows", "2000")
    strict = cli(*args, "--cost-threshold", "20")
    assert strict.returncode == 1, strict.stderr
    [finding] = json.loads(strict.stdout)["migrations"][1]["findings"]
    assert finding["kind"] == "plan" and "(more than 20%)" in finding["message"]
    lenient = cli(*args, "--cost-threshold", "2000")
    assert lenient.returncode == 0, lenient.stdout


def test_the_json_report_places_each_finding_in_its_file_and_line_for_a_bot(
    cli, write_migration, migrations_dir: Path, tmp_path: Path
) -> None:
    """A bot commenting on a pull request needs the file and line of each finding (the
    query's, the migration's) and the query in full, not a message cut at 80 characters."""
    write_migration("V001__users.sql", "CREATE TABLE users (id int, full_name text);",
                    "DROP TABLE users;")
    write_migration("V002__rename.sql",
                    "ALTER TABLE users RENAME COLUMN full_name TO display_name;",
                    "ALTER TABLE users RENAME COLUMN display_name TO full_name;")
    write_migration("V003__broken.sql", "SELECT 1;\nALTER TABLE nope ADD COLUMN x int;",
                    "SELECT 1;")
    queries = tmp_path / "queries.sql"
    long_query = ("SELECT id, full_name FROM users WHERE full_name IS NOT NULL "
                  "AND id > $1 ORDER BY full_name, id")
    queries.write_text(f"-- the app\n\n{long_query};\n")
    result = cli("verify", "--json", "--queries", str(queries))
    assert result.returncode == 1, result.stderr
    _, v002, v003 = json.loads(result.stdout)["migrations"]
    assert v002["path"] == str(migrations_dir / "V002__rename.sql")
    [compat] = v002["findings"]
    assert (compat["path"], compat["line"], compat["query"]) == (str(queries), 3, long_query)
    [failed] = v003["findings"]
    assert (failed["kind"], failed["path"], failed["line"], failed["query"]) == (
        "failed", str(migrations_dir / "V003__broken.sql"), 2, None)
