"""A pool of child processes that run ``process_document``, with per-document limits.

Parsing is CPU-bound and runs C code (libxml2, pulldown-cmark) that no signal
can interrupt, so the limits hold at a process boundary, as in Tika Pipes:

* **time**: the parent gives each document ``parsers.timeout`` seconds from the
  moment the child started it (the child reports every document as it
  finishes, so the parent always knows which one is running). Past that, the
  child is killed, that document fails with ``ParseTimeoutError`` and the rest
  of its batch goes to a fresh child;
* **memory**: each child runs under ``RLIMIT_AS`` = ``parsers.max_memory_mb``;
  a document that needs more fails with a ``MemoryError``, or, if native code
  dies of it, with ``ParserCrashedError``;
* **crashes**: a child that dies (a segfault, the OOM killer) costs the
  document it was on (``ParserCrashedError``), never the caller;
* **leaks**: a child is replaced after ``parsers.recycle_after`` documents, so a
  slow leak in a native library never grows without bound.

Children are fresh interpreters (``CHILD_COMMAND``) that speak a
pickle protocol over their stdin and stdout: they never inherit the caller's
threads or open connections, and never import the caller's ``__main__`` (a
script calling ``ingest_documents`` at top level, or one read from stdin, is
not run again in each child). Whatever a parser prints goes to stderr, never
into the protocol. Both drivers use this pool: single mode with one child per
core, a distributed worker with its own children.

**Embeddings** (``embedding.enabled``) are computed here too, after encoding
(``go_doc_go.embed``): a child parses the documents of a dispatch one by one,
sending a small ``PARSED`` marker after each (the parent restarts that
document's clock on it, so the time limit stays per document), then embeds
the units of all of them in one provider call (``EMBEDDING`` marker first)
and sends the results, vectors inside their rows. If a child hangs or dies
while a dispatch holds several documents, nobody is blamed yet: the
undelivered documents go to a fresh child *solo* (each parsed, embedded and
sent before the next), so the next loss is the document's own. The one-time
model build (the static model's distillation) happens in ``DocumentPool()``,
before any child starts, with a log line.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

from go_doc_go.config import Config
from go_doc_go.embed import Embedder, PendingEmbedding, prepare_embeddings
from go_doc_go.exceptions import ParseError, ParserCrashedError, ParseTimeoutError
from go_doc_go.model import DocumentResult
from go_doc_go.pipeline import Failed, Unchanged, failure, process_document
from go_doc_go.sources import ContentSource, DocumentRef, open_source
from go_doc_go.storage import open_store
from go_doc_go.storage.rows import DocumentRows, encode_document


@dataclass(frozen=True, slots=True)
class Task:
    ref: DocumentRef
    #: The stored content hash: the same bytes give ``Unchanged`` right after the fetch.
    known_hash: str | None = None


@dataclass(slots=True)
class Processed:
    """A document as it comes back from a child: rows ready to insert."""

    ref: DocumentRef
    size: int
    #: Paths inside the source its links lead to (resolved once, in the pipeline).
    targets: list[str]
    rows: DocumentRows


Result = Processed | Unchanged | Failed

#: Child -> parent markers (plain strings, never a result): a document of the dispatch is parsed;
#: the dispatch's units are being embedded.
PARSED = "parsed"
EMBEDDING = "embedding"


def process_task(
    task: Task, config: Config, sources: dict[str, ContentSource], embedder: Embedder | None = None
) -> Result | tuple[Processed, PendingEmbedding]:
    """``process_document`` plus row encoding: what a child does for one task.

    With an ``embedder`` a processed document comes back with its units, still to be
    embedded (``Embedder.embed_group``); the task's ``known_hash`` says it is stored.
    """
    outcome = process_document(sources[task.ref.source], task.ref, config, known_hash=task.known_hash)
    if not isinstance(outcome, DocumentResult):
        return outcome
    try:
        rows = encode_document(outcome)
    except Exception as error:  # noqa: BLE001 - a value the encoder cannot take costs this document only
        return failure(task.ref, "relate", error)
    targets = [link.target_path for link in outcome.links if link.target_path is not None]
    processed = Processed(task.ref, outcome.document.size, targets, rows)
    if embedder is None:
        return processed
    try:
        return processed, embedder.prepare(outcome, rows, stored=task.known_hash is not None)
    except Exception as error:  # noqa: BLE001 - e.g. a store that cannot be read: this document only
        return failure(task.ref, "embed", error)


def embed_tasks(tasks: Sequence[Task], config: Config, sources: dict[str, ContentSource], embedder: Embedder,
                send: Any, *, solo: bool) -> None:  # fmt: skip
    """Process ``tasks`` with embeddings, sending markers and results to the parent (see the module docstring)."""
    results: list[Result | None] = [None] * len(tasks)
    group: list[tuple[int, Processed, PendingEmbedding]] = []
    sent = 0
    for index, task in enumerate(tasks):
        outcome = process_task(task, config, sources, embedder)
        if isinstance(outcome, tuple):
            group.append((index, *outcome))
        else:
            results[index] = outcome
        if solo:
            _embed(group, results, embedder)
            group = []
            sent = _send_ready(results, sent, send)
        else:
            send(PARSED)
    if group:
        send(EMBEDDING)
        _embed(group, results, embedder)
    _send_ready(results, sent, send)


def _embed(group: list[tuple[int, Processed, PendingEmbedding]], results: list[Result | None],
           embedder: Embedder) -> None:  # fmt: skip
    if not group:
        return
    try:
        embedder.embed_group([pending for _, _, pending in group])
    except Exception as error:  # noqa: BLE001 - the provider failed (a server down...): these documents fail
        for index, processed, _ in group:
            results[index] = failure(processed.ref, "embed", error)
        return
    for index, processed, _ in group:
        results[index] = processed


def _send_ready(results: list[Result | None], sent: int, send: Any) -> int:
    """Send the finished results that follow the ones already sent, in order; returns how many are sent."""
    while sent < len(results) and results[sent] is not None:
        send(results[sent])
        sent += 1
    return sent


# ---------------------------------------------------------------- child side


def _child_main() -> None:
    """A parser process: the config arrives first, then batches of tasks; a result goes back per task."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    reader = Connection(os.dup(0), writable=False)
    writer = Connection(os.dup(1), readable=False)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # a parser that prints writes to stderr, not into the protocol
    try:
        config = Config.model_validate(reader.recv())
    except EOFError:
        return
    limit = config.parsers.max_memory_mb
    if limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit * 1024 * 1024, limit * 1024 * 1024))
    # Parsed trees hold no reference cycles, so frequent young-generation
    # collections only cost time (about 15% of parsing).
    gc.set_threshold(50_000, 50, 100)
    sources = {s.name: open_source(s) for s in config.content_sources}
    embedder = _child_embedder(config)
    send = partial(_send, writer, limit)
    try:
        while True:
            try:
                message = reader.recv()
            except EOFError:
                return
            if message is None:
                return
            tasks, solo = message
            if embedder is None:
                for task in tasks:
                    send(process_task(task, config, sources))
            else:
                embed_tasks(tasks, config, sources, embedder, send, solo=solo)
    finally:
        if embedder is not None:
            embedder.close()


