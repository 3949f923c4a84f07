"""Ctrl-C and SIGTERM stop a command the same way: as a KeyboardInterrupt, raised in the main
thread between two Python steps, so that every `finally` runs (a staging folder is removed, a
lock released) and every `except KeyboardInterrupt` cleanup too (an evaluation abandons its
requests in flight and keeps what arrived). By default SIGTERM, what schedulers and `kill`
send, ends Python on the spot with no cleanup at all.

Exit status: 128 plus the signal's number, as a shell reports a process the signal ended:
130 for Ctrl-C, 143 for SIGTERM.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt."""


def sigterm_interrupts() -> None:
    """Make SIGTERM raise `Terminated` in this process (call it from the main thread). Processes
    forked from it (worker pools, data loaders) get the default back: their parent stops them."""
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum, frame):
    raise Terminated()


def _default_sigterm_in_child() -> None:
    try:
        if signal.getsignal(signal.SIGTERM) is _terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except ValueError:  # not the main thread: a fork from a thread Python does not know
        pass


os.register_at_fork(after_in_child=_default_sigterm_in_child)


def exit_status(stop: KeyboardInterrupt) -> int:
    return 128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool that stops with its parent: an exception in the block (Ctrl-C, SIGTERM)
    drops the jobs not yet started, where the executor's own `with` runs every one of them to
    the end before letting go; the workers leave Ctrl-C, which a terminal sends to every
    process of the command, to the main process (an idle worker would die of it with a
    traceback, a busy one fail its job)."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_leave_ctrl_c_to_the_parent)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # the running jobs end (seconds), the rest never start
        raise
    pool.shutdown(wait=True)


def _leave_ctrl_c_to_the_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
