"""Every rule's ok/bad cases (tests/lint/cases/<rule-id>.sql), and the meta-test."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift.lint.engine import Engine
from pgshift.lint.options import LintOptions
from pgshift.lint.rule import Violation, all_rules
from pgshift.lint.schema import Schema
from tests.lint.case_files import Case, load_cases

CASES = load_cases()


def lint_case(case: Case) -> list[Violation]:
    options = LintOptions(pg_version=case.pg_version, runner=case.runner,  # type: ignore[arg-type]
                          select=case.select or frozenset({case.rule}))
    engine = Engine(options)
    schema = Schema()
    if case.schema:
        engine.replay("\n".join(case.schema), Path("schema.sql"), schema, plain=True)
    return engine.lint(case.text, Path(f"V1__{case.rule}.sql"), schema)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case_is_flagged_exactly_when_labelled_bad(case: Case) -> None:
    found = [v for v in lint_case(case) if v.rule == case.rule]
    if case.expect == "ok":
        assert found == [], f"false positive at cases/{case.rule}.sql:{case.line}: {found}"
    else:
        assert found, f"false negative at cases/{case.rule}.sql:{case.line}"
        for violation in found:
            assert violation.message and violation.hint
            assert violation.line >= 1 and violation.column >= 1


def test_every_rule_has_documentation_and_ok_and_bad_cases() -> None:
    labels: dict[str, set[str]] = {}
    for case in CASES:
        labels.setdefault(case.rule, set()).add(case.expect)
    for rule_id, rule in all_rules().items():
        doc = rule.doc()
        assert doc and "Safe way:" in doc, f"{rule_id}: docstring must end with 'Safe way:'"
        assert labels.get(rule_id) == {"ok", "bad"}, f"{rule_id}: needs an ok and a bad case"
    assert set(labels) <= set(all_rules()), "case files for unknown rules"


def test_tier_a_has_the_catalogs_36_rules_and_three_beyond_it() -> None:
    tier_a = {rid for rid, r in all_rules().items() if r.tier == "A"}
    assert len(tier_a) == 39  # the catalog in lint-rules.md, and three beyond it
    assert {"create-partition-of", "enum-value-used-in-transaction",
            "add-column-constrained-domain"} <= tier_a
