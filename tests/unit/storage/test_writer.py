import threading

import pytest

from go_doc_go.storage.writer import BackgroundWriter


class FakeStore:
    """A plain in-memory sink: the writer's contract is about threads, not SQL."""

    def __init__(self) -> None:
        self.items: list[int] = []
        self.closed = False
        self.thread: str | None = None

    def close(self) -> None:
        self.closed = True


def test_writes_run_in_order_on_the_writer_thread():
    store = FakeStore()
    writer = BackgroundWriter(lambda: store, max_pending=2)
    for i in range(100):
        writer.submit(lambda s, i=i: s.items.append(i))
    writer.submit(lambda s: setattr(s, "thread", threading.current_thread().name))
    writer.close()
    assert store.items == list(range(100))
    assert store.thread == "store-writer"
    assert store.closed


def test_first_error_is_raised_to_the_caller_and_later_writes_are_dropped():
    store = FakeStore()
    writer = BackgroundWriter(lambda: store)

    def boom(_):
        raise RuntimeError("disk full")

    writer.submit(boom)
    writer.submit(lambda s: s.items.append(1))
    with pytest.raises(RuntimeError, match="disk full"):
        writer.close()
    assert store.items == []
    assert store.closed


def test_open_failure_is_raised_at_once():
    def fail():
        raise OSError("cannot open")

    with pytest.raises(OSError, match="cannot open"):
        BackgroundWriter(fail)
