"""Rule cases as data: ``cases/<rule-id>.sql`` holds blank-line-separated cases.

Each case starts with ``-- ok`` (the rule must not fire) or ``-- bad`` (it must fire at least
once), optionally followed by header comments:

- ``-- pg-version: 10`` and ``-- runner: psql`` set the lint options;
- ``-- schema: <SQL>`` (repeatable) is replayed first, as an earlier migration would be;
- ``-- select: rule-a, rule-b`` runs these rules instead of just the file's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CASES = Path(__file__).parent / "cases"
_HEADERS = ("pg-version", "runner", "schema", "select")


@dataclass
class Case:
    rule: str
    expect: str  # "ok" or "bad"
    text: str
    line: int
    pg_version: int = 15
    runner: str = "pgshift"
    schema: list[str] = field(default_factory=list)
    select: frozenset[str] | None = None

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.line}:{self.expect}"


def _blocks(text: str) -> list[tuple[int, str]]:
    blocks, current, start = [], [], 1
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, "\n".join(current) + "\n"))
            current = []
    if current:
        blocks.append((start, "\n".join(current) + "\n"))
    return blocks


def parse_case(rule: str, line: int, block: str) -> Case:
    lines = block.split("\n")
    head = lines[0].strip()
    if head not in ("-- ok", "-- bad"):
        raise ValueError(f"{rule}.sql:{line}: a case must start with '-- ok' or '-- bad'")
    case = Case(rule, head[3:], block, line)
    for text in lines[1:]:
        key, _, value = text.strip().removeprefix("--").partition(":")
        key, value = key.strip(), value.strip()
        if not text.startswith("-- ") or key not in _HEADERS:
            break
        if key == "pg-version":
            case.pg_version = int(value)
        elif key == "runner":
            case.runner = value
        elif key == "schema":
            case.schema.append(value)
        else:
            case.select = frozenset(v.strip() for v in value.split(",") if v.strip())
    return case


def load_cases(directory: Path = CASES) -> list[Case]:
    cases = []
    for path in sorted(directory.glob("*.sql")):
        for line, block in _blocks(path.read_text("utf-8")):
            cases.append(parse_case(path.stem, line, block))
    return cases
