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


def shown(value, limit: int = 60) -> str:
    """VALUE as an error message quotes it: its repr, at most LIMIT characters, and a JSON
    null as `null` (records are JSON: "None" would name nothing the user wrote)."""
    text = "null" if value is None else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_choice(name: str, value, choices, error: type[Exception] = InputError):
    """VALUE when it is one of CHOICES, else ERROR (an InputError by default) saying so in one
    wording everywhere: `--variant: expected one of reference, robust; got 'x'`."""
    if value not in choices:
        raise error(f"{name}: expected one of {', '.join(choices)}; got {value!r}")
    return value
