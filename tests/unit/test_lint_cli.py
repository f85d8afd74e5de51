"""``pgshift lint``: exit codes, formats, --explain, options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgshift.cli.main import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("PGSHIFT_"):
            monkeypatch.delenv(name)
    (tmp_path / "migrations").mkdir()
    return tmp_path


def write(project: Path, name: str, sql: str) -> Path:
    path = project / "migrations" / name
    path.write_text(sql, "utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_migrations_exit_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "CREATE TABLE t (id bigint);\nCREATE INDEX i ON t (id);\n")
    code, out, _ = run(capsys)
    assert code == 0 and "0 errors, 0 warnings in 1 file" in out


def test_error_findings_exit_1_with_file_line_rule_and_safe_way(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__idx.sql", "\nCREATE INDEX i ON posts (creator_id);\n")
    code, out, _ = run(capsys)
    assert code == 1
    assert "migrations/V1__idx.sql:2:1: error [create-index-non-concurrent]" in out
    assert "SHARE lock" in out and "safe way: CREATE INDEX CONCURRENTLY" in out


def test_unparseable_sql_exits_2_with_the_parser_position(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__bad.sql", "SELECT 1;\nALTER TABLE t ADD COLUMN;\n")
    code, out, _ = run(capsys)
    assert code == 2
    assert 'V1__bad.sql:2: cannot lint: syntax error at or near ";" (column 25)' in out


def test_placeholders_are_filled_before_linting_as_up_fills_them(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pgshift.toml").write_text('[placeholders]\napp_role = "app_rw"\n')
    write(project, "V1__t.sql", "CREATE TABLE t (id bigint);\nGRANT SELECT ON t TO ${app_role};\n"
          "DROP TABLE ${table};\n")
    code, out, _ = run(capsys)
    assert code == 2 and "V1__t.sql:3: cannot lint" in out  # ${table} has no value
    write(project, "V1__t.sql", "CREATE TABLE t (id bigint);\nGRANT SELECT ON t TO ${app_role};\n")
    code, out, _ = run(capsys)
    assert code == 0, out


def test_warnings_alone_exit_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "-- pgshift:ignore drop-table\nSELECT 1;\n")
    code, out, _ = run(capsys)
    assert code == 0 and "warning [unused-ignore]" in out


def test_json_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "DROP TABLE t;\n")
    code, out, _ = run(capsys, "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["errors"] == 1
    assert data["violations"][0] | {"message": "", "hint": ""} == {
        "rule": "drop-table", "severity": "error", "path": "migrations/V1__t.sql", "line": 1,
        "column": 1, "message": "", "hint": ""}


def test_sarif_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "DROP TABLE t;\n")
    _, out, _ = run(capsys, "--format", "sarif")
    data = json.loads(out)
    assert data["version"] == "2.1.0"
    result = data["runs"][0]["results"][0]
    assert result["ruleId"] == "drop-table" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1,
                                                                     "startColumn": 1}
    assert data["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "drop-table"


def test_github_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "SELECT 1;\nDROP TABLE t;\n")
    _, out, _ = run(capsys, "--format", "github")
    assert out.startswith("::error file=migrations/V1__t.sql,line=2,col=1,title=drop-table::")


def test_runner_psql_and_select(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "ALTER TABLE users ADD COLUMN a int;\n")
    assert run(capsys)[0] == 0
    code, out, _ = run(capsys, "--runner", "psql", "--select", "missing-lock-timeout")
    assert code == 1 and "[missing-lock-timeout]" in out


def test_pg_version_changes_the_verdict(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "V1__t.sql", "ALTER TABLE users ADD COLUMN active boolean DEFAULT true;\n")
    assert run(capsys)[0] == 0
    assert run(capsys, "--pg-version", "10")[0] == 1


def test_schema_flag_reads_a_schema_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "schema.sql").write_text("CREATE TABLE users (id int);\n", "utf-8")
    write(project, "V1__t.sql", "ALTER TABLE users ALTER COLUMN id TYPE int4;\n")
    assert run(capsys, "--schema", "schema.sql")[0] == 0


def test_explain_prints_the_rule_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--explain", "set-not-null-without-check")
    assert code == 0 and "Safe way:" in out and "ACCESS EXCLUSIVE" in out
    code, out, _ = run(capsys, "--explain", "all")
    assert code == 0 and "create-index-non-concurrent" in out and "prefer-bigint" in out


def test_unknown_rule_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--explain", "nope")[0] == 2
    code, _, err = run(capsys, "--select", "nope")
    assert code == 2 and "unknown rule 'nope'" in err


def test_global_schema_option_still_works_for_other_commands(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    assert "--schema SCHEMA" in capsys.readouterr().out


def test_rule_reference_in_the_docs_matches_the_rules() -> None:
    from pgshift.lint.formats import REFERENCE_MARKER, reference

    text = (Path(__file__).resolve().parents[2] / "docs" / "lint.md").read_text("utf-8")
    generated = text[text.index(REFERENCE_MARKER):]
    assert generated == reference(), (
        "docs/lint.md is stale: regenerate its rule reference with "
        "'python -m pgshift.lint.formats docs/lint.md'")


def test_pre_commit_hook_runs_pgshift_lint_on_sql_files() -> None:
    text = (Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text("utf-8")
    assert "- id: pgshift-lint" in text and "entry: pgshift lint" in text
    assert "files: \\.sql$" in text
