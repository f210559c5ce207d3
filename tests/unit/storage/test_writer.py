import sqlite3
import threading

import pytest

from go_doc_go.exceptions import StorageError
from go_doc_go.storage.sqlite import SQLiteStore
from go_doc_go.storage.writer import BackgroundWriter


def test_writes_run_in_order_on_the_writer_thread(tmp_path):
    path = tmp_path / "store.db"
    threads: list[str] = []

    def create(store: SQLiteStore) -> None:
        store.db.execute("CREATE TABLE log (n INTEGER)")

    writer = BackgroundWriter(lambda: SQLiteStore(path), max_pending=2)
    writer.submit(create)
    for i in range(100):
        writer.submit(lambda s, i=i: s.db.execute("INSERT INTO log VALUES (?)", (i,)))
    writer.submit(lambda s: threads.append(threading.current_thread().name))
    writer.close()
    with sqlite3.connect(path) as connection:
        assert [n for (n,) in connection.execute("SELECT n FROM log ORDER BY rowid")] == list(range(100))
    assert threads == ["store-writer"]


def test_first_error_is_raised_to_the_caller_and_later_writes_are_dropped(tmp_path):
    path = tmp_path / "store.db"
    writer = BackgroundWriter(lambda: SQLiteStore(path))
    writer.submit(lambda s: s.db.execute("PRAGMA query_only = ON"))
    writer.submit(lambda s: s.store_documents([]))  # refused: the store is read-only now
    writer.submit(lambda s: s.db.execute("PRAGMA query_only = OFF"))
    writer.submit(lambda s: s.db.execute("CREATE TABLE never (n INTEGER)"))
    with pytest.raises(StorageError, match="cannot write to the SQLite store"):
        writer.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'never'").fetchone()[0] == 0


def test_open_failure_is_raised_at_once(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open SQLite store"):
        BackgroundWriter(lambda: SQLiteStore(blocker / "store.db"))
