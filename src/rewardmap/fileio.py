"""Atomic file writing and JSONL reading: a crash never leaves a half-written file."""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .diskfull import writing
from .errors import InputError


def umask() -> int:
    """The process's umask, read without changing it where Linux shows it (setting it to read
    it, even for an instant, races with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """The mode `open` or `mkdir` would give a new file or folder: 0o666 or 0o777 less the umask.
    Temporary files and folders are created 0600 / 0700; what they become must not be."""
    return (0o777 if directory else 0o666) & ~umask()


def follow_umask(folder: str | os.PathLike) -> None:
    """Give every private (0600) file under FOLDER the mode a plain write gives: libraries that
    write through a temporary file (safetensors 0.8 does) leave their output readable by its
    owner only, whatever the umask says."""
    mode = default_mode()
    for path in Path(folder).rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o777 == 0o600 != mode:
            path.chmod(mode)


REFUSALS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ENAMETOOLONG,
            errno.ELOOP)


def refusal(e: OSError, path: str | os.PathLike | None = None, writing: bool = False) -> InputError | None:
    """The one-line error for an OSError by which the system refuses PATH (default: the error's
    own file): no permission, a read-only file system, a path through a file, a name too long.
    None for any other error (a full disk, say): not something wrong with the path given."""
    path = e.filename if path is None else path
    if e.errno not in REFUSALS or path is None:
        return None
    blocker = file_on_the_way(path)
    if blocker is not None and e.errno in (errno.ENOTDIR, errno.EEXIST):
        return InputError(f"{path}: {blocker} is a file, not a folder")
    reason = f"cannot write it ({e.strerror})" if writing else e.strerror
    return InputError(f"{path}: {reason}")


def file_on_the_way(path: str | os.PathLike) -> Path | None:
    """The file among PATH's parents that keeps it from being made, if any."""
    return next((p for p in reversed(Path(path).parents) if p.exists() and not p.is_dir()), None)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.
    The file ends with the mode a plain write would give it."""
    path = Path(path)
    with writing(path, always=True):  # a full disk is named by PATH, not by its temporary file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as e:  # a refusal is named as asked, not by the temporary name
            raise refusal(e, path, writing=True) or e from None
        try:
            os.fchmod(fd, default_mode())
        finally:
            os.close(fd)
        try:
            yield Path(tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def remove_atomic_leftovers(folder: str | os.PathLike) -> None:
    """Remove the temporary files `atomic_path` calls left under FOLDER when their process was
    killed. Only for a folder its caller alone writes (it holds the folder's lock)."""
    for left in Path(folder).rglob(".*.tmp"):
        if left.is_file():
            left.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj, indent: int | None = 2) -> None:
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def write_files_atomic(files: dict[Path, bytes]) -> None:
    """Write every file or none: each to its temporary file, then all renamed into place (a
    full disk met by the last leaves no new first)."""
    with ExitStack() as renames:
        for path, data in files.items():
            renames.enter_context(atomic_path(path)).write_bytes(data)


