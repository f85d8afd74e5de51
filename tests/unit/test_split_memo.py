"""The split memo: a text split once is split again without PostgreSQL's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgshift.errors import InputError
from pgshift.migrations import split_memo
from pgshift.migrations.statements import statements_of

TEXT = "-- why\nCREATE TABLE a (id int);\n\nCREATE INDEX i ON a (id) -- last\n"
FILE = Path("V1__a.sql")


def split(text: str = TEXT, **kwargs) -> list[tuple[str, int, int]]:
    return [(s.text, s.line, s.offset) for s in statements_of(text, FILE, **kwargs)]


@pytest.fixture
def no_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """pglast's splitter fails if called: what follows must come from the memo."""
    from pglast import parser

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the parser was called")

    monkeypatch.setattr(parser, "split", refuse)


def test_a_text_split_in_an_earlier_run_is_split_again_without_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with split_memo.remembering(tmp_path):
        first = split(first_line=3, transactional=True)
    from pglast import parser

    monkeypatch.setattr(parser, "split", lambda *_a, **_k: pytest.fail("parser called"))
    with split_memo.remembering(tmp_path):
        assert split(first_line=3, transactional=True) == first
        assert split(first_line=10) == [(t, line + 7, o) for t, line, o in first]
    assert first == [("CREATE TABLE a (id int)", 4, 7),
                     ("CREATE INDEX i ON a (id) -- last", 6, 33)]


def test_a_refused_text_is_refused_again_and_never_remembered_as_checked(
    tmp_path: Path
) -> None:
    text = "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY i ON a (id);"
    for _ in range(2):
        with split_memo.remembering(tmp_path), pytest.raises(InputError) as caught:
            split(text, transactional=True)
        assert caught.value.line == 2
    with split_memo.remembering(tmp_path):  # split, unchecked, it is fine where no tx is needed
        assert len(split(text)) == 2


def test_a_text_remembered_unchecked_is_checked_when_it_must_run_in_a_transaction(
    tmp_path: Path
) -> None:
    text = "CREATE INDEX CONCURRENTLY i ON a (id);"
    with split_memo.remembering(tmp_path):
        split(text)
    with split_memo.remembering(tmp_path), pytest.raises(InputError, match="CONCURRENTLY"):
        split(text, transactional=True)


@pytest.mark.parametrize("content", [b"", b"not marshal", b"\xe9\x01\x02"])
def test_an_unreadable_memo_is_ignored_and_rewritten(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "statements.marshal").write_bytes(content)
    with split_memo.remembering(tmp_path):
        assert len(split()) == 2
    assert split_memo.SplitMemo(tmp_path / "statements.marshal").get(split_memo.digest(TEXT))


def test_a_memo_written_by_other_code_is_ignored(tmp_path: Path, no_parser: None) -> None:
    import marshal

    bounds = (0, 3)  # what another splitter might have said
    entries = {split_memo.digest(TEXT): (bounds, True)}
    (tmp_path / "statements.marshal").write_bytes(marshal.dumps(
        {"format": 1, "stamp": "other code", "entries": entries}))
    with split_memo.remembering(tmp_path), pytest.raises(AssertionError, match="parser"):
        split()


def test_nothing_is_remembered_outside_remembering_or_without_a_cache_dir(
    tmp_path: Path
) -> None:
    split()
    with split_memo.remembering(None):
        split()
    assert list(tmp_path.iterdir()) == []
    assert split_memo.active() is None


def test_a_read_only_cache_dir_is_not_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache dir would be")
    with split_memo.remembering(blocked / "cache"):
        assert len(split()) == 2


def test_threads_each_remember_in_their_own_memo(tmp_path: Path) -> None:
    """Fleet runs migrate targets in threads at once: one thread's block must not end, or
    save, another's memo (it did: 'NoneType' object has no attribute 'save')."""
    import threading

    inside = threading.Barrier(2)
    seen: dict[str, object] = {}

    def run(name: str) -> None:
        with split_memo.remembering(tmp_path / name):
            inside.wait(timeout=10)  # both blocks are open at once
            seen[name] = split_memo.active()
            inside.wait(timeout=10)
        seen[name + " after"] = split_memo.active()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert seen["a"] is not None and seen["b"] is not None and seen["a"] is not seen["b"]
    assert seen["a after"] is None and seen["b after"] is None
