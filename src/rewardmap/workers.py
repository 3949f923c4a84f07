"""Worker processes that die with the command that started them.

Forked workers inherit every descriptor of their parent, the write ends of their own task
pipes included, so when the parent is killed (SIGKILL, the OOM killer) they never read an
end of file and wait for work forever, holding memory and the lock of the output folder
they were filling. On Linux the kernel kills them with their parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1


def pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with, initargs=(os.getpid(),))


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)
