"""Service: the loop shape of every background job, with real threads."""

from __future__ import annotations

import threading
import time

from go_doc_go.queue.service import Service


class Counter(Service[int]):
    name = "counter"

    def __init__(self, every: float = 0.01, fail_first: int = 0) -> None:
        super().__init__()
        self.every = every
        self.fail_first = fail_first
        self.calls = 0
        self.ran = threading.Event()
        self.threads: set[threading.Thread] = set()

    def interval(self) -> float:
        return self.every

    def run_once(self) -> int:
        self.calls += 1
        self.threads.add(threading.current_thread())
        self.ran.set()
        if self.calls <= self.fail_first:
            raise RuntimeError(f"round {self.calls} failed (postgresql://u:pw@h/db)")
        return self.calls


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_start_runs_rounds_on_a_thread_of_its_own_and_stop_joins_it() -> None:
    service = Counter()
    service.start()
    assert service.running
    wait_for(lambda: service.calls >= 3)
    service.stop()
    assert not service.running
    assert threading.current_thread() not in service.threads and len(service.threads) == 1
    assert service.last_result == service.calls
    calls = service.calls
    time.sleep(0.05)
    assert service.calls == calls, "no round after stop()"


def test_a_failing_round_is_recorded_and_the_loop_goes_on(caplog) -> None:
    service = Counter(fail_first=2)
    service.start()
    wait_for(lambda: service.calls >= 3)
    service.stop()
    assert service.last_error is None and service.last_result is not None, "a later good round clears the error"
    assert "round 1 failed" in caplog.text and ":pw@" not in caplog.text
    assert "u:***@h" in caplog.text, "logged errors are scrubbed"


def test_last_error_holds_while_rounds_keep_failing() -> None:
    service = Counter(fail_first=10**9)
    service.start()
    wait_for(lambda: service.calls >= 2)
    service.stop()
    assert isinstance(service.last_error, RuntimeError)


def test_stop_does_not_wait_for_a_long_interval() -> None:
    service = Counter(every=3600)
    service.start()
    began = time.monotonic()
    service.stop()
    assert time.monotonic() - began < 1.0 and service.calls == 0


def test_start_twice_is_one_loop_and_a_stopped_service_can_start_again() -> None:
    service = Counter()
    service.start()
    service.start()
    wait_for(lambda: service.calls >= 2)
    assert len(service.threads) == 1
    service.stop()
    service.start()
    calls = service.calls
    wait_for(lambda: service.calls > calls)
    service.stop()
    assert len(service.threads) == 2


def test_start_stop_stress_leaves_no_thread_behind() -> None:
    before = threading.active_count()
    services = [Counter(every=0.001) for _ in range(20)]
    for _ in range(10):
        for service in services:
            service.start()
        for service in services:
            service.stop()
    assert threading.active_count() == before
    assert not any(service.running for service in services)
