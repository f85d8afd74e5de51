"""The evaluation corpus: realistic migration directories, each file labelled with the tier-A
rules it must (and only it must) trigger.

``tests/lint/corpus/<project>/`` holds one project's migrations (Flyway, Django, Alembic,
golang-migrate, node-pg-migrate, Prisma, drizzle, Rails, pg_dump, pgshift…). Each directory is
linted as a unit, as ``pgshift lint DIR`` does, so earlier files give the schema context: a
table created by an earlier file is *not* new in a later one. Every linted file carries:

- ``-- expect: rule-a, rule-b`` or ``-- expect: none``: exactly its tier-A findings;
- optionally ``-- runner: psql`` and ``-- pg-version: N`` (the same for the whole directory);
- ``-- known-miss: why`` on a file whose label is right but which the linter gets wrong by
  design (its per-file test is an expected failure; it still counts in the scores).

Besides the per-file check, the corpus's precision and recall over (file, rule) pairs are
computed and printed (``pytest -s``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from pgshift.lint.files import migration_files
from pgshift.lint.linter import lint_paths
from pgshift.lint.options import LintOptions
from pgshift.lint.rule import all_rules

CORPUS = Path(__file__).parent / "corpus"
_HEADER = re.compile(r"^-- (expect|runner|pg-version|known-miss):(.*)$", re.M)


@dataclass(frozen=True)
class Labelled:
    path: Path
    directory: Path
    expected: frozenset[str]
    runner: str
    pg_version: int
    known_miss: str | None = None

    @property
    def id(self) -> str:
        return self.path.relative_to(CORPUS).as_posix()


def _label(path: Path, directory: Path) -> Labelled:
    headers: dict[str, str] = {}
    for key, value in _HEADER.findall(path.read_text("utf-8")):
        headers.setdefault(key, value.strip())
    if "expect" not in headers:
        raise ValueError(f"{path}: no '-- expect:' label")
    expect = headers["expect"]
    rules = frozenset() if expect == "none" else frozenset(
        r.strip() for r in expect.split(",") if r.strip())
    return Labelled(path, directory, rules, headers.get("runner", "pgshift"),
                    int(headers.get("pg-version", "15")), headers.get("known-miss"))


def directories() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


@cache
def labels(directory: Path) -> tuple[Labelled, ...]:
    return tuple(_label(Path(f), directory) for f in migration_files(directory))


def _options(directory: Path) -> LintOptions:
    found = labels(directory)
    runners = {f.runner for f in found}
    versions = {f.pg_version for f in found}
    assert len(runners) == 1 and len(versions) == 1, \
        f"{directory.name}: files disagree on runner or pg-version"
    return LintOptions(runner=runners.pop(), pg_version=versions.pop(),  # type: ignore[arg-type]
                       cache_dir=None, jobs=1)


@cache
def tier_a_findings(directory: Path) -> dict[Path, frozenset[str]]:
    """Tier-A rule ids found per file of a corpus directory."""
    tier_a = {rid for rid, rule in all_rules().items() if rule.tier == "A"}
    report = lint_paths([directory], _options(directory))
    assert not report.failures, report.failures
    found: dict[Path, set[str]] = {f.path: set() for f in labels(directory)}
    for violation in report.violations:
        if violation.rule in tier_a:
            found.setdefault(Path(violation.path), set()).add(violation.rule)
    return {path: frozenset(rules) for path, rules in found.items()}


ALL = [f for d in directories() for f in labels(d)]


def test_corpus_is_big_and_labels_name_tier_a_rules() -> None:
    tier_a = {rid for rid, rule in all_rules().items() if rule.tier == "A"}
    assert len(ALL) >= 60
    assert {f.expected for f in ALL if not f.expected}, "needs safe files"
    for labelled in ALL:
        assert labelled.expected <= tier_a, f"{labelled.id}: unknown rule in label"


@pytest.mark.parametrize("labelled", [
    pytest.param(f, id=f.id, marks=[pytest.mark.xfail(strict=True, reason=f.known_miss)]
                 if f.known_miss else []) for f in ALL])
def test_corpus_file_has_exactly_its_labelled_findings(labelled: Labelled) -> None:
    found = tier_a_findings(labelled.directory)[labelled.path]
    assert found == labelled.expected, (
        f"{labelled.id}: false positives {sorted(found - labelled.expected)}, "
        f"false negatives {sorted(labelled.expected - found)}")


def score() -> tuple[float, float, int, int, int]:
    """``(precision, recall, true positives, false positives, false negatives)`` over the
    corpus's (file, rule) pairs."""
    tp = fp = fn = 0
    for directory in directories():
        found = tier_a_findings(directory)
        for labelled in labels(directory):
            got = found[labelled.path]
            tp += len(got & labelled.expected)
            fp += len(got - labelled.expected)
            fn += len(labelled.expected - got)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def test_corpus_precision_and_recall_reach_the_target() -> None:
    precision, recall, tp, fp, fn = score()
    print(f"\ncorpus: {len(ALL)} files, precision {precision:.3f}, recall {recall:.3f} "
          f"(tp {tp}, fp {fp}, fn {fn})")
    assert precision >= 0.95 and recall >= 0.95
