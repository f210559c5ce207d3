"""Retry delays: exponential, jittered, capped. A pure function of its inputs."""

from __future__ import annotations

import random
from typing import Literal, Protocol


class _Random(Protocol):
    def random(self) -> float: ...


def delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    rng: _Random | None = None,
    jitter: Literal["full", "equal", "none"] = "equal",
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    The ceiling is ``min(cap, base * 2 ** (attempt - 1))``. With ``equal``
    jitter (the default) the delay lies in ``[ceiling / 2, ceiling]``, so
    retries spread out but never come back almost at once; ``full`` jitter
    gives ``[0, ceiling]``; ``none`` gives exactly the ceiling.
    """
    if attempt < 1:
        attempt = 1
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    if jitter == "none":
        return ceiling
    u = (rng or random).random()
    if jitter == "full":
        return ceiling * u
    return ceiling / 2 + (ceiling / 2) * u
