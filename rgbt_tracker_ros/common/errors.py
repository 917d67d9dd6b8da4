"""Errors the package raises for bad input or a failed job, so callers can tell them from bugs."""


class InputError(ValueError):
    """An image, box, file or parameter given to the package is unusable; the message says why."""


class JobFailed(RuntimeError):
    """A job ran on good input and did not succeed (a node that died, a parity check that failed):
    commands report it in one line and exit 1."""
