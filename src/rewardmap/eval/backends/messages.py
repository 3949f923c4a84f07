"""The messages of an API request: one user turn holding the map, as a base64 data URL, then
the question text; and the request's JSON, built without scanning the map's megabytes."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from ...errors import InputError

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
         ".gif": "image/gif"}


def image_data_url(path: str | os.PathLike) -> str:
    """`data:image/png;base64,...` of a map image; the last 32 are cached, since every
    question about a map sends it again."""
    return _data_url(str(path))


@lru_cache(maxsize=32)  # a benchmark's maps (ReasonMap has 30 cities), a megabyte or two each
def _data_url(path: str) -> str:
    mime = _MIME.get(Path(path).suffix.lower(), "image/png")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the map image ({e.strerror or e})") from None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def user_turn(image: str | os.PathLike, text: str) -> list[dict]:
    """One user message: the image, then the question (the order training uses)."""
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_data_url(image)}},
                                         {"type": "text", "text": text}]}]


def request_body(payload: Mapping) -> bytes:
    """The JSON of a request, with each data URL spliced in as bytes.

    A map is a megabyte of base64, which needs no JSON escaping; `json.dumps` would spend
    milliseconds per request scanning it for characters to escape, and that, not the
    network, is what capped throughput at high concurrency.

    >>> request_body({"messages": [{"content": [{"image_url": {"url": "data:a;base64,QQ=="}}]}]})
    b'{"messages": [{"content": [{"image_url": {"url": "data:a;base64,QQ=="}}]}]}'
    """
    urls: list[bytes] = []

    def placeholder(part):
        url = part.get("image_url", {}).get("url") if isinstance(part, dict) and isinstance(
            part.get("image_url"), dict) else None
        raw = _spliceable(url) if isinstance(url, str) else None
        if raw is None:
            return part
        urls.append(raw)
        return {**part, "image_url": {**part["image_url"], "url": f"{nonce}{len(urls) - 1}"}}

    nonce = f"rewardmap-{os.urandom(6).hex()}-"
    messages = [{**m, "content": [placeholder(p) for p in m["content"]]}
                if isinstance(m, dict) and isinstance(m.get("content"), list) else m
                for m in payload.get("messages", ())]
    text = json.dumps({**payload, "messages": messages} if "messages" in payload else dict(payload))
    if not urls:
        return text.encode("ascii")
    pieces = text.split(f'"{nonce}')
    out = [pieces[0].encode("ascii")]
    for piece in pieces[1:]:
        index, rest = piece.split('"', 1)
        out += [b'"', urls[int(index)], b'"', rest.encode("ascii")]
    return b"".join(out)


_URL_SAFE = re.compile(r"data:[\w.+/-]+;base64,[A-Za-z0-9+/]*={0,2}")


@lru_cache(maxsize=32)
def _spliceable(url: str) -> bytes | None:
    """The bytes of a base64 data URL, None for any other URL (left to `json.dumps`).
    Keyed by the very string `image_data_url` caches, whose hash Python keeps."""
    return url.encode("ascii") if url.startswith("data:") and _URL_SAFE.fullmatch(url) else None

