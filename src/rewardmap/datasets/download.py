"""Download an official dataset, with the maps and station files its questions point at, and
import it.

Why a module of its own: it holds all the network access of the data path (the Hugging Face
Hub for the questions, GitHub for the files). Keeping it here lets everything else (and every
test) run offline, and turns the many ways a download fails into one line that says what to
do instead.

Where the files are: FSCCS/ReasonMap holds its maps and station data inline. ReasonMap-Plus
and ReasonMap-Train point at `./maps/<country>/<city>.png` and `./stations/<country>/<city>.json`,
which neither Hub dataset holds: the authors publish the maps in the RewardMap repository
(its training code reads them from the checkout) and the station files in the ReasonMap
one (RewardMap's .gitignore leaves out every .json). Those are fetched with git, and only the
files an import still lacks.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

from ..diskfull import disk_full, named
from ..errors import InputError
from ..fileio import is_file, read_jsonl_fields
from .importer import ImportSummary, import_dataset, unresolved_paths
from .output import check_out

REPOS = {
    "reasonmap": "FSCCS/ReasonMap",
    "reasonmap-plus": "FSCCS/ReasonMap-Plus",
    "reasonmap-train": "FSCCS/ReasonMap-Train",
}
# Datasets whose rows name map and station files instead of holding them.
POINTS_AT_FILES = {"FSCCS/ReasonMap-Plus", "FSCCS/ReasonMap-Train"}


@dataclass(frozen=True)
class Published:
    """Where the authors publish one folder of files: a GitHub repository at a commit."""

    repo: str
    commit: str
    url: str

    def __str__(self) -> str:
        return f"{self.url} at commit {self.commit[:7]}"


# The folder a record's path starts with -> where it is published. Pinned commits, so that a
# download gets the same files whenever it runs.
PUBLISHED = {
    "maps": Published("fscdc/RewardMap", "15428ac30588cfba6f2e099371a673b384cd249e",
                      "https://github.com/fscdc/RewardMap"),
    "stations": Published("fscdc/ReasonMap", "e68dd65c0c79d36939f02b268809dc9b868ad98a",
                          "https://github.com/fscdc/ReasonMap"),
}
_FILE_MODES = ("100644", "100755")  # git's regular files: a symlink in the repository is not followed


@dataclass
class DownloadSummary(ImportSummary):
    """`ImportSummary`, plus the files fetched and what to do about records still without theirs."""

    fetched: Counter = field(default_factory=Counter)  # folder (maps, stations) -> files fetched now
    lacking: int = 0  # records without their map or station file
    instruction: str | None = None  # one line: what to fetch, where to put it, what to run

    def describe(self) -> str:
        text = super().describe()
        if self.fetched:
            got = [f"{n} {folder}/ files from {PUBLISHED[folder]}" for folder, n in sorted(self.fetched.items())]
            text += f"\n  fetched: {', '.join(got)}"
        return text


def repo_id(name: str) -> str:
    """`reasonmap-plus`, `ReasonMap_Plus` or `FSCCS/ReasonMap-Plus` -> `FSCCS/ReasonMap-Plus`.

    >>> repo_id("FSCCS/reasonmap-train")
    'FSCCS/ReasonMap-Train'
    """
    key = name.strip().lower().replace("_", "-").removeprefix("fsccs/")
    if key not in REPOS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(REPOS)} "
                         f"(or {', '.join(REPOS.values())})")
    return REPOS[key]


def download_dataset(
    name: str,
    out: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    token: str | bool | None = None,
    split: str | None = None,
    strict: bool = False,
    overwrite: bool = False,
    search_dirs: Sequence[str | os.PathLike] = (),
    progress: bool = False,
    files_cache: str | os.PathLike | None = None,
) -> DownloadSummary:
    """Fetch dataset `name` (see `REPOS`) with `huggingface_hub.snapshot_download`, fetch the
    map and station files its records point at and that none of `search_dirs` holds (see
    `PUBLISHED`; kept in `files_cache`, by default ~/.cache/rewardmap/published), and import
    it all into `out` with `import_dataset` (which documents `split`, `strict`, `overwrite`,
    `search_dirs` and `progress`). With `split`, only files whose path contains that name are
    downloaded (ReasonMap's train file alone is about 5 GB).

    A record whose map or station file could not be had leaves `instruction`: one line naming
    the files, where they are published, where to put them and the command to run then. With
    `strict=True` that line is raised as an `InputError` before anything is written.
    """
    repo = repo_id(name)
    out = Path(out)
    check_out(out, overwrite)  # before a download that can take an hour
    folder = _snapshot(repo, revision=revision, cache_dir=cache_dir, token=token, split=split)
    found_in, fetched, failures = list(search_dirs), Counter(), []
    if repo in POINTS_AT_FILES and (missing := unresolved_paths(folder, split=split, search_dirs=found_in)):
        roots, fetched, failures = fetch_published(set().union(*missing.values()), _files_cache(files_cache))
        found_in += roots
        if strict and (missing := unresolved_paths(folder, split=split, search_dirs=found_in)):
            paths = set().union(*missing.values())
            command = _rerun(repo, out, split, revision, search_dirs, strict, overwrite)
            raise InputError(f"{len(paths)} map or station file(s) not found{_because(failures)}: "
                             f"{_how_to_fix(paths, command)}")
    imported = import_dataset(folder, out, split=split, strict=strict, overwrite=overwrite,
                              search_dirs=found_in, progress=progress)
    summary = DownloadSummary(**{f.name: getattr(imported, f.name) for f in fields(imported)}, fetched=fetched)
    summary.lacking = _records_lacking_files(out, summary.missing)
    if paths := set().union(*summary.missing.values()):
        command = _rerun(repo, out, split, revision, search_dirs, strict, overwrite=True)
        summary.instruction = (f"{summary.lacking} record(s) lack their map or station file{_because(failures)}: "
                               f"{_how_to_fix(paths, command)}")
    elif summary.lacking:
        summary.instruction = f"{summary.lacking} record(s) name no map or station file in {repo}"
    return summary


def fetch_published(paths: Iterable[str], cache: str | os.PathLike) -> tuple[list[Path], Counter, list[str]]:
    """Fetch each of `paths` (as records give them: `./maps/italy/rome.png`) from where
    `PUBLISHED` says its folder is, into `cache/<owner>+<repo>@<commit>/`, keeping what an
    earlier call fetched. Paths under no published folder, or not in the repository, are left
    out. Returns the folders holding fetched files (search dirs for the import), the number of
    files fetched now per folder, and one line per folder that could not be fetched. Each file
    lands whole (a rename), and a failed fetch leaves no scratch files."""
    wanted: dict[str, set[str]] = {}
    for value in paths:
        relative = _published_path(value)
        if relative is not None:
            wanted.setdefault(relative.split("/")[0], set()).add(relative)
    roots: list[Path] = []
    fetched: Counter = Counter()
    failures: list[str] = []
    for folder, relatives in sorted(wanted.items()):
        source = PUBLISHED[folder]
        dest = Path(cache) / f"{source.repo.replace('/', '+')}@{source.commit[:12]}"
        needed = sorted(r for r in relatives if not is_file(dest / r))
        if needed:
            try:
                fetched[folder] = _git_fetch_files(source, folder, needed, dest)
            except InputError as e:
                if disk_full(e):  # git's own words: out of space is no missing file
                    raise named(e, dest) from None
                failures.append(str(e))
        if dest.is_dir() and dest not in roots:
            roots.append(dest)
    return roots, fetched, failures


def _snapshot(repo: str, *, revision, cache_dir, token, split) -> Path:
    import huggingface_hub
    from huggingface_hub.utils import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        folder = Path(huggingface_hub.snapshot_download(
            repo_id=repo,
            repo_type="dataset",
            revision=revision,
            cache_dir=cache_dir,
            token=token,
            allow_patterns=[f"*{split}*"] if split else None,
        ))
        if split and not (folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))):
            files = huggingface_hub.list_repo_files(repo, repo_type="dataset", revision=revision, token=token)
            raise InputError(f"{repo}: no file of split {split!r} on the Hugging Face Hub; it has "
                             f"{', '.join(f for f in files if not f.startswith('.') and f != 'README.md') or 'none'}")
    except GatedRepoError:
        raise InputError(f"{repo}: access on the Hugging Face Hub is restricted; log in or pass a token") from None
    except RepositoryNotFoundError:
        raise InputError(f"{repo}: not found on the Hugging Face Hub (or not visible with this token)") from None
    except RevisionNotFoundError:
        raise InputError(f"{repo}: the Hugging Face Hub has no revision {revision!r}") from None
    except _network_errors() as e:
        if disk_full(e):  # not the network: the Hub's cache is full
            raise named(e, cache_dir or huggingface_hub.constants.HF_HUB_CACHE) from e
        raise InputError(f"could not reach the Hugging Face Hub to download {repo} ({type(e).__name__}: "
                         f"{_one_line(e)}); download on a machine with network and use `rewardmap data import`"
                         ) from None
    return folder


def _network_errors() -> tuple[type[BaseException], ...]:
    """Connection failures: OSError covers requests-based hubs and offline lookups
    (LocalEntryNotFoundError); httpx-based hubs (>= 1.0) raise their own HTTPError too."""
    try:
        from huggingface_hub.errors import HTTPError
    except ImportError:
        return (OSError,)
    return (OSError, HTTPError)


# --------------------------------------------------------------------------- GitHub, through git


def _git_fetch_files(source: Published, folder: str, paths: list[str], dest: Path) -> int:
    """Check `paths` (all under `folder`) out of `source` and move them into `dest`; returns
    how many the repository has. The fetch is shallow and leaves file contents out until the
    checkout asks for them, so only these files cross the network."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=dest.parent) as scratch:  # same disk: renames
        git = _Git(f"{folder}/ from {source.url}", scratch)
        git("init", "--quiet")
        git("fetch", "--quiet", "--depth=1", "--filter=blob:none", source.url, source.commit)
        listing = git("ls-tree", "-r", "-z", "FETCH_HEAD", "--", folder)
        files = {entry.split("\t", 1)[1] for entry in listing.split("\0")
                 if entry and entry.split(" ", 1)[0] in _FILE_MODES}
        present = [p for p in paths if p in files]
        if present:
            git("checkout", "FETCH_HEAD", "--", *present)
        for relative in present:
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(Path(scratch) / relative, dest / relative)
    return len(present)


class _Git:
    """git in one scratch repository; a failure is one InputError naming what was being fetched."""

    def __init__(self, what: str, scratch: str):
        self.what = what
        # A wrong URL must fail rather than ask for a password, and a stalled transfer fail
        # rather than hang (git has no time limit of its own).
        self.env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        self.command = ["git", "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60",
                        "-c", "core.autocrlf=false",  # the files byte for byte as published
                        "--literal-pathspecs", "-C", scratch]

    def __call__(self, *args: str) -> str:
        try:
            done = subprocess.run([*self.command, *args], env=self.env, capture_output=True, text=True)
        except FileNotFoundError:
            raise InputError(f"could not fetch {self.what}: git is not installed") from None
        if done.returncode:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith(("fatal:", "error:"))]  # not the advice after
            reason = (errors or lines or [f"exit status {done.returncode}"])[0]
            raise InputError(f"could not fetch {self.what} (git {args[0]}: {_one_line(reason)})")
        return done.stdout


