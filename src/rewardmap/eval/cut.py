"""Keeping a model's text within bounds where it is stored or shown.

A model (or a server) can answer with megabytes. The text is scored whole; what the files
and the report keep of it is its head and its tail (where the answer is), with the middle
left out and named.
"""

from __future__ import annotations

KEPT_CHARS = 1 << 18  # per text in responses.jsonl: far beyond any real answer (2,048 tokens are ~10k)
SHOWN_CHARS = 4000  # per text in the report


def cut_middle(text: str, limit: int) -> str:
    """TEXT itself when it has at most LIMIT characters, else its first and last LIMIT // 2
    with a note of how many characters were left out between them.

    >>> cut_middle("abcdefghij", 4)
    'ab\\n[... 6 characters left out ...]\\nij'
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half:,} characters left out ...]\n{text[len(text) - half:]}"
