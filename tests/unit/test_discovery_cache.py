"""The discovery cache: a file unchanged since the last run is not read again; anything else is."""

from __future__ import annotations

import marshal
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pgshift.config import load
from pgshift.errors import InputError
from pgshift.migrations import cache as discovery_cache
from pgshift.migrations.cache import DiscoveryCache
from pgshift.migrations.discover import discover_migrations
from pgshift.migrations.model import Migration
from pgshift.migrations.parse import checksum

Discover = Callable[..., list[Migration]]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    (path / "V1__users.sql").write_text("-- pgshift:lock-timeout 2s\ncreate table users (id int);\n"
                                        "-- pgshift:down\ndrop table users;\n")
    (path / "V2__orders.sql").write_text("create table orders (id int);\n")
    (path / "U2__orders.sql").write_text("drop table orders;\n")
    (path / "R__views.sql").write_text("create or replace view v as select 1;\n")
    return path


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the cache opens."""
    opened: list[str] = []
    real = discovery_cache.read_text

    def read_text(path: Path) -> str:
        opened.append(path.name)
        return real(path)

    monkeypatch.setattr(discovery_cache, "read_text", read_text)
    return opened


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs start 10 s after the files were written: outside the racy window."""
    monkeypatch.setattr(discovery_cache, "time_ns", lambda: time.time_ns() + 10_000_000_000)


@pytest.fixture
def discover(folder: Path, tmp_path: Path) -> Discover:
    """``discover()`` runs discovery of ``folder`` with the cache in ``tmp_path/cache``."""

    def run(*, trust: bool = True, cache_dir: Path | None = None) -> list[Migration]:
        cache = DiscoveryCache.open(cache_dir or tmp_path / "cache", folder, trust=trust)
        return discover_migrations(folder, cache=cache)

    return run


def cache_file(tmp_path: Path) -> Path:
    (found,) = (tmp_path / "cache").glob("discover-*.marshal")
    return found


def edit_keeping_size_and_mtime(path: Path, text: str) -> None:
    before = path.stat()
    assert len(text.encode()) == before.st_size
    while True:
        path.write_text(text)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        if path.stat().st_ctime_ns != before.st_ctime_ns:  # the clock ticked since the write
            return
        time.sleep(0.01)


def test_a_file_unchanged_since_the_last_run_is_not_read_again(
        discover: Discover, reads: list[str], later: None) -> None:
    first = discover()
    assert sorted(reads) == ["R__views.sql", "U2__orders.sql", "V1__users.sql", "V2__orders.sql"]
    reads.clear()
    second = discover()
    assert reads == []
    assert second == first  # checksums, up and down parts, directives: all as read
    assert second[0].directives.lock_timeout == 2.0
    assert second[1].down_sql == "drop table orders;\n"


def test_a_file_changed_within_2_seconds_before_a_run_is_not_remembered(
        discover: Discover, folder: Path, reads: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    an_hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(folder / "V2__orders.sql", ns=(an_hour_ago, an_hour_ago))  # the ctime is now
    newest = max(p.stat().st_ctime_ns for p in folder.iterdir())
    monkeypatch.setattr(discovery_cache, "time_ns", lambda: newest + 1_900_000_000)
    discover()
    reads.clear()
    discover()
    assert len(reads) == 4
    monkeypatch.setattr(discovery_cache, "time_ns", lambda: newest + 2_100_000_000)
    discover()
    reads.clear()
    discover()
    assert reads == []


def test_a_file_edited_just_now_is_read_again_even_with_the_same_size_and_mtime(
        discover: Discover, folder: Path, reads: list[str]) -> None:
    # No clock shift: the edit may fall in the same timestamp tick as the run that read the
    # file, so that run could not tell it from the original. It must not remember it.
    path = folder / "V2__orders.sql"
    discover()
    before = path.stat()
    path.write_text("create table orderz (id int);\n")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    reads.clear()
    (changed,) = [m for m in discover() if m.name == "V2__orders.sql"]
    assert reads.count("V2__orders.sql") == 1
    assert changed.checksum == checksum("create table orderz (id int);\n")


@pytest.mark.parametrize("how", ["edited in place", "replaced by a new file"])
def test_a_changed_file_is_read_again_even_with_the_same_size_and_mtime(
        discover: Discover, folder: Path, reads: list[str], later: None, how: str) -> None:
    path = folder / "V2__orders.sql"
    discover()
    text = "create table orderz (id int);\n"
    if how == "edited in place":
        edit_keeping_size_and_mtime(path, text)  # the ctime still moves
    else:
        mtime = path.stat().st_mtime_ns
        (folder / "new.tmp").write_text(text)
        os.utime(folder / "new.tmp", ns=(mtime, mtime))
        os.replace(folder / "new.tmp", path)  # another inode
    reads.clear()
    (changed,) = [m for m in discover() if m.name == "V2__orders.sql"]
    assert reads == ["V2__orders.sql"]
    assert changed.checksum == checksum(text)
    assert changed.up_sql == text


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00not marshal at all",
        marshal.dumps(["a", "list"]),
        "foreign",  # a cache written for another directory or another pgshift
        "wrong entries",  # the right key, entries of another shape
    ],
)
def test_a_corrupt_or_foreign_cache_is_ignored_and_rewritten(
        discover: Discover, tmp_path: Path, reads: list[str], later: None,
        content: bytes | str) -> None:
    expected = discover()
    path = cache_file(tmp_path)
    if content == "foreign":
        data = marshal.loads(path.read_bytes())
        content = marshal.dumps({**data, "key": data["key"] + "-other"})
    elif content == "wrong entries":
        data = marshal.loads(path.read_bytes())
        entries = {name: (signature, ("too", "short")) if i % 2 else ("no signature",)
                   for i, (name, (signature, _)) in enumerate(data["entries"].items())}
        content = marshal.dumps({**data, "entries": entries})
    assert isinstance(content, bytes)
    path.write_bytes(content)
    reads.clear()
    assert discover() == expected
    assert len(reads) == 4
    reads.clear()
    assert discover() == expected
    assert reads == []  # rewritten


