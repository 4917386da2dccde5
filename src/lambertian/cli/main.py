"""Entry point of the ``lambertian`` command.

Each command lives in its own module ``lambertian.cli.<name>`` exposing
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Command modules import heavy libraries (torch, cv2) inside their functions so that
``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from lambertian import __version__
from lambertian.core.errors import InputError, InputWarning

# Order is the order shown by --help.
COMMANDS = ("demo", "ps", "calibrate", "lights", "light", "fit", "integrate", "relight",
            "spheres", "train_light", "train_ps_net", "batch", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)
            warnings.showwarning = _one_line_warning
            return int(args.func(args) or 0)
    except InputError as err:
        print(f"lambertian {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lambertian {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings about the input (:class:`InputWarning`) as one ``warning:`` line; others
    as Python prints them."""
    if issubclass(category, InputWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line),
              file=sys.stderr, end="")


if __name__ == "__main__":
    sys.exit(main())
