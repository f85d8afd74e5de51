"""``up --dry-run`` shows the SQL that would run, with placeholders filled in, but never the
value of a placeholder named as a secret (a plan is pasted into reviews and posted by bots)."""

from __future__ import annotations

import json

import pytest

ROLE = ("CREATE ROLE ${app_role} LOGIN PASSWORD '${app_password}';",
        "DROP ROLE ${app_role};")


@pytest.mark.parametrize("as_json", [False, True])
def test_a_dry_run_masks_a_secret_placeholder_and_fills_the_others(cli, write_migration,
                                                                   as_json) -> None:
    write_migration("V001__role.sql", *ROLE)
    env = {"PGSHIFT_PLACEHOLDER_APP_ROLE": "reporting",
           "PGSHIFT_PLACEHOLDER_APP_PASSWORD": "s3cr3t-hunter2"}
    result = cli("up", "--dry-run", *(["--json"] if as_json else []), env=env)
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-hunter2" not in result.stdout + result.stderr
    assert "CREATE ROLE reporting LOGIN PASSWORD" in (
        json.dumps(json.loads(result.stdout)) if as_json else result.stdout)
