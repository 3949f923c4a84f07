"""Worker processes that stop with the command that started them.

Forked workers inherit every descriptor of their parent, the write ends of their own task
pipes included, so when the parent is killed (SIGKILL, the OOM killer) they never read an
end of file and wait for work forever, holding memory and the lock of the output folder
they were filling. On Linux the kernel kills them with their parent (PR_SET_PDEATHSIG).

A parent stopped by Ctrl-C or SIGTERM (`rewardmap.interrupts`) stops its pool: the jobs not
yet started are dropped, and the workers leave Ctrl-C, which a terminal sends to every
process of the command, to the main process.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers die with their parent, however it dies. An exception in the
    block (Ctrl-C, SIGTERM) drops the jobs not yet started, where the executor's own `with` runs
    every one of them to the end before letting go; the workers leave Ctrl-C to the main process
    (an idle worker would die of it with a traceback, a busy one fail its job)."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_start, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # the running jobs end (seconds), the rest never start
        raise
    pool.shutdown(wait=True)


def _worker_start(parent: int) -> None:
    _die_with(parent)
    _leave_ctrl_c_to_the_parent()


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _leave_ctrl_c_to_the_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
