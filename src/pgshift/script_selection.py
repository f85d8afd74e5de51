"""The ``script`` verb: which migrations a DBA's psql script holds (what ``up`` or ``down``
would run, selected and checked as they would), planned on the target or, ``embedded``,
without it on a throwaway server. ``pgshift.script`` writes the script.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pgshift.api import _session, down, up
from pgshift.errors import InputError
from pgshift.locked_run import directory_callbacks
from pgshift.plan import parse_target

if TYPE_CHECKING:
    from pgshift.config import Settings
    from pgshift.runner import Direction
    from pgshift.script import Script


def script(
    settings: Settings,
    direction: Direction = "up",
    *,
    to: str | None = None,
    steps: int | None = None,
    everything: bool = False,
    out_of_order: bool = False,
    phase: str | None = None,
    allow_contract: bool = False,
    embedded: bool = False,
    after: str | None = None,
) -> Script:
    """The run ``up`` (or ``down``) would make, as a psql script for a DBA (``pgshift.script``).

    Changes nothing. Selects and checks what the run would (drift, lint gate, columns in use),
    with the same options; ``Script.migrations`` is empty when there is nothing to do.

    ``embedded`` plans an ``up`` script without the target, on a throwaway server: the
    migrations up to ``after`` are applied there first, and the script holds every one after
    it. Its guards skip, on the target, what is applied there already.
    """
    if embedded:
        return _script_without_target(settings, to=to, after=after, phase=phase,
                                      allow_contract=allow_contract)
    if after is not None:
        raise InputError("--after goes with --embedded: with a database, the script holds "
                         "what it has pending")
    if direction == "up":
        planned = up(settings, to=to, dry_run=True, out_of_order=out_of_order, phase=phase,
                     allow_contract=allow_contract)
    else:
        planned = down(settings, steps=steps, to=to, everything=everything, dry_run=True)
    from pgshift.script import Script, write_script

    if not planned.selected:
        return Script("", direction)
    from pgshift import __version__
    from pgshift.db import describe

    with _session(settings) as conn:
        return write_script(conn, settings, planned.selected, direction,
                            callbacks=directory_callbacks(settings),
                            target=describe(settings.url or ""),
                            written_by=f"pgshift {__version__}")


def _script_without_target(settings: Settings, *, to: str | None, after: str | None,
                           phase: str | None, allow_contract: bool) -> Script:
    from pgshift import __version__
    from pgshift.script import Script, write_script
    from pgshift.verify.scratch import ScratchDatabase

    with ScratchDatabase(settings, embedded=True, prefer_major=settings.pg_version) as scratch:
        there = replace(settings, url=scratch.url)
        if after is not None:  # what the target has already, so that the checks see it
            up(replace(there, lint=False), to=after, allow_contract=True)
        planned = up(there, to=to, dry_run=True, phase=phase, allow_contract=allow_contract)
        if not planned.selected:
            return Script("", "up")
        selected = planned.selected
        if any(m.kind == "baseline" for m in selected):
            # Planned as for a new database: a baseline. The script also holds the files it
            # stands for, which a database that ran the versioned migrations needs; each
            # database takes one path, by the guards (see pgshift.script).
            held = [i.migration for i in planned.plan.items
                    if i.state == "below-baseline" and i.migration is not None]
            selected = [*(m for m in selected if m.kind == "baseline"), *held,
                        *(m for m in selected if m.kind != "baseline")]
        version = parse_target(after)
        required = next((i.migration for i in planned.plan.items if i.migration is not None
                         and i.migration.version == version and i.state == "applied"), None)
        where = f"any database at {after} or later" if after else "any database"
        with _session(there) as conn:
            return write_script(conn, there, selected, "up",
                                callbacks=directory_callbacks(settings),
                                target=f"{where} (planned without it, on a throwaway server)",
                                written_by=f"pgshift {__version__}", after=required)

