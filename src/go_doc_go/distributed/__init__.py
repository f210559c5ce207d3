"""Distributed mode: identical workers on any number of machines share one PostgreSQL queue.

The pieces, each a module:

* ``setup``: what every process of a run opens (config checks, the queue pool,
  the store, the sources) — one place, so a coordinator and a worker agree;
* ``discovery``: streams every source's listing into the queue (and marks the
  documents seen by this pass in the store);
* ``processor``: ``QueuedDocumentProcessor`` turns claimed leases into stored
  documents and completions: change detection and link following through
  ``go_doc_go.rules``, parsing through ``go_doc_go.pool`` (the same
  ``process_document`` single mode runs), one transaction for a batch's rows
  and completions when store and queue share a database;
* ``finish``: last man standing: once discovery is done and nothing is left,
  exactly one worker (the leader, fenced by its term) runs the post-processing
  steps of ``go_doc_go.rules.postprocess`` and completes the run;
* ``worker``: ``DocumentWorker``, the lifecycle of one worker process
  (register, heartbeat, claim K = free slots, signals, exit);
* ``supervisor``: ``--num-workers N`` processes under one supervisor;
* ``coordinator``: ``ProcessingCoordinator``, the optional process that starts
  a pass and runs its discovery;
* ``local``: ``processing.mode: distributed`` from ``ingest_documents``.
"""
