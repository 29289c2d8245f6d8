"""The kinds of error a user can meet.

``UsageError``: the input is wrong (bad flag, unknown env id, malformed YAML...). The CLI prints one
line and exits 2. ``VbotError``: the input was fine but the work failed; exit 1. ``Interrupted``: the
work stopped on Ctrl-C/SIGTERM after saving what it had; exit 130. Each carries a message that says
what to do; none prints a traceback.
"""


class VbotError(Exception):
    """A failure the user can act on; the message says how."""

    exit_code = 1


class UsageError(VbotError):
    """Bad input: unknown names, wrong types, unreadable files. Exit code 2."""

    exit_code = 2


class Interrupted(VbotError):
    """Stopped on request (Ctrl-C, SIGTERM) after saving its state; exit code 130.

    ``result`` is what the action did up to the stop; the CLI prints it like a normal result.
    """

    exit_code = 130

    def __init__(self, message: str, result=None) -> None:
        super().__init__(message)
        self.result = result


def suggest(name: str, valid: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean X?)' when ``name`` is close to one of ``valid``, else ''."""
    import difflib

    close = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""
