"""Small helpers shared by the command modules."""

from __future__ import annotations

from lambertian.io.json_file import write_json

__all__ = ["add_encoding_options", "check_seed", "encoding_of", "set_threads", "write_json"]

# Most threads --threads takes: far above any machine's cores, far below what crashes.
MAX_THREADS = 1024


def set_threads(n: int | None) -> None:
    """Set torch's intra-op threads deliberately (1 is often fastest for small work).

    None leaves torch's default; anything below 1 is refused (torch would raise a
    traceback for 0 or a negative count), and so is more than ``MAX_THREADS`` (the
    process crashes when it cannot start that many)."""
    if n is not None and not 1 <= n <= MAX_THREADS:
        from lambertian.core.errors import InputError

        raise InputError("--threads", f"must be between 1 and {MAX_THREADS}, got {n}")
    if n:
        import torch

        torch.set_num_threads(int(n))


# Largest --seed: NumPy's legacy generator takes 32-bit seeds, torch's at most 64 bits, and
# train-ps-net derives each batch's seed as seed * 1_000_003 + i, which must stay below
# 2**64; 32 bits are far more seeds than anyone runs.
MAX_SEED = 2**32 - 1


def check_seed(seed: int, option: str = "--seed") -> int:
    """``seed`` when it is in [0, :data:`MAX_SEED`], else InputError naming ``option``
    (NumPy refuses a negative seed with a traceback, torch one of 64 bits or more)."""
    if not 0 <= seed <= MAX_SEED:
        from lambertian.core.errors import InputError

        raise InputError(option, f"must be between 0 and {MAX_SEED}, got {seed}")
    return seed


def add_encoding_options(p) -> None:
    """--linear / --srgb / --gamma G: how a folder's 8- or 16-bit images encode radiance
    (default: JPEG is sRGB, other files linear; see lambertian.io.camera_files)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--linear", action="store_true",
                   help="trust the files as linear (default: JPEG is read as sRGB and "
                        "linearised, other files are trusted)")
    g.add_argument("--srgb", action="store_true",
                   help="linearise every 8/16-bit image with the sRGB curve")
    g.add_argument("--gamma", type=float, metavar="G",
                   help="linearise every 8/16-bit image as value ** G (1 < G < 3)")


def encoding_of(args) -> str | float:
    """The ``encoding`` of lambertian.io.read_capture chosen by :func:`add_encoding_options`."""
    from lambertian.io.camera_files import check_encoding

    if args.gamma is not None:
        return check_encoding(args.gamma)
    return "linear" if args.linear else "srgb" if args.srgb else "auto"
