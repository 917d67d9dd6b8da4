"""What every subcommand shares: its error epilogue, its `--json` streams and running it on its own."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Callable, ContextManager, TextIO

from rgbt_tracker_ros.common.errors import InputError, JobFailed

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def guarded(name: str, body: Callable[[], int | None]) -> int:
    """Run a command body; bad input (InputError, an unreadable or unwritable file) is one line on
    stderr and exit 2, a failed job (JobFailed) one line and exit 1, Ctrl-C exit 130."""
    try:
        return int(body() or 0)
    except InputError as exc:
        print(f"rgbt-tracker {name}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"rgbt-tracker {name}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except JobFailed as exc:
        print(f"rgbt-tracker {name}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"\nrgbt-tracker {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    """--threads and --providers of the commands that run the student through ONNX Runtime."""
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (default %(default)s)")
    parser.add_argument("--providers", default="tensorrt,cuda,cpu", metavar="LIST",
                        help="execution providers in priority order (default %(default)s)")


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
