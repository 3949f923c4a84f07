"""Download an official dataset from the Hugging Face Hub, then import it.

Why a module of its own: the Hub is the only network access in the data path. Keeping it
here lets everything else (and every test) run offline, and turns the many ways a download
fails into one line that says what to do instead: download where there is network, then
`rewardmap data import` the folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from .importer import ImportSummary, import_dataset
from .output import check_out

REPOS = {
    "reasonmap": "FSCCS/ReasonMap",
    "reasonmap-plus": "FSCCS/ReasonMap-Plus",
    "reasonmap-train": "FSCCS/ReasonMap-Train",
}


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
) -> ImportSummary:
    """Fetch dataset `name` (see `REPOS`) with `huggingface_hub.snapshot_download` and import
    it into `out` with `import_dataset` (which documents `split`, `strict`, `overwrite`,
    `search_dirs` and `progress`). With `split`, only files whose path contains that name are
    downloaded (ReasonMap's train file alone is about 5 GB).

    ReasonMap-Plus and ReasonMap-Train refer to `./maps/...` and `./stations/...` files that
    are not part of the Hub datasets; pass a folder holding them in `search_dirs`.
    """
    import huggingface_hub
    from huggingface_hub.utils import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo = repo_id(name)
    check_out(Path(out), overwrite)  # before a download that can take an hour
    try:
        folder = huggingface_hub.snapshot_download(
            repo_id=repo,
            repo_type="dataset",
            revision=revision,
            cache_dir=cache_dir,
            token=token,
            allow_patterns=[f"*{split}*"] if split else None,
        )
    except GatedRepoError:
        raise InputError(f"{repo}: access on the Hugging Face Hub is restricted; log in or pass a token") from None
    except RepositoryNotFoundError:
        raise InputError(f"{repo}: not found on the Hugging Face Hub (or not visible with this token)") from None
    except RevisionNotFoundError:
        raise InputError(f"{repo}: the Hugging Face Hub has no revision {revision!r}") from None
    except _network_errors() as e:
        reason = " ".join(str(e).split())[:200]
        raise InputError(f"could not reach the Hugging Face Hub to download {repo} ({type(e).__name__}: {reason}); "
                         "download on a machine with network and use `rewardmap data import`") from None
    return import_dataset(Path(folder), out, split=split, strict=strict, overwrite=overwrite,
                          search_dirs=search_dirs, progress=progress)


def _network_errors() -> tuple[type[BaseException], ...]:
    """Connection failures: OSError covers requests-based hubs and offline lookups
    (LocalEntryNotFoundError); httpx-based hubs (>= 1.0) raise their own HTTPError too."""
    try:
        from huggingface_hub.errors import HTTPError
    except ImportError:
        return (OSError,)
    return (OSError, HTTPError)