def _send(writer: Connection, limit_mb: int, message: Any) -> None:
    """Send one message; a document whose rows cannot be pickled within the memory limit fails alone.

    ``send`` pickles the whole message before writing a byte, so a ``MemoryError``
    leaves nothing half-written in the pipe: the document's failure follows instead.
    """
    try:
        writer.send(message)
    except MemoryError:
        if not isinstance(message, Processed):
            raise
        error = ParseError(f"document's rows need more memory than parsers.max_memory_mb ({limit_mb}) allows")
        writer.send(failure(message.ref, "parse", error))


def _child_embedder(config: Config) -> Embedder | None:
    """The child's embedder: one thread (one child per core), stored vectors read through a read-only store."""
    if not config.embedding.enabled:
        return None
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one child per core: no thread pool of its own
    return Embedder(config, threads=1, open_reader=partial(open_store, config, read_only=True))


# ---------------------------------------------------------------- parent side


@dataclass
class _Job:
    tasks: Sequence[Task]
    future: Future[list[Result]]
    results: list[Result] = field(default_factory=list)
    #: Each document parsed, embedded and sent before the next (after a loss with several in flight).
    solo: bool = False
    #: The child has said it is embedding this dispatch's units.
    embedding: bool = False


#: Jobs sent to a child ahead of time: it starts the next one the moment it finishes the
#: current one, instead of waiting for the parent to hand it over.
CHILD_QUEUE = 2


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    conn: Connection  # results from the child
    to_child: Connection
    #: Jobs sent to this child, the one it is on first.
    jobs: deque[_Job] = field(default_factory=deque)
    started: float = 0.0  # when the document now running started
    documents: int = 0

    @property
    def job(self) -> _Job | None:
        return self.jobs[0] if self.jobs else None


