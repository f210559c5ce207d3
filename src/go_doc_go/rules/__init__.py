"""The rules both drivers share, so single and distributed mode cannot drift apart.

* ``change``: which documents need parsing (size/mtime, then content hash);
* ``links``: which linked documents are followed, to what depth;
* ``postprocess``: what happens once a pass has seen every document: removal of
  documents that vanished from fully listed sources, link resolution, vector
  indexes and semantic edges (``semantic``), as registered, idempotent steps
  behind one entry point.

Single mode (``ingest``) and the distributed worker call exactly these; neither
has a copy of its own.
"""

from go_doc_go.rules.change import Admission, admit, new_pass_token
from go_doc_go.rules.links import follow_targets, link_follow_depth
from go_doc_go.rules.postprocess import STEPS, PassContext, PostProcessResult, run_post_processing

__all__ = [
    "STEPS", "Admission", "PassContext", "PostProcessResult", "admit", "follow_targets", "link_follow_depth",
    "new_pass_token", "run_post_processing",
]  # fmt: skip
