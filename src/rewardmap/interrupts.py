"""Ctrl-C and SIGTERM stop a command the same way: as a KeyboardInterrupt, raised in the main
thread between two Python steps, so that every `finally` runs (a staging folder is removed, a
lock released) and every `except KeyboardInterrupt` cleanup too (an evaluation abandons its
requests in flight and keeps what arrived). By default SIGTERM, what schedulers and `kill`
send, ends Python on the spot with no cleanup at all.

Worker pools stop with their parent: `rewardmap.workers.worker_pool`.

Exit status: 128 plus the signal's number, as a shell reports a process the signal ended:
130 for Ctrl-C, 143 for SIGTERM.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
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


@contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM arriving inside the block take effect when it ends: for the steps that
    leave a mess if cut in the middle (a staging folder half removed, a folder swapped into
    place), which a first Ctrl-C starts and an impatient second one would otherwise cut."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if arrived:
            raise Terminated() if arrived[0] == signal.SIGTERM else KeyboardInterrupt()


def exit_status(stop: KeyboardInterrupt) -> int:
    return 128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
