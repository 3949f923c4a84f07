"""One error type for bad input, so the CLI can print it as one line and exit non-zero."""


class InputError(ValueError):
    """Bad user input; the message names the file, the record and the field."""


def where(path, record=None, field=None) -> str:
    """`file`, `file:line 3`, `file:line 3: field 'answer'` -- the prefix of every error."""
    parts = [str(path)]
    if record is not None:
        parts[0] += f":{record}"
    if field is not None:
        parts.append(f"field '{field}'")
    return ": ".join(parts)
