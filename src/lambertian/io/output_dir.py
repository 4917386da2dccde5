"""Outputs that appear whole or not at all, and never on top of an input.

Every command writes through one of two context managers:

- :func:`output_folder` yields a temporary folder beside OUT (same file system, so the
  final rename is atomic); when the block finishes it becomes OUT, replacing an earlier
  OUT only then. On any exception (a bad input found late, a solver error,
  ``KeyboardInterrupt``) the temporary folder is removed and OUT is left exactly as it
  was: never a mix of a new ``normals.npy`` beside an old ``normal.png``.
- :func:`output_file` does the same for one file (a light JSON, a weights file): it is
  written under a temporary name and ``os.replace``'d into place.

Both first call :func:`check_outputs`, which refuses (one line, exit 2) an OUT that is an
existing file where a folder is wanted (or the reverse), that cannot be created, or that
would write over an input: every input path, resolved, is compared with every output
path, and an input inside an output folder counts too, since that folder is replaced
whole.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lambertian.core.errors import InputError

PathLike = str | os.PathLike[str]

__all__ = ["MARKER", "check_outputs", "output_file", "output_folder", "temporary_sibling"]

# Written into every output folder. An existing OUT is replaced only when it carries this
# file (an earlier output) or is empty: `--out ~/Documents` must not delete a folder of
# the user's own files.
MARKER = ".lambertian-output"
# Summary files that mark a folder written by lambertian before the marker existed.
EARLIER_SUMMARIES = ("ps.json", "lights.json", "integrate.json", "fit.json", "demo.json",
                     "run.json", "sweep.json")


def written_by_lambertian(folder: Path) -> bool:
    """Whether ``folder`` is empty or an earlier output (marker, or an older summary)."""
    if (folder / MARKER).is_file() or not any(folder.iterdir()):
        return True
    return any((folder / name).is_file() for name in EARLIER_SUMMARIES)


def temporary_sibling(final: PathLike, kind: str = "tmp") -> Path:
    """A fresh hidden name beside ``final``: ``.<name>.<kind>-<8 hex><suffix>``.

    The suffix is kept so that writers that choose the format by extension (OpenCV,
    Pillow's GIF writer) still do; the leading dot keeps it out of globs and listings.
    """
    p = Path(final)
    return p.with_name(f".{p.name}.{kind}-{uuid.uuid4().hex[:8]}{p.suffix}")


def _resolved(p: PathLike) -> Path:
    return Path(p).expanduser().resolve()


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_outputs(out: PathLike, inputs: Iterable[PathLike | None] = (), *,
                  folder: bool = True, option: str = "--out") -> Path:
    """Refuse an output that would lose data or cannot be written; return it as a Path.

    Parameters
    ----------
    out : the output folder (``folder=True``) or file.
    inputs : every input path of the command (None entries are ignored).
    folder : whether ``out`` is a folder (replaced whole) or a single file.
    option : the option's name, for the message.

    Raises
    ------
    InputError
        naming ``out`` when it is an input, lies inside an input file's place, holds an
        input (a folder output), is an existing file where a folder is wanted (or a
        folder where a file is wanted), or its parent cannot be created or written.
    """
    out_p = Path(out)
    if not folder and os.fspath(out).endswith(("/", os.sep)):
        # Path() drops the slash: "--out new/" would become a file named "new"
        raise InputError(out, f"{option} ends with a slash, which names a folder; an output "
                              "file is wanted")
    target = _resolved(out_p)
    _check_name_lengths(out_p, target, option)  # before any stat (that raises for them)
    for given in inputs:
        if given is None:
            continue
        src = _resolved(given)
        if src == target:
            raise InputError(out_p, f"{option} is the input {given}: refusing to write over "
                                    "an input; choose another output")
        if folder and _inside(src, target):
            raise InputError(out_p, f"{option} holds the input {given}, and the output folder "
                                    "is replaced whole; choose another output")
    if folder and _inside(Path.cwd().resolve(), target):
        raise InputError(out_p, f"{option} is the current folder or holds it, and the output "
                                "folder is replaced whole; choose another output")
    if folder and out_p.exists() and not out_p.is_dir():
        raise InputError(out_p, f"{option} names an existing file; an output folder is wanted")
    if not folder and out_p.is_dir():
        raise InputError(out_p, f"{option} names a folder; an output file is wanted")
    parent = target.parent
    # The first existing ancestor decides whether the parent can be made and written.
    anc = parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(out_p, f"cannot create the output: {anc} is a file, not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(out_p, f"cannot write the output: no write permission in {anc}")
    return out_p


# What temporary_sibling adds to OUT's name: "." + ".old-" + 8 hex digits (+ the suffix,
# counted with the name itself).
_SIBLING_EXTRA = len("..old-") + 8


def _check_name_lengths(out_p: Path, target: Path, option: str) -> None:
    """InputError when a folder to create, or OUT's temporary sibling, has a name longer
    than the file system takes (else an OSError "File name too long" mid-run)."""
    anc = target.parent
    while not os.path.isdir(anc) and anc != anc.parent:  # os.path: False, not OSError
        anc = anc.parent
    try:
        limit = os.pathconf(anc, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX, or no limit known
        return
    parts = target.relative_to(anc).parts
    for k, part in enumerate(parts):
        extra = _SIBLING_EXTRA + len(os.fsencode(Path(part).suffix)) \
            if k == len(parts) - 1 else 0
        if len(os.fsencode(part)) + extra > limit:
            raise InputError(out_p, f"{option}: the name {part[:40]}... is too long for the "
                                    f"file system ({len(os.fsencode(part))} bytes; at most "
                                    f"{limit - extra} here)")


def _make_parent(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"cannot create the output's folder: {exc.strerror or exc}") \
            from None


@contextmanager
def output_folder(out: PathLike, inputs: Iterable[PathLike | None] = (), *,
                  replace: bool = True, option: str = "--out") -> Iterator[Path]:
    """Write a set of outputs into a temporary folder that becomes ``out`` on success.

    Parameters
    ----------
    out : the final output folder. An existing one is replaced only when
        :func:`written_by_lambertian` says so (else InputError: a folder of the user's
        own files is never emptied).
    inputs : input paths that must not be written over (see :func:`check_outputs`).
    replace : True to replace an existing ``out`` (only once the new set is complete);
        False to keep an existing one and discard the new set (``batch``, where a
        rescheduled twin may have finished the same capture first).
    option : the option's name for messages.

    Yields
    ------
    The temporary folder (empty, created, beside ``out``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with output_folder(root / "out") as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> (root / "out" / "a.txt").read_text()
    'done'
    """
    final = check_outputs(out, inputs, folder=True, option=option)
    if replace and final.is_dir() and not written_by_lambertian(final):
        raise InputError(final, f"{option} is an existing folder that lambertian did not "
                                "write (it would be replaced whole); choose another output "
                                "or empty it")
    _make_parent(final)
    tmp = temporary_sibling(final)
    try:
        tmp.mkdir()
        (tmp / MARKER).write_text("written by lambertian; this folder is replaced whole by "
                                  "the next run that writes here\n")
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(final, f"cannot write the output: {exc.strerror or exc}") from None
    try:
        yield tmp
    except BaseException:  # KeyboardInterrupt too: nothing half-written survives
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _commit_folder(tmp, final, replace)


def _commit_folder(tmp: Path, final: Path, replace: bool) -> None:
    if final.exists() or final.is_symlink():
        if not replace:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        # Move the old set aside first, so that OUT is only ever the old or the new set;
        # if the second rename fails the old set goes back.
        old = temporary_sibling(final, "old")
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
        return
    try:
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def output_file(out: PathLike, inputs: Iterable[PathLike | None] = (), *,
                option: str = "--out") -> Iterator[Path]:
    """Write one file under a temporary name beside ``out``; ``os.replace`` it into place
    when the block finishes, remove it on any exception (``out`` is then unchanged).

    Yields
    ------
    The temporary path (same folder and suffix as ``out``; created empty, to be written
    over by the block).
    """
    final = check_outputs(out, inputs, folder=False, option=option)
    _make_parent(final)
    tmp = temporary_sibling(final)
    try:  # a place that cannot be written is found now, not as the writer's traceback
        tmp.touch(exist_ok=False)
    except OSError as exc:
        raise InputError(final, f"cannot write the output: {exc.strerror or exc}") from None
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_together(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each finished temporary (file or folder) onto its final path, all or none.

    An existing final path is moved aside first and deleted only once every rename has
    succeeded; if one rename fails, the ones done are undone (the new outputs go back to
    their temporary names, the old ones back in place), so a failed run leaves every
    earlier output as it was.
    """
    done: list[tuple[Path, Path, Path | None]] = []  # in the order renamed
    try:
        for tmp, final in pairs:
            old = None
            if final.exists() or final.is_symlink():
                old = temporary_sibling(final, "old")
                os.replace(final, old)
            try:
                os.replace(tmp, final)
            except BaseException:
                if old is not None:
                    os.replace(old, final)
                raise
            done.append((tmp, final, old))
    except BaseException:
        for tmp, final, old in reversed(done):
            os.replace(final, tmp)  # the caller removes the temporaries
            if old is not None:
                os.replace(old, final)
        raise
    for _, _, old in done:
        if old is not None:
            remove_path(old)


def remove_path(path: Path) -> None:
    """Remove a temporary file or folder, if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
