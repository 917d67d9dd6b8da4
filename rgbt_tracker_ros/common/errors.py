"""Errors the package raises for bad input, so callers can tell them from bugs."""


class InputError(ValueError):
    """An image, box, file or parameter given to the package is unusable; the message says why."""
