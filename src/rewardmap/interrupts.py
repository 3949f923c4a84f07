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