#: What a child runs: this module's ``_child_main`` (imported, so what it pickles names this module).
CHILD_COMMAND = "from go_doc_go.pool import _child_main; _child_main()"


def _child_environment() -> dict[str, str]:
    """The caller's environment, with this package importable even if only the caller's sys.path has it."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


class DocumentPool:
    """``submit(tasks)`` returns a future of their results, in order; limits as in the module docstring."""

    def __init__(self, config: Config, size: int) -> None:
        self.config = config
        self.size = max(1, size)
        self._embeddings = config.embedding.enabled
        prepare_embeddings(config)  # before any child: the extra is there, the static model built once
        self._config_data = config.model_dump()
        self._environment = _child_environment()
        self._timeout = config.parsers.timeout
        self._recycle_after = config.parsers.recycle_after
        self._pending: deque[_Job] = deque()
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = Pipe(duplex=False)
        self._closing = False
        self._cancel = False
        self._error: BaseException | None = None
        self.killed = 0  # children killed for a timeout or found dead (for tests and logs)
        self._thread = threading.Thread(target=self._manage, name="go-doc-go-pool", daemon=True)
        self._thread.start()

    def submit(self, tasks: Sequence[Task]) -> Future[list[Result]]:
        future: Future[list[Result]] = Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("the document pool is closed")
            if self._error is not None:
                raise self._error
            self._pending.append(_Job(list(tasks), future))
        self._wake_w.send_bytes(b"j")
        return future

    def close(self, *, cancel: bool = False) -> None:
        """Finish the submitted work, then stop every child; ``cancel`` kills them at once instead."""
        with self._lock:
            self._closing = True
            if cancel:
                self._cancel = True
        self._wake_w.send_bytes(b"c")
        self._thread.join()
        self._wake_r.close()
        self._wake_w.close()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> DocumentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the managing thread

    def _manage(self) -> None:
        try:
            while self._round():
                pass
        except BaseException as error:  # noqa: BLE001 - reported to every waiting caller
            self._error = error
            self._fail_everything(error)
        finally:
            for child in self._children:
                self._kill(child) if self._cancel else self._stop(child)

    def _round(self) -> bool:
        """Dispatch, wait for results or a deadline, handle them; False once closed and idle."""
        with self._lock:
            if self._cancel:
                self._fail_everything_locked(RuntimeError("the document pool was stopped"))
                return False
        self._dispatch()
        busy = [c for c in self._children if c.job is not None]
        with self._lock:
            if self._closing and not busy and not self._pending:
                return False
        now = time.monotonic()
        timeout = min((c.started + self._timeout - now for c in busy), default=None)
        ready = wait([self._wake_r, *(c.conn for c in busy)], None if timeout is None else max(timeout, 0))
        for item in ready:
            if item is self._wake_r:
                self._wake_r.recv_bytes()
                continue
            child = next(c for c in busy if c.conn is item)
            self._receive(child)
        now = time.monotonic()
        for child in busy:
            if child.job is not None and now - child.started > self._timeout:
                self._lose(child, ParseTimeoutError(
                    f"parsing took longer than parsers.timeout ({self._timeout:g} s); the parser was stopped"
                ))
        return True

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                child = min(self._children, key=lambda c: len(c.jobs), default=None)
                if (child is None or child.jobs) and len(self._children) < self.size:
                    child = None  # an idle slot: start a child rather than queue behind a busy one
                elif child is None or len(child.jobs) >= CHILD_QUEUE:
                    return
                job = self._pending.popleft()
            child = child or self._spawn()
            if not child.jobs:
                child.started = time.monotonic()
            child.jobs.append(job)
            job.embedding = False
            child.to_child.send((job.tasks[len(job.results):], job.solo))

    def _spawn(self) -> _Child:
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD_COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=self._environment, close_fds=True,
        )
        assert process.stdin is not None and process.stdout is not None
        to_child = Connection(os.dup(process.stdin.fileno()), readable=False)
        from_child = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        to_child.send(self._config_data)
        child = _Child(process, from_child, to_child)
        self._children.append(child)
        return child

    def _receive(self, child: _Child) -> None:
        job = child.job
        assert job is not None
        try:
            result = child.conn.recv()
        except (EOFError, OSError):
            _wait(child.process, 5)
            self._lose(child, ParserCrashedError(f"the parser process died ({_exit_reason(child.process.returncode)})"))
            return
        if isinstance(result, str):  # PARSED or EMBEDDING: the next step has started
            child.started = time.monotonic()
            job.embedding = result == EMBEDDING
        else:
            self._deliver(child, job, result)
        if child.jobs and child.conn.poll():  # the next message is already here
            self._receive(child)

    def _deliver(self, child: _Child, job: _Job, result: Result) -> None:
        job.results.append(result)
        child.documents += 1
        child.started = time.monotonic()
        if len(job.results) == len(job.tasks):
            child.jobs.popleft()
            job.future.set_result(job.results)
            if not child.jobs and child.documents >= self._recycle_after:
                self._stop(child)
                self._children.remove(child)

    def _lose(self, child: _Child, error: BaseException) -> None:
        """The child is dead or hung: fail the document it was on, give the rest to another child."""
        job = child.job
        assert job is not None
        self.killed += 1
        self._kill(child)
        self._children.remove(child)
        if self._embeddings and not job.solo and len(job.tasks) - len(job.results) > 1:
            job.solo = True  # several documents were in flight: find out which one, one at a time
        else:
            self._fail_current(job, error)
            if len(job.results) == len(job.tasks):
                child.jobs.popleft()
        with self._lock:
            self._pending.extendleft(reversed(child.jobs))  # the rest, in order, before anything newer

    def _fail_current(self, job: _Job, error: BaseException) -> None:
        """The document the lost child was on fails (at the embed step if it had said so)."""
        if job.embedding and isinstance(error, ParseTimeoutError):
            error = ParseTimeoutError(
                f"embedding took longer than parsers.timeout ({self._timeout:g} s); the parser was stopped"
            )
        task = job.tasks[len(job.results)]
        job.results.append(failure(task.ref, "embed" if job.embedding else "parse", error))
        if len(job.results) == len(job.tasks):
            job.future.set_result(job.results)

    def _kill(self, child: _Child) -> None:
        if child.process.poll() is None:
            child.process.kill()
        _wait(child.process, 5)
        child.conn.close()
        child.to_child.close()

    def _stop(self, child: _Child) -> None:
        try:
            child.to_child.send(None)
        except OSError:
            pass
        if not _wait(child.process, 5):
            self._kill(child)
        else:
            child.conn.close()
            child.to_child.close()

    def _fail_everything(self, error: BaseException) -> None:
        with self._lock:
            self._fail_everything_locked(error)

    def _fail_everything_locked(self, error: BaseException) -> None:
        jobs = list(self._pending) + [job for c in self._children for job in c.jobs]
        self._pending.clear()
        for child in self._children:
            child.jobs.clear()
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(error)


def _wait(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Reap the process within ``timeout``; False if it is still running."""
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if -code == signal.SIGKILL else ""
        return f"{name}{hint}"
    return f"exit code {code}"


