"""Migrations stopped part-way whose file was edited above where they stopped.

A no-transaction migration runs statement by statement; an interrupted run leaves its row
``running`` (or ``reverting``) with the count and a hash of the statements done. The next run
goes on after them, so an edit among them would be skipped: that is drift, which ``up``
refuses (``no_transaction.refuse_other_statements_done``) and ``status``, ``validate`` and
``doctor`` show (here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pgshift.errors import PgshiftError
from pgshift.plan import Plan, PlanItem, _direction_of
from pgshift.state.history import done_digest

if TYPE_CHECKING:
    from pathlib import Path

    from pgshift.migrations.statements import Statement


def edits_above_stops(plan: Plan, recorded_sha: Callable[[str], str | None]) -> Plan:
    """``plan`` with each migration stopped part-way (``Plan.part_way``) whose file was edited
    above where it stopped as ``changed-above-stop``: drift, as ``up`` (or ``down``) refuses
    to go on past the edit (``no_transaction.refuse_other_statements_done``). ``recorded_sha``:
    the ``done_sha`` of a history key, the hash of the statements that ran.

    Costs nothing without such a row: only their files are split into statements (pglast),
    and only their hashes are read.
    """
    part_way = plan.part_way()
    if not part_way:
        return plan
    from pgshift.runner import body_statements  # the split the resumed run counts by

    marked: dict[int, PlanItem] = {}
    for item in part_way:
        assert item.entry is not None and item.migration is not None
        recorded = recorded_sha(item.entry.key)
        if recorded is None:  # none recorded (a DBA's script, an older pgshift): as up does
            continue
        try:
            statements = body_statements(item.migration, _direction_of(item.entry))
        except PgshiftError:  # a file that no longer parses: up says what is wrong with it
            continue
        done = statements[:item.entry.statements_done]
        if done and done_digest([s.text for s in done]).hexdigest() != recorded:
            marked[id(item)] = _changed_above_stop(item, done)
    if not marked:
        return plan
    return Plan(tuple(marked.get(id(i), i) for i in plan.items))


def _changed_above_stop(item: PlanItem, done: Sequence[Statement]) -> PlanItem:
    assert item.entry is not None and item.migration is not None
    direction = _direction_of(item.entry)
    line = done[-1].line
    where = f"line {line}"
    if done[-1].path != item.migration.path:  # a down part in a file of its own
        where = f"{where} of {done[-1].path.name}"
    if direction == "up":
        hint = ("restore those statements as they ran, and 'pgshift up' goes on where it "
                "stopped (make the change in a new migration); or undo what they made by hand "
                "and clear the row with 'pgshift repair': 'pgshift up' then runs the file from "
                "its first statement")
    else:
        hint = ("restore those statements of its down part as they ran, and 'pgshift down' "
                "goes on where it stopped ('pgshift repair' leaves a down stopped part-way as "
                "it is)")
    return replace(item, state="changed-above-stop", line=line, hint=hint, detail=(
        f"interrupted during {direction} after {item.entry.statements_done} statement(s); the "
        f"file changed since in those, the last at {where}"))


def above_stop_message(item: PlanItem) -> tuple[str, Path | None]:
    """What ``up`` (or ``down``) says of a ``changed-above-stop`` migration, and the file its
    line is in (a down part's own file, when it has one)."""
    assert item.entry is not None and item.migration is not None
    direction = _direction_of(item.entry)
    path = item.migration.path
    if direction == "down" and item.migration.down_path is not None:
        path = item.migration.down_path
    return (f"changed above where its interrupted {direction} stopped: its first "
            f"{item.entry.statements_done} statement(s) ran as they were then, and going on "
            "would skip what differs"), path
