"""The rule registry: explicit imports, unique kebab-case ids, one module per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

import pgshift.lint.rules as rules_package
from pgshift.lint.rule import REGISTRY, Rule, all_rules, register


def test_register_refuses_a_duplicate_id() -> None:
    class Again(Rule):
        """Duplicate.

        Safe way: none.
        """

        id = "drop-table"

    with pytest.raises(ValueError, match="duplicate rule id 'drop-table'"):
        register(Again)


def test_register_refuses_an_undocumented_or_badly_named_rule() -> None:
    class Undocumented(Rule):
        id = "undocumented-rule"

    class BadName(Rule):
        """Bad.

        Safe way: none.
        """

        id = "Bad_Name"

    with pytest.raises(ValueError, match="Safe way"):
        register(Undocumented)
    with pytest.raises(ValueError, match="kebab-case"):
        register(BadName)
    assert "undocumented-rule" not in REGISTRY


def test_every_rule_module_is_listed_and_named_after_its_rule() -> None:
    directory = Path(rules_package.__file__).parent
    modules = {p.stem for p in directory.glob("*.py") if p.stem != "__init__"}
    assert modules == set(rules_package.MODULES)
    for rule_id, rule in all_rules().items():
        assert rule.__module__ == f"pgshift.lint.rules.{rule_id.replace('-', '_')}"


def test_rules_declare_the_node_types_they_visit() -> None:
    for rule_id, rule in all_rules().items():
        assert isinstance(rule.nodes, tuple), rule_id
        assert all(n[:1].isupper() for n in rule.nodes), rule_id
