"""Entry point of the ``lambertian`` command.

Each command lives in its own module ``lambertian.cli.<name>`` exposing
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Command modules import heavy libraries (torch, cv2) inside their functions so that
``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import warnings

from lambertian import __version__
from lambertian.core.errors import InputError, InputWarning

# Order is the order shown by --help.
COMMANDS = ("demo", "ps", "calibrate", "lights", "light", "fit", "integrate", "relight",
            "spheres", "train_light", "train_ps_net", "batch", "bench")


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the option and the problem), exit 2."""

    def error(self, message: str):  # noqa: D102 (argparse's own hook)
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lambertian",
        description="How was this scene lit, and what surface does the light reveal?",
    )
    parser.add_argument("--version", action="version", version=f"lambertian {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"lambertian.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"lambertian.cli.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # SIGTERM (a scheduler's or timeout's stop) unwinds as Ctrl-C does, so that a half-written
    # output folder is removed and earlier outputs stay as they were.
    try:
        previous = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread (an embedding program's worker): leave it
        previous = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)
            warnings.showwarning = _one_line_warning
            return int(args.func(args) or 0)
    except InputError as err:
        print(f"lambertian {args.command}: error: {_escaped(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lambertian {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the last resort: one line, never a traceback
        if os.environ.get("LAMBERTIAN_DEBUG"):
            raise
        text = " ".join(str(err).split())[:300]
        print(f"lambertian {args.command}: error: unexpected {type(err).__name__}: {text} "
              "(set LAMBERTIAN_DEBUG=1 for the traceback, and please report it)",
              file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt


def _escaped(message: object) -> str:
    """The message with line breaks written as ``\\n`` / ``\\r``: a line break in a file
    name must not split the one line."""
    return str(message).replace("\r", "\\r").replace("\n", "\\n")


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Every warning as one ``warning:`` line (those about the input, :class:`InputWarning`,
    without their category)."""
    if issubclass(category, InputWarning):
        print(f"warning: {_escaped(message)}", file=sys.stderr)
    else:  # one line too: where it came from matters to developers, not to users
        print(f"warning: {category.__name__}: {' '.join(str(message).split())}",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
