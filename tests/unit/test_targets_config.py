"""The [targets] table: what each kind of target aims pgshift at (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg2.extensions import parse_dsn

from pgshift import config
from pgshift.errors import ConfigError
from pgshift.targets_config import resolve_targets

BASE = "postgresql://app:s3cret@db.internal:5433/main"


def test_database_names_reuse_the_main_url_and_urls_stay_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "shards.txt").write_text("# shards\nshard_2\n\nshard_1  # again\n")
    toml = tmp_path / "pgshift.toml"
    toml.write_text(f'url = "{BASE}"\n[targets]\ndatabases = ["shard_1", '
                    '"postgresql://other@db2/x"]\ndatabases_file = "shards.txt"\n')
    found = resolve_targets(config.load(config=toml, env={}))
    assert [t.name for t in found] == ["shard_1", "db2/x", "shard_2"]  # duplicates once
    dsn = parse_dsn(found[0].settings.url)
    assert (dsn["dbname"], dsn["host"], dsn["port"], dsn["user"]) == ("shard_1", "db.internal",
                                                                      "5433", "app")
    assert found[1].settings.url == "postgresql://other@db2/x"
    assert found[0].settings.placeholders["pgshift:target"] == "shard_1"


def test_schema_targets_get_a_search_path_history_schema_and_lock_of_their_own() -> None:
    settings = config.Settings(url=BASE, targets={"schemas": ["tenant_a", "tenant_b"]})
    first, second = resolve_targets(settings)
    assert parse_dsn(first.settings.url)["options"] == '-c search_path="tenant_a",public'
    assert (first.settings.schema, second.settings.schema) == ("pgshift_tenant_a",
                                                               "pgshift_tenant_b")
    assert len({settings.lock_key, first.settings.lock_key, second.settings.lock_key}) == 3


def test_an_unknown_targets_key_or_no_targets_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'targets.database'"):
        resolve_targets(config.Settings(targets={"database": ["x"]}))
    with pytest.raises(ConfigError, match="no targets configured"):
        resolve_targets(config.Settings())
    with pytest.raises(ConfigError, match="must be a list"):
        resolve_targets(config.Settings(targets={"schemas": "tenant_a"}))
