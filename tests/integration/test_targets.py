"""Many targets: 50 databases on one server (some failing on purpose), and tenant schemas."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql
from tests.fixtures.pg import url_with_dbname

from pgshift import targets
from pgshift.cli.main import main
from pgshift.config import Settings

FLEET = 50
BROKEN = {7, 19, 23, 38, 44}  # these already have a table 'b', so V2 fails there


def execute(url: str, *statements: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def make_fleet(admin_url: str, template_database: str) -> Iterator[Callable[[int], list[str]]]:
    """``make_fleet(n)``: n fresh databases fleet_<run>_NN; those in BROKEN will fail V2."""
    made: list[str] = []

    def make(count: int) -> list[str]:
        prefix = f"fleet_{uuid.uuid4().hex[:8]}"
        names = [f"{prefix}_{n:02d}" for n in range(count)]
        with _admin(admin_url) as cur:
            for name in names:
                cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template_database)))
                made.append(name)
        for n in BROKEN & set(range(count)):
            execute(url_with_dbname(admin_url, names[n]), "CREATE TABLE b (x int)")
        return names

    yield make
    with _admin(admin_url) as cur:
        for name in made:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@contextmanager
def _admin(url: str) -> Iterator[Any]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


@pytest.fixture
def project(migrations_dir: Path) -> Path:
    (migrations_dir / "V1__a.sql").write_text(
        "CREATE TABLE a (id int);\n-- pgshift:down\nDROP TABLE a;\n")
    (migrations_dir / "V2__b.sql").write_text(
        "CREATE TABLE b (id int);\nCOMMENT ON TABLE b IS '${pgshift:target}';\n"
        "-- pgshift:down\nDROP TABLE b;\n")
    return migrations_dir


def fleet_settings(admin_url: str, project: Path, names: list[str]) -> Settings:
    prefix = names[0].rsplit("_", 1)[0]
    return Settings(url=admin_url, dir=project, lint=False, lock_wait=10.0, targets={
        "databases_query": "SELECT datname FROM pg_database "
                           f"WHERE datname LIKE '{prefix}\\_%' ORDER BY datname"})


def test_up_all_targets_migrates_50_databases_and_a_rerun_picks_up_the_failed_ones(
    admin_url: str, make_fleet, project: Path
) -> None:
    fleet = make_fleet(FLEET)
    settings = fleet_settings(admin_url, project, fleet)
    seen: list[str] = []
    first = targets.up_all(settings, parallel=8, on_done=lambda r: seen.append(r.target))
    assert [r.target for r in first.results] == fleet and sorted(seen) == fleet
    failed = {r.target for r in first.results if r.status == "failed"}
    assert failed == {fleet[n] for n in BROKEN}
    assert first.count("applied") == FLEET - len(BROKEN) and first.exit_code == 5
    broken = next(r for r in first.results if r.status == "failed")
    assert 'relation "b" already exists' in (broken.error or "") and broken.applied == 0
    url = url_with_dbname(admin_url, fleet[0])
    assert execute(url, "SELECT obj_description('b'::regclass)") == [(fleet[0],)]
    for n in BROKEN:  # fix the cause; the rerun resumes where each database stopped
        execute(url_with_dbname(admin_url, fleet[n]), "DROP TABLE b")
    second = targets.up_all(settings, parallel=8)
    assert second.count("up-to-date") == FLEET - len(BROKEN)
    assert {r.target for r in second.results if r.status == "applied"} == failed
    assert all(r.applied == 1 for r in second.results if r.status == "applied")
    assert second.exit_code == 0
    lines = targets.status_all(settings, parallel=8)
    assert {(s.applied, s.pending, s.head) for s in lines} == {(2, 0, "2")}


def test_fail_fast_skips_the_targets_not_started(
    admin_url: str, make_fleet, project: Path
) -> None:
    fleet = make_fleet(10)
    settings = dataclasses.replace(fleet_settings(admin_url, project, fleet),
                                   targets={"databases": fleet})
    result = targets.up_all(settings, parallel=1, fail_fast=True)
    assert [r.status for r in result.results] == ["applied"] * 7 + ["failed"] + ["skipped"] * 2


def test_status_all_targets_json_gives_the_fleet_view(
    admin_url: str, make_fleet, project: Path, tmp_path: Path, capsys
) -> None:
    fleet = make_fleet(3)
    listed = tmp_path / "shards.txt"
    listed.write_text("# the first three\n" + "\n".join(fleet[:3]) + "\n")
    toml = tmp_path / "pgshift.toml"
    toml.write_text(f'url = "{admin_url}"\ndir = "{project}"\nlint = false\n'
                    '[targets]\ndatabases_file = "shards.txt"\n')
    assert main(["up", "--config", str(toml), "--all-targets", "--json", "--to", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary == {"applied": 3, "up-to-date": 0, "failed": 0, "skipped": 0}
    assert main(["status", "--config", str(toml), "--all-targets", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)["targets"]
    assert [(t["target"], t["applied"], t["pending"], t["head"]) for t in view] == [
        (name, 1, 1, "1") for name in fleet[:3]]
    assert main(["status", "--config", str(toml), "--all-targets", "--exit-code"]) == 1
    assert main(["up", "--config", str(toml), "--all-targets"]) == 0
    assert main(["status", "--config", str(toml), "--all-targets", "--exit-code"]) == 0


def test_schema_targets_get_their_own_tables_history_and_lock(
    settings: Settings, project: Path, query
) -> None:
    tenants = dataclasses.replace(settings, targets={"schemas": ["tenant_a", "Tenant B"]})
    result = targets.up_all(tenants, parallel=2)
    assert [(r.target, r.status, r.applied) for r in result.results] == [
        ("tenant_a", "applied", 2), ("Tenant B", "applied", 2)]
    assert query("SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('a', 'b') "
                 "ORDER BY 1, 2") == [("Tenant B", "a"), ("Tenant B", "b"),
                                      ("tenant_a", "a"), ("tenant_a", "b")]
    assert query("SELECT count(*) FROM \"pgshift_Tenant B\".history") == [(2,)]
    assert query("SELECT obj_description('tenant_a.b'::regclass)") == [("tenant_a",)]
    keys = {t.settings.lock_key for t in targets.resolve_targets(tenants)}
    assert len(keys) == 2 and settings.lock_key not in keys
    assert targets.up_all(tenants).count("up-to-date") == 2


def test_long_tenant_names_that_differ_only_at_the_end_get_a_history_each(
    settings: Settings, project: Path, query
) -> None:
    long_a, long_b = "tenant_" + "x" * 50 + "_a1", "tenant_" + "x" * 50 + "_a2"
    fleet = dataclasses.replace(settings, targets={"schemas": [long_a, long_b, "tenant_a"]})
    result = targets.up_all(fleet, parallel=2)
    assert [(r.status, r.applied) for r in result.results] == [("applied", 2)] * 3
    assert query("SELECT count(*) FROM pg_tables WHERE tablename = 'b'") == [(3,)]
    histories = [t.settings.schema for t in targets.resolve_targets(fleet)]
    assert histories[2] == "pgshift_tenant_a"  # a name that fits never changes
    assert len(set(histories)) == 3 and all(len(h.encode()) <= 63 for h in histories)
    assert [(s.applied, s.pending) for s in targets.status_all(fleet)] == [(2, 0)] * 3


def test_a_long_tenants_history_in_the_cut_name_of_earlier_releases_is_not_started_afresh(
    settings: Settings, project: Path, query
) -> None:
    tenant = "tenant_" + "é" * 28  # 63 bytes: pgshift_<tenant> was cut by PostgreSQL
    cut = f"pgshift_{tenant}".encode()[:63].decode("utf-8", "ignore")
    query(f'CREATE SCHEMA "{tenant}"; CREATE SCHEMA "{cut}"')
    fleet = dataclasses.replace(settings, targets={"schemas": [tenant]})
    result = targets.up_all(fleet).results[0]
    assert result.status == "failed" and result.exit_code == 2
    assert f'ALTER SCHEMA "{cut}" RENAME TO' in (result.error or "")
    assert "ALTER SCHEMA" in (targets.status_all(fleet)[0].error or "")
    assert query(f"SELECT count(*) FROM pg_tables WHERE schemaname = '{tenant}'") == [(0,)]


@pytest.mark.parametrize("tenant", ['q"r', "pg_tenant", "information_schema", "t" * 64])
def test_a_tenant_name_postgresql_would_refuse_or_cut_is_exit_2_naming_it(
    settings: Settings, project: Path, tenant: str, capsys, tmp_path: Path
) -> None:
    toml = tmp_path / "pgshift.toml"
    toml.write_text(f'url = "{settings.url}"\ndir = "{project}"\nlint = false\n[targets]\n'
                    f"schemas = {json.dumps([tenant])}\n")
    for verb in ("up", "status"):
        assert main([verb, "--config", str(toml), "--all-targets"]) == 2
        assert f"tenant schema '{tenant}'" in capsys.readouterr().err


@pytest.mark.parametrize(("setting", "message"), [
    ('databases_query = "SELECT nope"', "targets.databases_query failed: column"),
    ('schemas_query = "CREATE TABLE made (x int)"', "targets.schemas_query failed: cannot"),
    ('schemas_query = "SET work_mem = \'8MB\'"', "targets.schemas_query returned no rows set"),
    ('schemas_file = "tenants.txt"', "targets.schemas_file is not UTF-8"),
])
def test_a_targets_setting_that_cannot_list_targets_is_exit_2_naming_it(
    settings: Settings, project: Path, setting: str, message: str, capsys, tmp_path: Path,
    query
) -> None:
    (tmp_path / "tenants.txt").write_bytes(b"\xff\xfe\x00\n")
    toml = tmp_path / "pgshift.toml"
    toml.write_text(f'url = "{settings.url}"\ndir = "{project}"\nlint = false\n[targets]\n'
                    f"{setting}\n")
    for verb in ("up", "status"):
        assert main([verb, "--config", str(toml), "--all-targets"]) == 2
        assert message in capsys.readouterr().err
    assert query("SELECT to_regclass('made')") == [(None,)]  # a query lists, never changes


def test_a_targets_file_may_start_with_a_utf8_bom(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "tenants.txt").write_bytes("\ufefftenant_a\n# not this\ntenant_b\n".encode())
    listed = dataclasses.replace(settings, config_path=tmp_path / "pgshift.toml",
                                 targets={"schemas_file": "tenants.txt"})
    assert [t.name for t in targets.resolve_targets(listed)] == ["tenant_a", "tenant_b"]
