"""Where a dataset command writes: a new or empty folder, or, when asked, one replaced whole.

Everything is written into a staging folder beside OUT and renamed into place at the end, so
an error or a crash leaves OUT as it was, and a replaced dataset leaves no stale maps or
station files beside the new questions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError
from ..fileio import default_mode, refusal


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
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as e:  # named as asked, not by the staging folder's name
        raise refusal(e, out, writing=True) or e from None
    staging.chmod(default_mode(directory=True))  # the folder it becomes is not private
    try:
        yield staging
        move_into_place(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
