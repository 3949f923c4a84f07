"""A full disk or an exceeded quota, however a library reports it, as one OSError naming a path.

Python's own writes raise OSError(ENOSPC) without a file name; safetensors (Rust) raises its
own error type with the errno in the message; torch.save's C++ writer loses the errno
altogether ("unexpected pos", "PytorchStreamWriter failed writing file"): such a failure is
taken for a full disk when little space is left, and for an exceeded quota (which leaves the
disk's free space as it was) when a probe write beside PATH fails the same way. `writing(path)`
turns each, raised inside its block, into OSError(ENOSPC or EDQUOT, strerror, path), and
`disk_full(exc)` finds one anywhere in an exception's chain, for the CLI's one line.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FULL = (errno.ENOSPC, errno.EDQUOT)
# how errno 28 / 122 reads in other libraries' messages: "(os error 28)" (Rust), "[errno 28]" (Arrow)
_CODE = re.compile(rf"\b(?:os error|errno) ({'|'.join(map(str, FULL))})\b", re.IGNORECASE)
_TEXT = {os.strerror(code).lower(): code for code in FULL}
# torch.save's writer names no errno; it fails this way when a write comes up short
_TORCH_WRITER = ("PytorchStreamWriter failed", "unexpected pos", "iostream error")
_FREE_MIN = 2**20  # bytes: below this a failed torch write is taken for a full disk
_PROBE = 2**20  # bytes written beside a failed torch write to ask the file system why


def disk_full(exc: BaseException | None) -> OSError | None:
    """The full-disk or over-quota error in EXC or its causes and contexts, as an OSError
    (None if there is none)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in FULL:
            return exc
        text = str(exc)
        match = _CODE.search(text)
        code = int(match[1]) if match else next((c for t, c in _TEXT.items() if t in text.lower()), None)
        if code is not None:
            return OSError(code, os.strerror(code))
        exc = exc.__cause__ or exc.__context__
    return None


def named(exc: BaseException, path: str | os.PathLike, always: bool = False,
          staging: Path | None = None) -> BaseException:
    """EXC as an OSError naming PATH when it is a full disk (or a torch write that failed on a
    nearly full one) whose error names no file (ALWAYS: whatever file it names), or a file
    under STAGING (named as under PATH: the folder STAGING becomes); else EXC."""
    full = disk_full(exc) or _torch_full(exc, path)
    if full is None:
        return exc
    if full.filename and not always:
        if staging is None or not Path(full.filename).is_relative_to(staging):
            return exc
        path = Path(path) / Path(full.filename).relative_to(staging)
    return OSError(full.errno, os.strerror(full.errno), str(path))


@contextmanager
def writing(path: str | os.PathLike, always: bool = False, staging: Path | None = None) -> Iterator[None]:
    """A full disk met inside the block is raised as OSError(errno, strerror, PATH) (`named`)."""
    try:
        yield
    except Exception as e:
        raised = named(e, path, always, staging)
        if raised is e:
            raise
        raise raised from e


def free_bytes(path: str | os.PathLike) -> int:
    """Bytes an unprivileged write may still use on PATH's file system (of its nearest existing folder)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def _torch_full(exc: BaseException, path) -> OSError | None:
    if isinstance(exc, RuntimeError) and any(s in str(exc) for s in _TORCH_WRITER):
        try:
            if free_bytes(path) < _FREE_MIN:
                return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            return None
        return _probe(path)
    return None


def _probe(path) -> OSError | None:
    """The full-disk or quota error a write of _PROBE bytes next to PATH meets (None if it fits)."""
    folder = Path(path).absolute()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".space-probe-", dir=folder)
    except OSError as e:
        return OSError(e.errno, os.strerror(e.errno)) if e.errno in FULL else None
    try:
        left = memoryview(bytes(_PROBE))
        while left:
            left = left[os.write(fd, left):]
        os.fsync(fd)  # file systems that allocate late report a quota only here
    except OSError as e:
        if e.errno in FULL:
            return OSError(e.errno, os.strerror(e.errno))
    finally:
        os.close(fd)
        os.unlink(probe)
    return None
