"""What the subcommand modules share: their `--json` output streams, and running one on its own."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Callable, ContextManager, TextIO


def json_output(as_json: bool) -> tuple[TextIO, TextIO, ContextManager]:
    """(stdout, human, redirect) of a command with --json: with it, the human text goes to stderr and,
    inside `with redirect:`, anything else printing to stdout (a library, a tracker) is sent to
    stderr, so that stdout holds the JSON alone. Without it, everything stays on stdout."""
    stdout = sys.stdout
    if not as_json:
        return stdout, stdout, contextlib.nullcontext()
    return stdout, sys.stderr, contextlib.redirect_stdout(sys.stderr)


def standalone_main(name: str, doc: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                    run: Callable[[argparse.Namespace], int], argv: list[str] | None = None) -> int:
    """A subcommand's `main(argv)` (`python -m` its module, tests): a parser of its own, named
    `rgbt-tracker NAME` and described by the first line of doc (the module's docstring), then run."""
    parser = argparse.ArgumentParser(prog=f"rgbt-tracker {name}", description=doc.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