def test_a_cache_that_cannot_be_written_does_not_fail_discovery(
        discover: Discover, tmp_path: Path, later: None) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert [m.name for m in discover(cache_dir=blocker / "cache")] == [
        "V1__users.sql", "V2__orders.sql", "R__views.sql"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_cache_directory_does_not_fail_discovery(
        discover: Discover, tmp_path: Path, later: None) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o500)
    assert len(discover(cache_dir=read_only)) == 3
    assert list(read_only.iterdir()) == []


def test_an_untrusting_run_reads_every_file_and_refreshes_the_cache(
        discover: Discover, reads: list[str], later: None) -> None:
    first = discover()
    reads.clear()
    assert discover(trust=False) == first  # as validate does
    assert len(reads) == 4
    reads.clear()
    discover()
    assert reads == []


@pytest.mark.parametrize(
    ("text", "message"),
    [(b"select '\xff';", "not valid UTF-8"),
     (b"-- pgshift:no-transactions\n", "unknown directive")],
)
def test_a_bad_file_is_refused_on_every_run_never_cached(
        discover: Discover, folder: Path, reads: list[str], later: None, text: bytes,
        message: str) -> None:
    (folder / "V3__bad.sql").write_bytes(text)
    with pytest.raises(InputError, match=message) as first:
        discover()
    with pytest.raises(InputError, match=message) as second:
        discover()
    assert str(second.value) == str(first.value)
    assert reads.count("V3__bad.sql") == 2


def test_the_files_read_before_a_bad_one_are_remembered_for_the_run_after_the_fix(
        discover: Discover, folder: Path, reads: list[str], later: None) -> None:
    """Fixing a bad file takes a few runs; each reads only what changed (and lint, which
    reads the directory as up does, stays fast on a directory up refuses)."""
    discover()
    (folder / "V0__bad.sql").write_text("-- pgshift:lock-timeout soon\nselect 1;\n")
    (folder / "V3__new.sql").write_text("create table t (id int);\n-- pgshift:down\n")
    reads.clear()
    with pytest.raises(InputError, match="lock-timeout"):
        discover()
    assert "V1__users.sql" not in reads  # the entries it did not reach are kept
    (folder / "V0__bad.sql").write_text("-- pgshift:lock-timeout 2s\nselect 1;\n"
                                        "-- pgshift:down\n")
    reads.clear()
    assert [m.name for m in discover()][:2] == ["V0__bad.sql", "V1__users.sql"]
    assert "V1__users.sql" not in reads and "V0__bad.sql" in reads
    (folder / "V3__new.sql").unlink()
    discover()  # a complete run keeps only the files there are
    assert "V3__new.sql" not in marshal.loads(cache_file(folder.parent).read_bytes())[
        "entries"]


def test_placeholders_are_filled_after_the_cache_which_never_holds_their_values(
        folder: Path, tmp_path: Path, reads: list[str], later: None) -> None:
    (folder / "V3__app.sql").write_text("alter role app password '${app_password}';\n")

    def app_sql(password: str) -> str:
        cache = DiscoveryCache.open(tmp_path / "cache", folder)
        found = discover_migrations(folder, placeholders={"app_password": password}, cache=cache)
        return next(m.up_sql for m in found if m.name == "V3__app.sql")

    assert app_sql("s3cret") == "alter role app password 's3cret';\n"
    reads.clear()
    assert app_sql("0ther") == "alter role app password '0ther';\n"
    assert reads == []
    stored = cache_file(tmp_path).read_bytes()
    assert b"s3cret" not in stored and b"0ther" not in stored


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "pgshift.toml").write_text("discovery-cache = false\n")
    assert not load(cwd=tmp_path, env={}).discovery_cache
    assert not load(cwd=Path("/"), env={"PGSHIFT_DISCOVERY_CACHE": "false"}).discovery_cache
    assert load(cwd=Path("/"), env={}).discovery_cache


def test_the_caches_of_directories_unchanged_for_30_days_are_dropped_when_one_is_saved(
        discover: Discover, tmp_path: Path, later: None) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    gone, kept = cache_dir / "discover-00000001.marshal", cache_dir / "discover-00000002.marshal"
    for path, days in ((gone, 31), (kept, 29)):
        path.write_bytes(b"")
        then = time.time() - days * 86_400
        os.utime(path, (then, then))
    discover()
    assert not gone.exists() and kept.exists()
    assert len(list(cache_dir.glob("discover-*.marshal"))) == 2  # kept, and this run's
