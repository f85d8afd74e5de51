"""Lint report formatters: text, json, sarif (2.1.0) and github (workflow annotations)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from pgshift.errors import PgshiftError
from pgshift.lint.report import LintReport
from pgshift.lint.rule import Violation, all_rules

FORMATS = ("text", "json", "sarif", "github")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def display_path(path: Path | str | None) -> str:
    """``path`` relative to the working directory when it is below it."""
    if path is None:
        return ""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _summary(report: LintReport) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    cached = f", {report.cached} from cache" if report.cached else ""
    failed = f", {len(report.failures)} could not be linted" if report.failures else ""
    return (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
            f"in {report.files} file{'s' * (report.files != 1)}{cached}{failed}")


def _failure_where(failure: PgshiftError) -> str:
    """``path:line``, or the path alone when the failure is about the file, not a line of it
    (a name, a second file of the same name), as ``pgshift up`` says it."""
    path = display_path(failure.path)
    return f"{path}:{failure.line}" if failure.line else path


def text(report: LintReport) -> str:
    lines = []
    for v in report.violations:
        lines.append(f"{display_path(v.path)}:{v.line}:{v.column}: {v.severity} [{v.rule}] "
                     f"{v.message}")
        lines.append(f"    safe way: {v.hint}")
    for failure in report.failures:
        hint = f" (hint: {failure.hint})" if failure.hint else ""
        lines.append(f"{_failure_where(failure)}: cannot lint: {failure.message}{hint}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _violation_json(v: Violation) -> dict:
    data = v.to_dict()
    data["path"] = display_path(v.path)
    return data


def as_json(report: LintReport) -> str:
    data = {
        "violations": [_violation_json(v) for v in report.violations],
        "failures": [{"path": display_path(f.path), "line": f.line, "message": f.message,
                      "hint": f.hint} for f in report.failures],
        "files": report.files,
        "cached": report.cached,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
    }
    return json.dumps(data, indent=2) + "\n"


def sarif(report: LintReport) -> str:
    rules = all_rules()
    used = sorted({v.rule for v in report.violations})
    driver = {
        "name": "pgshift lint",
        "informationUri": "https://github.com/pgshift/pgshift",
        "rules": [{
            "id": rid,
            "shortDescription": {"text": rules[rid].summary()},
            "fullDescription": {"text": rules[rid].doc()},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rules[rid].severity]},
        } for rid in used if rid in rules],
    }
    results = [{
        "ruleId": v.rule,
        "level": _SARIF_LEVEL.get(v.severity, "warning"),
        "message": {"text": f"{v.message}. Safe way: {v.hint}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": Path(display_path(v.path)).as_posix()},
            "region": {"startLine": v.line, "startColumn": v.column},
        }}],
    } for v in report.violations]
    notifications = [{
        "level": "error",
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": Path(display_path(f.path)).as_posix()},
            "region": {"startLine": f.line or 1},
        }}],
    } for f in report.failures]
    run: dict = {"tool": {"driver": driver}, "results": results}
    if notifications:
        run["invocations"] = [{"executionSuccessful": False,
                               "toolExecutionNotifications": notifications}]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(document, indent=2) + "\n"


def _escape(value: str, *, property_value: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(report: LintReport) -> str:
    lines = []
    for v in report.violations:
        level = "error" if v.severity == "error" else "warning" if v.severity == "warning" \
            else "notice"
        props = (f"file={_escape(display_path(v.path), property_value=True)},line={v.line},"
                 f"col={v.column},title={_escape(v.rule, property_value=True)}")
        lines.append(f"::{level} {props}::{_escape(f'{v.message}. Safe way: {v.hint}')}")
    for failure in report.failures:
        line = f",line={failure.line}" if failure.line else ""  # else about the whole file
        lines.append(f"::error file={_escape(display_path(failure.path), property_value=True)}"
                     f"{line},title=cannot lint::{_escape(failure.message)}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[LintReport], str]] = {
    "text": text, "json": as_json, "sarif": sarif, "github": github,
}


def render(report: LintReport, fmt: str) -> str:
    return FORMATTERS[fmt](report)


def explain(rule_id: str) -> str:
    """A rule's documentation, or (``all``) the list of rules."""
    rules = all_rules()
    if rule_id == "all":
        width = max(len(r) for r in rules)
        tiers = {"A": "default", "B": "advisory", "meta": "default"}
        return "\n".join(f"{rid:<{width}}  {tiers[cls.tier]:<8}  {cls.summary()}"
                         for rid, cls in sorted(rules.items(), key=lambda i: (i[1].tier, i[0])))
    cls = rules[rule_id]
    tier = {"A": "tier A (on by default)", "B": "tier B (advisory, off by default)",
            "meta": "on by default"}[cls.tier]
    return f"{rule_id} ({cls.severity}, {tier})\n\n{cls.doc()}\n"


REFERENCE_MARKER = "<!-- rule reference: generated from the rules' docstrings -->"


def reference() -> str:
    """The rule reference of docs/lint.md (``python -m pgshift.lint.formats docs/lint.md``
    rewrites it there; with no argument it is printed)."""
    rules = all_rules()
    parts = [f"{REFERENCE_MARKER}\n\n"]
    for tier, title in (("A", "Tier A: safety rules (on by default)"), ("meta", "Meta"),
                        ("B", "Tier B: advisory rules (off by default)")):
        parts.append(f"### {title}\n\n")
        for rid, cls in sorted(rules.items()):
            if cls.tier == tier:
                parts.append(f"#### `{rid}`\n\n*{cls.severity}*\n\n{cls.doc()}\n\n")
    return "".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
        text = target.read_text("utf-8")
        target.write_text(text[: text.index(REFERENCE_MARKER)] + reference(), "utf-8")
    else:
        sys.stdout.write(reference())
