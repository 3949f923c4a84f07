"""One writer per output: a command that writes OUT holds an exclusive lock on it for its whole
run, and a second process that would write the same OUT is refused at once, naming the holder.

The lock is an `flock` on `.OUT.lock` beside OUT, not in it: the dataset commands build OUT in
a staging folder and rename it into place, which would take a lock inside OUT away with the old
folder. The kernel releases an flock when its process dies, however it dies, so a killed run
never blocks the next; the file itself goes when the lock is released (a killed run leaves it
behind, holding the dead process's id, and the next run takes it over). A folder written in place
(`rewardmap train`, `eval`) whose parent refuses new files is locked by `.rewardmap.lock` inside
it instead: every process that could compete sees the same refusal and picks the same file.

Taking the lock is also the first write the command makes, so an output it cannot write (a
read-only folder, a path through a file) is refused here, in one line, before any work.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError
from .fileio import default_mode, file_on_the_way

INSIDE = ".rewardmap.lock"
NOT_ALLOWED = (errno.EACCES, errno.EPERM, errno.EROFS)

_held: set[int] = set()  # this process's lock descriptors, closed in forked children (see _forget_in_child)


@contextmanager
def one_writer(out: str | os.PathLike, in_place: bool = False) -> Iterator[Path]:
    """Hold the lock on OUT for the block; yields the lock file. Missing parents of OUT are made
    (and removed again if the block leaves them empty). IN_PLACE: OUT is written where it is,
    not replaced, so it may be locked from inside when its parent is read-only."""
    out = Path(out)
    made = _make_parents(out)
    try:
        fd, path = _acquire(out, in_place)
        try:
            _check_writable(out)
            yield path
        finally:
            _release(fd, path)
    finally:
        for folder in reversed(made):
            try:
                folder.rmdir()  # only if the command left it empty
            except OSError:
                break


def lock_file(out: str | os.PathLike) -> Path:
    """Where OUT's lock lives (beside it); `.rewardmap.lock` inside is the read-only parent's case."""
    out = Path(os.path.abspath(out))  # `runs/x`, `./runs/x/` and `/abs/runs/x`: one lock
    return out.parent / f".{out.name or 'root'}.lock"


def _make_parents(out: Path) -> list[Path]:
    """Make OUT's missing parent folders; returns those made, outermost first."""
    missing = [p for p in Path(os.path.abspath(out)).parents if not p.exists()][::-1]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"{out}: {file_on_the_way(out)} is a file, not a folder") from None
    except OSError as e:
        if e.errno not in NOT_ALLOWED:
            raise
        raise InputError(f"{out}: cannot make its folder {_first_missing(out)} ({e.strerror})") from None
    return missing


def _acquire(out: Path, in_place: bool) -> tuple[int, Path]:
    path = lock_file(out)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, default_mode())
        except OSError as e:
            if e.errno not in NOT_ALLOWED:
                raise
            if in_place and out.is_dir() and path.parent != out:  # a read-only parent: lock from inside
                path = out / INSIDE
                continue
            raise InputError(f"{out}: cannot write in {path.parent} ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "not yet written"
            os.close(fd)
            raise InputError(f"{out}: another rewardmap process (process id {holder}) is writing it; wait "
                             "for that one to end, or choose another --out") from None
        if _still_there(fd, path):
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            except OSError:  # a full disk or quota: said as such (`diskfull`), and no lock file left behind
                _release(fd, path)
                raise
            _held.add(fd)
            return fd, path
        os.close(fd)  # locked a file its last holder had just removed: lock the one there now


def _still_there(fd: int, path: Path) -> bool:
    """Whether PATH still names the file open as FD (a holder unlinks its file on release)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _release(fd: int, path: Path) -> None:
    _held.discard(fd)
    try:
        path.unlink(missing_ok=True)  # still locked: one that opened it meanwhile sees it is gone (_still_there)
    finally:
        os.close(fd)


def _check_writable(out: Path) -> None:
    if out.is_dir() and not os.access(out, os.W_OK):
        raise InputError(f"{out}: cannot write in it ({os.strerror(errno.EACCES)})")


def _first_missing(out: Path) -> Path:
    return next((p for p in reversed(out.parents) if not p.exists()), out.parent)


def _forget_in_child() -> None:
    """A forked child (a worker process) shares the lock's open file, and the kernel keeps an flock
    while any process has it open: without this, workers outliving a killed parent would hold it."""
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)
