"""A small disk that fills up on demand, for the full-disk tests: a tmpfs mounted for the test
(where the machine allows it: root with CAP_SYS_ADMIN, as in the development containers; the
tests skip elsewhere), filled by a file of zeros and freed by removing that file."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILLER = ".filler"  # not an output of any command: left out of what the tests compare


class Disk:
    def __init__(self, root: Path):
        self.root = root
        self.filler = root / FILLER

    def free_bytes(self) -> int:
        stat = os.statvfs(self.root)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Take all the free space but LEAVE bytes (rounded down to pages)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while (room := self.free_bytes() - leave) > 0:
                try:
                    os.write(fd, bytes(min(room, 1 << 22)))
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
        finally:
            os.close(fd)

    @contextmanager
    def fill_when(self, ready: Callable[[], bool]) -> Iterator[None]:
        """Fill the disk as soon as READY() holds, while the block runs."""
        done = threading.Event()

        def watch():
            while not done.is_set():
                if ready():
                    self.fill()
                    return
                time.sleep(0.002)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.root)], check=False)

    def files(self) -> set[str]:
        """Every file and folder on the disk but the filler, relative to it."""
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*") if p != self.filler}


def mount(folder: Path, size: str = "64m") -> Disk | None:
    """A tmpfs of SIZE mounted on FOLDER; None where this machine does not allow it."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    return None if mounted.returncode else Disk(folder)


@contextmanager
def tmpfs(folder: Path, size: str = "64m") -> Iterator[Disk]:
    disk = mount(folder, size)
    if disk is None:
        pytest.skip("cannot mount a tmpfs here (not root with CAP_SYS_ADMIN); the injected failures of "
                    "test_full_disk.py still run")
    try:
        yield disk
    finally:
        disk.unmount()
