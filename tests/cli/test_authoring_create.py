"""``pgshift create``: what a name typed or pasted carelessly gives."""

from __future__ import annotations

from pathlib import Path


def test_a_name_with_a_line_break_stays_on_the_title_line(cli, migrations_dir: Path) -> None:
    """A name pasted with its line break (a ticket's title and body) must not leave SQL
    outside the title comment: the next 'up' would run it."""
    result = cli("create", "add users\nDROP TABLE users;\r\n\tfor real\x0b")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.name == "V001__add_users_drop_table_users_for_real.sql"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "-- add users DROP TABLE users; for real"
    assert all(line.startswith("--") or not line.strip() for line in lines)


def test_a_name_with_a_control_character_is_written_without_it(cli,
                                                               migrations_dir: Path) -> None:
    result = cli("create", "tidy\x1b[31m up\x7f")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.name == "V001__tidy_31m_up.sql"
    assert path.read_text(encoding="utf-8").splitlines()[0] == "-- tidy [31m up"
