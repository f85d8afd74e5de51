"""``pgshift verify`` refuses bad input with exit 2 and one line, before any database is made,
and never prints a password it was given."""

from __future__ import annotations

import pytest

SCRATCH = "SELECT datname FROM pg_database WHERE datname LIKE 'pgshift\\_verify\\_%'"
HINT = " (hint: 'pgshift verify --help' lists what it takes)"


@pytest.mark.parametrize(("args", "message"), [
    (["--cost-threshold", "nan"], "argument --cost-threshold: not a percentage: 'nan' (e.g. 50%)"),
    (["--cost-threshold", "inf%"],
     "argument --cost-threshold: not a percentage: 'inf%' (e.g. 50%)"),
    (["--cost-threshold", "1e400"],
     "argument --cost-threshold: not a percentage: '1e400' (e.g. 50%)"),
    (["--with-data", "--rows", "100000000000"],
     "argument --rows: --rows must be at most 10000000 (per table, on the server of the "
     "scratch database)"),
    (["--queries-from-stats", ""], "argument --queries-from-stats: an empty URL (give the "
                                   "database's URL)"),
    (["--from", " "], "argument --from: an empty URL (give the database's URL)"),
    (["--from", "not a url"], 'argument --from: not a database URL: missing "=" after "not" in '
                              "connection info string"),
    (["--from", "postgresql://app:s3cr%zzet@db.example.com/app"],
     'argument --from: not a database URL: invalid percent-encoded token: "***"'),
    (["--queries-from-stats", "postgresql://app:s3cret@[::1/app"],
     "argument --queries-from-stats: not a database URL: end of string reached when looking "
     'for matching "]" in IPv6 host address in URI: "postgresql://app:***@[::1/app"'),
])
def test_bad_input_is_one_line_and_exit_2_before_any_database_is_made(
    cli, write_migration, query, args: list[str], message: str
) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    result = cli("verify", *args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"pgshift: error: verify: {message}{HINT}"]
    assert "s3cr" not in result.stderr
    assert query(SCRATCH) == []


def test_a_url_that_is_not_utf8_is_refused_with_one_line(cli) -> None:
    result = cli("verify", "--from", "postgresql://app:s3cret@db/app\udcff")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pgshift: error: verify: argument --from: not a database URL: not valid UTF-8{HINT}"]


def test_the_report_lines_up_labels_longer_than_a_version(cli, write_migration) -> None:
    write_migration("V001__t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_migration("R__a_long_repeatable_name.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;")
    result = cli("verify")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.endswith("  ok")]
    assert len(lines) == 2
    assert len({line.index("V001") + 4 for line in lines if "V001" in line}
               | {line.index(".sql") + 4 for line in lines if "R__" in line}) == 1
