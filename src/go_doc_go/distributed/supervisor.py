"""``--num-workers N``: N worker processes under one supervisor.

Parsing is CPU-bound, so each worker is a process of its own (its documents
are parsed in that worker's own child pool, see ``go_doc_go.pool``). The
supervisor only starts, watches and stops them:

* a worker that dies (killed, crashed) is started again, with a growing pause
  if it keeps dying right after start, so a broken machine does not spin;
* a worker that exits 0 has seen its run completed and is not restarted; the
  supervisor exits 0 once every worker has;
* SIGTERM or SIGINT is passed on to every worker, which finishes or releases
  the documents in hand and deregisters; a second signal is passed on too, and
  the workers then exit at once after releasing their leases.

Workers are subprocesses: from the command line they run the worker command
(``--worker-id BASE-i``), so a supervised worker behaves exactly like one
started by hand; ``ingest_documents`` launches them with the config on stdin.
Either way the supervisor sees a ``Handle`` (``poll``, ``send_signal``, ``pid``).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

#: A worker that dies sooner than this after its start counts as crash-looping.
QUICK_DEATH = 5.0
MAX_PAUSE = 30.0


class Handle(Protocol):
    pid: int

    def poll(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...


Launch = Callable[[str], Handle]


def command_launch(argv_for: Callable[[str], list[str]]) -> Launch:
    """Launch each worker as ``subprocess.Popen(argv_for(worker_id))``."""
    return lambda worker_id: subprocess.Popen(argv_for(worker_id))


@dataclass
class _Slot:
    worker_id: str
    process: Handle | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float = 0.0
    finished: bool = False
    restarts: int = 0


@dataclass
class SupervisorResult:
    exit_code: int
    restarts: dict[str, int] = field(default_factory=dict)


class Supervisor:
    def __init__(self, worker_ids: Sequence[str], launch: Launch, *, poll: float = 0.2) -> None:
        self.slots = [_Slot(worker_id) for worker_id in worker_ids]
        self.launch = launch
        self.poll = poll
        self.signals = 0

    def run(self, install_signals: bool = True) -> SupervisorResult:
        if install_signals:
            previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in self.slots:
                self._start(slot)
            while not all(slot.finished for slot in self.slots):
                self._watch()
                time.sleep(self.poll)
        finally:
            if install_signals:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        failed = [slot for slot in self.slots if slot.process is not None and slot.process.poll() != 0]
        code = 0 if not failed else (130 if self.signals else 1)
        return SupervisorResult(code, {slot.worker_id: slot.restarts for slot in self.slots})

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signals += 1
        log.info("supervisor: signal %s (%d), passing it to the workers", signal.Signals(signum).name, self.signals)
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(signal.SIGTERM if self.signals == 1 else signal.SIGINT)

    def _start(self, slot: _Slot) -> None:
        slot.process = self.launch(slot.worker_id)
        slot.started = time.monotonic()
        log.info("supervisor: started %s (pid %d)", slot.worker_id, slot.process.pid)

    def _watch(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.finished:
                continue
            process = slot.process
            if process is None:
                if now >= slot.restart_at:
                    self._start(slot)
                continue
            code = process.poll()
            if code is None:
                continue
            if code == 0 or self.signals:
                slot.finished = True
                continue
            slot.restarts += 1
            slot.quick_deaths = slot.quick_deaths + 1 if now - slot.started < QUICK_DEATH else 0
            pause = min(MAX_PAUSE, 0.5 * 2 ** slot.quick_deaths) if slot.quick_deaths else 0.0
            log.warning("supervisor: %s exited with %s; restarting in %.1f s", slot.worker_id, _describe(code), pause)
            slot.process = None
            slot.restart_at = now + pause


def _describe(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def worker_ids(base_id: str, count: int) -> list[str]:
    """``BASE-1`` … ``BASE-N``."""
    return [f"{base_id}-{index}" for index in range(1, count + 1)]