# --------------------------------------------------------------------------- what is still missing


def _published_path(value: str) -> str | None:
    """`./maps/italy/rome.png` -> `maps/italy/rome.png`; None for a path outside `PUBLISHED`."""
    path = PurePosixPath(value.strip())
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2 or path.parts[0] not in PUBLISHED:
        return None
    return path.as_posix()


def _records_lacking_files(out: Path, missing: dict[str, list[str]]) -> int:
    """Records of the imported `out` whose map or station file is not a file under `out`."""
    unresolved = {name: set(paths) for name, paths in missing.items()}
    lacking = 0
    for _, record in read_jsonl_fields(out / "questions.jsonl", ("figure", "json")):
        for name, value in record.items():
            if not isinstance(value, str) or value in unresolved.get(name, ()) or not is_file(out / value):
                lacking += 1
                break
    return lacking


def _how_to_fix(paths: set[str], command: str) -> str:
    """What to fetch, from where, where to put it and what to run then, in one line."""
    folders = sorted({p.split("/")[0] for p in map(_published_path, paths) if p is not None})
    what = " and ".join(f"{folder}/ from {PUBLISHED[folder]}" for folder in folders)
    first = min(paths)
    example = _published_path(first) or PurePosixPath(first.strip()).as_posix().lstrip("/")
    shown = ", ".join(sorted(paths)[:3]) + (", ..." if len(paths) > 3 else "")
    return (f"{f'copy {what}' if what else 'put the files'} into a folder DIR, keeping their paths "
            f"(DIR/{example}; missing: {shown}), then run: {command}")


def _rerun(repo: str, out: Path, split, revision, search_dirs, strict: bool, overwrite: bool) -> str:
    """The `rewardmap data download` command that imports again with the files in DIR."""
    name = next(key for key, value in REPOS.items() if value == repo)
    args = ["rewardmap", "data", "download", name, "--out", str(out)]
    args += ["--split", split] if split else []
    args += ["--revision", revision] if revision else []
    for folder in search_dirs:
        args += ["--search-dir", str(folder)]
    args += ["--search-dir", "DIR"] + (["--strict"] if strict else []) + (["--overwrite"] if overwrite else [])
    return shlex.join(args)


def _because(failures: list[str]) -> str:
    return f" ({'; '.join(failures)})" if failures else ""


def _files_cache(files_cache) -> Path:
    if files_cache is not None:
        return Path(files_cache)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rewardmap" / "published"


def _one_line(error) -> str:
    return " ".join(str(error).split())[:200]