def write_jsonl_atomic(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Write one JSON object per line; returns the number of records written."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


STATION_FILE_MAX_BYTES = 16 * 2**20  # the largest real ReasonMap station file is about 40 KB
MAP_FILE_MAX_BYTES = 256 * 2**20  # the largest real map file is a few MB


def is_file(path: str | os.PathLike) -> bool:
    """`Path.is_file`, False also for a path the system refuses to look up (a name too long,
    say): record paths come from strangers."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return False


def read_capped(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most LIMIT bytes, else one InputError: a FIFO would
    block forever and a link to /dev/zero read without end."""
    path = Path(path)
    if not is_file(path):
        raise InputError(f"{path}: {what} is not a regular file")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: {what} is larger than the {limit // 2**20} MB allowed")
    return data


def parse_json(text: str | bytes, where: str, **kwargs):
    """`json.loads`, with every way untrusted text can fail it as one InputError naming WHERE:
    bad syntax, bytes that are not UTF-8, an integer past Python's digit limit, nesting too
    deep for the parser."""
    try:
        return json.loads(text, **kwargs)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: not UTF-8 text (byte {e.start})") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise InputError(f"{where}: not usable JSON (an integer of more than {sys.get_int_max_str_digits()} "
                         "digits)") from None
    except RecursionError:
        raise InputError(f"{where}: not usable JSON (nested too deep)") from None


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record); a line that is not a JSON object is an InputError."""
    if not is_file(path):
        raise InputError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, _record(line, path, lineno)


def _record(line: bytes, path, lineno: int) -> dict:
    try:
        text = line.decode("utf-8")  # itself: json.loads on bytes first guesses the encoding, slower
    except UnicodeDecodeError as e:
        raise InputError(f"{path}:{lineno}: not UTF-8 text (byte {e.start})") from None
    record = parse_json(text, f"{path}:{lineno}")
    if not isinstance(record, dict):
        raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
    return record


def read_jsonl_fields(path: str | os.PathLike, fields: Iterable[str], required: str | None = None,
                      raw: Iterable[str] = ()) -> Iterator[tuple[int, dict]]:
    """`read_jsonl`, each record holding FIELDS only (None for those absent), the rest of each
    line checked but not built into objects: several times faster when records carry long
    texts a command does not read. REQUIRED, one of FIELDS, is left out of a record that
    lacks it, so that the caller can name the line. RAW fields are kept as their JSON text
    (`msgspec.Raw`, read with `raw_value`) where the fast decoder reads the line: a key to
    remember work by, decoded only when needed. A line the fast decoder refuses is read by
    `read_jsonl`'s rules, so it is accepted or refused, in the same words, exactly as there."""
    import msgspec

    as_dict, unset = msgspec.structs.asdict, msgspec.UNSET
    for lineno, fast in read_jsonl_structs(path, fields, required, raw):
        record = as_dict(fast)
        if required is not None and record[required] is unset:
            del record[required]
        yield lineno, record


def read_jsonl_structs(path: str | os.PathLike, fields: Iterable[str], required: str | None = None,
                       raw: Iterable[str] = ()) -> Iterator[tuple[int, object]]:
    """`read_jsonl_fields` with each record an object whose attributes are FIELDS (REQUIRED,
    when absent, is `msgspec.UNSET`): no dictionary built per line, for the hottest loops."""
    import msgspec

    fields, raw = tuple(fields), frozenset(raw)
    spec = [(f, msgspec.Raw if f in raw else object, msgspec.UNSET if f == required else None) for f in fields]
    Fields = msgspec.defstruct("Fields", spec, gc=False)  # noqa: N806  (a class)
    decode = msgspec.json.Decoder(Fields).decode
    if not is_file(path):
        raise InputError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if line.isspace():
                continue
            if not line.isascii():  # the decoder does not check the UTF-8 of what it skips
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise InputError(f"{path}:{lineno}: not UTF-8 text (byte {e.start})") from None
            try:
                record = decode(line)
            except (msgspec.MsgspecError, RecursionError):  # not JSON it reads: NaN, a lone surrogate, ...
                full = _record(line, path, lineno)
                record = Fields(**{k: full[k] if k in full else (msgspec.UNSET if k == required else None)
                                   for k in fields})  # RAW fields too: decoded, read as they are
            yield lineno, record


def raw_value(raw, where: str):
    """The value of a RAW field of `read_jsonl_fields` (a value already decoded is returned
    as it is); JSON the fast decoder does not read is read by `parse_json`'s rules."""
    import msgspec

    if type(raw) is not msgspec.Raw:
        return raw
    try:
        return msgspec.json.decode(raw)
    except (msgspec.MsgspecError, RecursionError):  # NaN, an integer past 64 bits, deep nesting
        return parse_json(bytes(raw), where)
