"""The application load: N client processes doing point selects, updates and inserts.

Open loop: each client has a schedule (``rate`` queries per second) and a query's latency is
measured from its *scheduled* time, so a stall counts for every query that should have run
during it (no coordinated omission). Processes, not threads, so the GIL adds no latency.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from dataclasses import dataclass
from typing import Any

import psycopg2

SELECT = "SELECT id, owner_id, email, balance FROM accounts WHERE id = %s"
UPDATE = "UPDATE accounts SET balance = balance + 1 WHERE id = %s"
INSERT = ("INSERT INTO accounts (owner_id, email, balance, region) "
          "VALUES (%s, %s, 0, 'eu')")


@dataclass(frozen=True)
class Sample:
    scheduled: float  # time.monotonic() (system-wide on Linux)
    latency: float    # seconds from the scheduled time to the answer
    ok: bool
    kind: str


def _client(url: str, seed: int, rate: float, start: float, stop: Any, max_id: int,
            out: mp.Queue) -> None:
    rng = random.Random(seed)
    conn = psycopg2.connect(url, application_name="zdt-app")
    conn.autocommit = True
    cur = conn.cursor()
    interval = 1.0 / rate
    due = start + rng.random() * interval
    samples: list[tuple[float, float, bool, str]] = []
    while due < stop.value:
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        pick = rng.random()
        try:
            if pick < 0.6:
                kind = "select"
                cur.execute(SELECT, (rng.randint(1, max_id),))
                cur.fetchall()
            elif pick < 0.8:
                kind = "update"
                cur.execute(UPDATE, (rng.randint(1, max_id),))
            else:
                kind = "insert"
                cur.execute(INSERT, (rng.randint(1, 10_000), f"new{rng.random()}@example.com"))
            ok = True
        except psycopg2.Error:
            ok = False
            if conn.closed:
                conn = psycopg2.connect(url, application_name="zdt-app")
                conn.autocommit = True
                cur = conn.cursor()
        samples.append((due, time.monotonic() - due, ok, kind))
        due += interval
    conn.close()
    out.put(samples)


class Load:
    """Start ``clients`` processes now; ``stop()`` ends them and returns every Sample."""

    def __init__(self, url: str, *, clients: int, rate: float, seconds: float,
                 max_id: int) -> None:
        ctx = mp.get_context("fork")
        self.queue: mp.Queue = ctx.Queue()
        self.start_at = time.monotonic() + 0.3
        self.stop = ctx.Value("d", self.start_at + seconds)
        self.procs = [ctx.Process(target=_client, args=(url, i, rate / clients, self.start_at,
                                                         self.stop, max_id, self.queue))
                      for i in range(clients)]
        for proc in self.procs:
            proc.start()

    def collect(self) -> list[Sample]:
        """Stop the clients now (they finish their current query) and gather their samples."""
        self.stop.value = time.monotonic()
        samples: list[Sample] = []
        for _ in self.procs:
            samples += [Sample(*row) for row in self.queue.get(timeout=600)]
        for proc in self.procs:
            proc.join(10)
        return samples


@dataclass(frozen=True)
class Stats:
    p50_ms: float
    p99_ms: float
    max_ms: float
    failed: int
    qps: float
    count: int


def summarize(samples: list[Sample], start: float, end: float) -> Stats:
    """Latency of the queries scheduled in [start, end]; throughput of those answered in it."""
    window = [s for s in samples if start <= s.scheduled <= end]
    if not window:
        return Stats(0, 0, 0, 0, 0, 0)
    latencies = sorted(s.latency * 1000 for s in window)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    completed = sum(1 for s in samples if start <= s.scheduled + s.latency <= end)
    return Stats(pick(0.5), pick(0.99), latencies[-1], sum(not s.ok for s in window),
                 completed / max(0.001, end - start), len(window))
