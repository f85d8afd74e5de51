"""Adoption after the real tools ran: node-pg-migrate and dbmate (npm), yandex pgmigrate (PyPI).

The tools are looked up in ``PGSHIFT_TEST_TOOLS`` (folders, ``:``-separated), then in
``.ci-tools`` (where .ci/run installs them), then on PATH; a test whose tool is missing skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pgshift import api
from pgshift.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    folders = [p for p in os.environ.get("PGSHIFT_TEST_TOOLS", "").split(":") if p]
    folders += [str(ROOT / ".ci-tools" / "node_modules" / ".bin"),
                str(ROOT / ".ci-tools" / "pgmigrate" / "bin")]
    found = shutil.which(name, path=os.pathsep.join([*folders, os.environ.get("PATH", "")]))
    if found is None:
        pytest.skip(f"{name} is not installed (see PGSHIFT_TEST_TOOLS)")
    return found


def run(*args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(args, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def applied_and_pending(settings: Settings) -> tuple[list[str], list[str]]:
    items = api.status(settings).items
    return ([i.script for i in items if i.state == "applied"],
            [i.script for i in items if i.state == "pending"])


def test_adopt_after_real_node_pg_migrate(settings: Settings, migrations_dir: Path,
                                          database_url: str) -> None:
    binary = tool("node-pg-migrate")
    write(migrations_dir, "1700000000000_create-users.sql",
          "-- Up Migration\nCREATE TABLE users (id int);\n-- Down Migration\nDROP TABLE users;\n")
    run(binary, "up", "-m", str(migrations_dir), "--no-check-order",
        env={"DATABASE_URL": database_url})
    write(migrations_dir, "1700000000001_add-email.sql",
          "-- Up Migration\nALTER TABLE users ADD email text;\n-- Down Migration\n"
          "ALTER TABLE users DROP email;\n")
    result = api.adopt(settings, "node-pg-migrate")
    assert [m.name for m in result.recorded] == ["1700000000000_create-users.sql"]
    assert applied_and_pending(settings) == (["1700000000000_create-users.sql"],
                                             ["1700000000001_add-email.sql"])
    assert len(api.up(settings).outcomes) == 1


def test_adopt_after_real_dbmate(settings: Settings, migrations_dir: Path,
                                 database_url: str) -> None:
    binary = tool("dbmate")
    write(migrations_dir, "20240101120000_create_users.sql",
          "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n")
    write(migrations_dir, "20240102120000_users_idx.sql",
          "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n\n"
          "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY users_id;\n")
    sep = "&" if "?" in database_url else "?"
    run(binary, "--url", f"{database_url}{sep}sslmode=disable", "--migrations-dir",
        str(migrations_dir), "--no-dump-schema", "up")
    write(migrations_dir, "20240103120000_email.sql",
          "-- migrate:up\nALTER TABLE users ADD email text;\n-- migrate:down\n"
          "ALTER TABLE users DROP email;\n")
    result = api.adopt(settings, "dbmate")
    assert len(result.recorded) == 2 and [m.name for m in result.pending] == [
        "20240103120000_email.sql"]
    assert len(api.up(settings).outcomes) == 1
    assert len(api.down(settings, everything=True).outcomes) == 3  # incl. the CONCURRENTLY one


def test_adopt_after_real_pgmigrate(settings: Settings, tmp_path: Path,
                                    database_url: str) -> None:
    binary = tool("pgmigrate")
    base = tmp_path / "project"
    folder = base / "migrations"
    folder.mkdir(parents=True)
    write(folder, "V0001__init.sql", "CREATE TABLE t (id int);\n")
    write(folder, "V0002__NONTRANSACTIONAL_idx.sql", "CREATE INDEX CONCURRENTLY t_id ON t (id);\n")
    run(binary, "-d", str(base), "-c", database_url, "-t", "latest", "migrate")
    write(folder, "V0003__more.sql", "ALTER TABLE t ADD x int;\n")
    (base / "migrations.yml").write_text("callbacks: {}\n")
    settings = Settings(url=database_url, dir=folder, lint=False)
    result = api.adopt(settings, "pgmigrate")
    assert [m.name for m in result.recorded] == ["V0001__init.sql",
                                                 "V0002__NONTRANSACTIONAL_idx.sql"]
    assert result.detected_flavor == "pgmigrate"  # migrations.yml beside the folder
    assert [o.migration.name for o in api.up(settings).outcomes] == ["V0003__more.sql"]
