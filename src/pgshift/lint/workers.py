"""Lint work split into tasks run on every CPU (forked worker processes).

A task is a slice of a unit (a directory's files in order): it replays the files before the
slice statically to rebuild their schema, then lints the slice's uncached files and replays the
cached ones. Big units are cut into slices whose cost (lint ≈ 1, replay ≈ REPLAY_COST) is
balanced, so both cores finish together. Replay starts from the unit's latest cached schema
checkpoint (taken every CHECKPOINT_EVERY files) rather than from its first file.
"""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pgshift.errors import PgshiftError
from pgshift.lint.cache import Row
from pgshift.lint.engine import Engine
from pgshift.lint.options import LintOptions
from pgshift.lint.schema import Schema

REPLAY_COST = 0.5
MIN_TASK = 150  # files worth a task of their own
CHECKPOINT_EVERY = 500


@dataclass
class FileWork:
    path: str
    text: str | None  # None: not read yet (the cache knew its checksum) or unreadable
    lint: bool
    todo: bool  # lint it (not cached)
    readable: bool = True
    _path: Path | None = None

    @property
    def pathobj(self) -> Path:
        if self._path is None:
            self._path = Path(self.path)
        return self._path

    def load(self) -> str | None:
        if self.text is None and self.readable:
            from pgshift.migrations.parse import normalize

            try:
                with open(self.path, "rb") as handle:
                    self.text = normalize(handle.read(), self.pathobj)
            except (OSError, PgshiftError):
                self.readable = False
        return self.text


@dataclass
class UnitWork:
    """A unit's files, and the schema checkpoint (after file ``resume``) replay starts from."""

    files: list[FileWork]
    resume: int = -1
    checkpoint: bytes | None = None


@dataclass(frozen=True)
class Task:
    unit: int
    start: int
    end: int

    def cost(self, work: UnitWork) -> float:
        todo = sum(1 for f in work.files[self.start:self.end] if f.todo)
        return REPLAY_COST * (self.end - work.resume - 1) + (1 - REPLAY_COST) * todo


Failure = tuple[str, str | None, int | None]  # message, hint, line
Outcome = list[tuple[int, list[Row] | Failure]]
Checkpoints = dict[int, bytes]  # file index -> pickled Schema after it

_STATE: tuple[LintOptions, Schema | None, list[UnitWork]] | None = None
_ENGINE: Engine | None = None


def checkpoint_at(index: int, count: int) -> bool:
    """Whether the schema after file ``index`` of ``count`` is worth keeping: every
    CHECKPOINT_EVERY files, and before and after the last file (the one usually edited)."""
    return index >= count - 2 or (index + 1) % CHECKPOINT_EVERY == 0


def plan(units: list[UnitWork], jobs: int) -> list[Task]:
    """Tasks covering every file to lint, big units cut into ``jobs`` balanced slices."""
    tasks = []
    for index, work in enumerate(units):
        todo = [i for i, f in enumerate(work.files) if f.todo]
        if not todo:
            continue
        end = todo[-1] + 1
        if jobs < 2 or len(todo) < 2 * MIN_TASK:
            tasks.append(Task(index, work.resume + 1, end))
        else:
            tasks.extend(_split(index, work, end, jobs))
    return tasks


def _split(unit: int, work: UnitWork, end: int, parts: int) -> list[Task]:
    first = work.resume + 1
    low, high = 0.0, float(end - first) * (1 + REPLAY_COST)
    best = [Task(unit, first, end)]
    for _ in range(12):
        limit = (low + high) / 2
        slices = _greedy(unit, work.files, first, end, limit, parts)
        if slices is None:
            low = limit
        else:
            high, best = limit, slices
    return best


def _greedy(unit: int, files: Sequence[FileWork], first: int, stop: int, limit: float,
            parts: int) -> list[Task] | None:
    tasks, start = [], first
    while start < stop:
        if len(tasks) == parts:
            return None
        cost = REPLAY_COST * (start - first)
        end = start
        while end < stop:
            step = 1.0 if files[end].todo else REPLAY_COST
            if cost + step > limit and end > start:
                break
            cost += step
            end += 1
        tasks.append(Task(unit, start, end))
        start = end
    return tasks


def run(task: Task) -> tuple[Task, Outcome, Checkpoints]:
    """Run one task with the state shared at fork time (or set in-process)."""
    global _ENGINE
    assert _STATE is not None
    options, base, units = _STATE
    if _ENGINE is None or _ENGINE.options != options:
        _ENGINE = Engine(options)
    engine = _ENGINE
    unit = units[task.unit]
    schema = _start(base, unit.checkpoint)
    outcome: Outcome = []
    checkpoints: Checkpoints = {}
    count = len(unit.files)
    for index in range(unit.resume + 1, task.end):
        work = unit.files[index]
        text = work.load()
        if text is not None and options.placeholders:
            from pgshift.placeholders import substitute

            text = substitute(text, dict(options.placeholders))
        linting = index >= task.start and work.todo
        try:
            if text is None:
                pass
            elif linting:
                found = engine.lint(text, work.pathobj, schema)
                outcome.append((index, [(v.rule, v.severity, v.message, v.hint, v.line, v.column)
                                        for v in found]))
            else:
                engine.replay(text, work.pathobj, schema)
        except PgshiftError as exc:
            if linting:
                outcome.append((index, (exc.message, exc.hint, exc.line)))
        if index >= task.start and checkpoint_at(index, count):
            checkpoints[index] = pickle.dumps(schema, pickle.HIGHEST_PROTOCOL)
    return task, outcome, checkpoints


def _start(base: Schema | None, checkpoint: bytes | None) -> Schema:
    if checkpoint is not None:
        return pickle.loads(checkpoint)
    if base is None:
        return Schema()
    return pickle.loads(pickle.dumps(base, pickle.HIGHEST_PROTOCOL))


def execute(options: LintOptions, base: Schema | None, units: list[UnitWork],
            tasks: list[Task]) -> list[tuple[Task, Outcome, Checkpoints]]:
    """Run the tasks: in worker processes when there is enough work and more than one CPU."""
    global _STATE
    _STATE = (options, base, units)
    jobs = options.jobs or cpu_count()
    work = sum(t.cost(units[t.unit]) for t in tasks)
    if jobs < 2 or len(tasks) < 2 or work < 2 * MIN_TASK or not _can_fork():
        return [run(task) for task in tasks]
    import multiprocessing

    import pglast.parser  # noqa: F401  loaded once, before the fork

    ordered = sorted(tasks, key=lambda t: -t.cost(units[t.unit]))
    # Objects alive now are frozen out of the garbage collector: its passes would otherwise
    # write to every page the workers share with this process (copy-on-write).
    gc.freeze()
    pool = multiprocessing.get_context("fork").Pool(min(jobs, len(tasks)), _quiet_signals)
    try:
        results = list(pool.imap_unordered(run, ordered))
        # Workers leave on the queue's end-of-work marks: Pool's terminate() (what its ``with``
        # block does) signals them while one may hold the queue's lock, and the wait for that
        # lock could then last forever.
        pool.close()
        pool.join()
        return results
    except BaseException:
        pool.terminate()
        raise
    finally:
        gc.unfreeze()


def _quiet_signals() -> None:
    """A worker leaves Ctrl-C to the main process (which stops the pool) and dies at once of
    SIGTERM: the handlers pgshift's CLI installs, inherited through fork, would raise
    KeyboardInterrupt wherever the worker is, a lock of the pool's queue held included."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
