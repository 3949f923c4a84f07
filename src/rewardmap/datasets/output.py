"""Where a dataset command writes: a new or empty folder, or, when asked, one replaced whole.

Everything is written into a staging folder beside OUT and renamed into place at the end, so
an error or a crash leaves OUT as it was, and a replaced dataset leaves no stale maps or
station files beside the new questions. The staging folder is locked while its command runs;
one that a killed command left (no one holds its lock) is removed by the next command that
writes OUT.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..diskfull import named, writing
from ..errors import InputError
from ..fileio import atomic_path, default_mode, refusal
from ..interrupts import deferred

try:
    import fcntl
except ImportError:  # not POSIX: nothing is swept
    fcntl = None


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an OUT that holds anything, unless the caller asked to replace it."""
    if out.exists() and not overwrite:
        if not out.is_dir():
            raise InputError(f"{out}: exists and is not a folder; choose another or pass --overwrite to replace it")
        if any(out.iterdir()):
            raise InputError(f"{out}: already exists and is not empty; choose another folder or pass --overwrite "
                             "to replace it")


@contextmanager
def staged(out: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """A fresh folder to write the dataset into; renamed onto OUT when the block succeeds."""
    out = Path(out)
    check_out(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        recover_replaced(out)
        sweep(out, ".partial")
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as e:  # named as asked, not by the staging folder's name
        raise refusal(e, out, writing=True) or named(e, out, always=True) from None
    try:
        with held(staging):
            staging.chmod(default_mode(directory=True))  # the folder it becomes is not private
            with writing(out, staging=staging):  # a full disk is named by OUT, not by the staging folder
                yield staging
            with deferred():
                move_into_place(staging, out)
    finally:
        with deferred():  # what a first Ctrl-C started, a second does not cut short
            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def staged_file(out: Path) -> Iterator[Path]:
    """`atomic_path` for a large output file: the temporary file a killed command leaves
    beside OUT is removed by the next command that writes OUT."""
    sweep(out, ".tmp")
    with atomic_path(out) as tmp, held(tmp):
        yield tmp


@contextmanager
def held(path: Path) -> Iterator[None]:
    """An exclusive `flock` on PATH (file or folder) while the block runs: the kernel drops it
    when the process dies, whatever kills it, so that `sweep` knows what is left over."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# What `tempfile` puts between prefix and suffix: eight of its letters, never a dot. A sweep of
# OUT so matches OUT's own staging folders and temporary files only: not those of `OUT.v2`
# (`.OUT.v2.XXXXXXXX.partial`, whose lock a sweep could take in the instant before its command
# does), nor the writers' locks (`.OUT.lock`, `writer_lock`), which end otherwise.
_TEMP_NAME = "[a-z0-9_]" * 8


def sweep(out: Path, suffix: str) -> None:
    """Remove what killed commands left beside OUT (`.OUT.XXXXXXXX.SUFFIX`, `tempfile`'s names,
    which no live process holds)."""
    if fcntl is None:
        return
    for left in out.parent.glob(f".{glob.escape(out.name)}.{_TEMP_NAME}{suffix}"):
        try:
            fd = os.open(left, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a command still writing it
            continue
        else:
            if left.is_dir() and not left.is_symlink():
                shutil.rmtree(left, ignore_errors=True)
            else:
                left.unlink(missing_ok=True)
        finally:
            os.close(fd)


def recover_replaced(out: Path) -> None:
    """Finish what a command killed inside `move_into_place` left (`.OUT.old-PID`, PID dead): OUT
    back from it when the kill came between the two renames (OUT was missing, nothing is lost),
    else the old copy removed (the kill came after the new OUT was in)."""
    for old in out.parent.glob(f".{glob.escape(out.name)}.old-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if not (out.exists() or out.is_symlink()):
            os.replace(old, out)
        elif old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def move_into_place(staging: Path, out: Path) -> None:
    """Rename the finished staging folder onto `out`; an old `out` goes only once the new one is in."""
    if not out.exists():
        os.replace(staging, out)
        return
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        raise
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink()
