"""Lint work split into tasks run on every CPU (forked worker processes).

A task is a slice of a unit (a directory's files in order): it replays the files before the
slice statically to rebuild their schema, then lints the slice's uncached files and replays the
cached ones. Big units are cut into slices whose cost (lint ≈ 1, replay ≈ REPLAY_COST) is
balanced, so both cores finish together.
"""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class Task:
    unit: int
    start: int
    end: int

    def cost(self, files: Sequence[FileWork]) -> float:
        todo = sum(1 for f in files[self.start:self.end] if f.todo)
        return REPLAY_COST * self.end + (1 - REPLAY_COST) * todo


Failure = tuple[str, str | None, int | None]  # message, hint, line
Outcome = list[tuple[int, list[Row] | Failure]]

_STATE: tuple[LintOptions, Schema | None, list[list[FileWork]]] | None = None
_ENGINE: Engine | None = None


def plan(units: list[list[FileWork]], jobs: int) -> list[Task]:
    """Tasks covering every file to lint, big units cut into ``jobs`` balanced slices."""
    tasks = []
    for index, files in enumerate(units):
        todo = [i for i, f in enumerate(files) if f.todo]
        if not todo:
            continue
        end = todo[-1] + 1
        if jobs < 2 or len(todo) < 2 * MIN_TASK:
            tasks.append(Task(index, 0, end))
        else:
            tasks.extend(_split(index, files[:end], jobs))
    return tasks


def _split(unit: int, files: Sequence[FileWork], parts: int) -> list[Task]:
    low, high = 0.0, float(len(files)) * (1 + REPLAY_COST)
    best = [Task(unit, 0, len(files))]
    for _ in range(30):
        limit = (low + high) / 2
        slices = _greedy(unit, files, limit, parts)
        if slices is None:
            low = limit
        else:
            high, best = limit, slices
    return best


def _greedy(unit: int, files: Sequence[FileWork], limit: float, parts: int) -> list[Task] | None:
    tasks, start = [], 0
    while start < len(files):
        if len(tasks) == parts:
            return None
        cost = REPLAY_COST * start
        end = start
        while end < len(files):
            step = 1.0 if files[end].todo else REPLAY_COST
            if cost + step > limit and end > start:
                break
            cost += step
            end += 1
        tasks.append(Task(unit, start, end))
        start = end
    return tasks


def run(task: Task) -> tuple[Task, Outcome]:
    """Run one task with the state shared at fork time (or set in-process)."""
    global _ENGINE
    assert _STATE is not None
    options, base, units = _STATE
    if _ENGINE is None or _ENGINE.options != options:
        _ENGINE = Engine(options)
    engine = _ENGINE
    files = units[task.unit]
    schema = _copy(base)
    outcome: Outcome = []
    for index, work in enumerate(files[: task.end]):
        text = work.load()
        if text is None:
            continue
        path = work.pathobj
        try:
            if index >= task.start and work.todo:
                found = engine.lint(text, path, schema)
                outcome.append((index, [(v.rule, v.severity, v.message, v.hint, v.line, v.column)
                                        for v in found]))
            else:
                engine.replay(text, path, schema)
        except PgshiftError as exc:
            if index >= task.start and work.todo:
                outcome.append((index, (exc.message, exc.hint, exc.line)))
    return task, outcome


def _copy(base: Schema | None) -> Schema:
    if base is None:
        return Schema()
    import copy

    return copy.deepcopy(base)


def execute(options: LintOptions, base: Schema | None, units: list[list[FileWork]],
            tasks: list[Task]) -> list[tuple[Task, Outcome]]:
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
    with multiprocessing.get_context("fork").Pool(min(jobs, len(tasks))) as pool:
        return list(pool.imap_unordered(run, ordered))


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
