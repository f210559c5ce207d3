"""Consoles for command output: styled on a terminal, never wrapped when piped.

rich wraps at 80 columns when it cannot ask a terminal for its width, which
breaks lines in files and pipes; off a terminal the width is effectively
unlimited so every line comes out whole.
"""

from __future__ import annotations

import sys

from rich.console import Console

UNWRAPPED_WIDTH = 100_000


def console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=UNWRAPPED_WIDTH, soft_wrap=True)
