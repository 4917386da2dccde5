"""Many captures as one task graph on dask.distributed.

Each capture folder under a root is one task: read, solve, write into a temporary
folder beside the final one, then rename it into place (``os.replace`` of a folder is
atomic on one file system), so an output folder is either complete or absent. A rerun
skips captures whose output folder exists; a capture that fails is reported with its
error and the others go on; a worker that dies has its tasks rerun elsewhere by the
scheduler. The default scheduler is a LocalCluster on the loopback interface.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambertian.core.errors import InputError

SUMMARY_COLUMNS = ("capture", "status", "mean_deg", "median_deg", "seconds", "error")

# Environment of the local cluster's worker processes, on top of Dask's own (which pins
# BLAS/OpenMP to one thread and sets MALLOC_TRIM_THRESHOLD_=65536). A capture allocates
# a few arrays of hundreds of MB; with glibc's defaults each one is a fresh mmap whose
# pages fault in and are zeroed again for every capture, which made a worker 25% slower
# than a plain process (benchmarks/bench_scale.py). Keeping large blocks in the heap lets
# the next capture reuse them; a worker then holds its peak capture's memory.
WORKER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": 1 << 30, "MALLOC_TRIM_THRESHOLD_": 1 << 30}


def local_cluster(workers: int = 2) -> Any:
    """A LocalCluster of ``workers`` single-threaded processes on 127.0.0.1, with
    :data:`WORKER_MALLOC_ENV`."""
    import dask
    from distributed import LocalCluster

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    env.update(WORKER_MALLOC_ENV)
    # Dask's own warnings (a task cancelled by Ctrl-C, ...) are not the user's business;
    # errors still print
    env["DASK_LOGGING__DISTRIBUTED"] = "error"
    # The workers start with Ctrl-C ignored (a process inherits an ignored SIGINT): a
    # terminal sends it to the whole process group, and only the main process should
    # answer it (by shutting the cluster down); each worker would print its traceback.
    ignored = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignored else None
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                host="127.0.0.1", dashboard_address=None)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, previous)


# Each local worker is a process that imports torch and holds one capture: more than a
# few per core only adds memory (a --workers typo of 100000 would start processes until
# the machine ran out of memory).
WORKERS_PER_CORE = 4


def max_local_workers() -> int:
    """Most worker processes a local cluster may start: :data:`WORKERS_PER_CORE` per
    core this process may run on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return WORKERS_PER_CORE * max(1, cores)


def find_captures(root: str | os.PathLike[str],
                  skipped: list[tuple[Path, str]] | None = None) -> list[Path]:
    """Capture folders under ``root`` (any layout the readers know), sorted; a capture
    folder's own subfolders are not searched.

    Symbolic links are followed only while they stay inside ``root``, and a folder
    reached twice (a link loop such as ``ROOT/loop -> ..``, or two links to one folder)
    is searched once. Each link not followed is appended to ``skipped`` as
    ``(path, reason)`` when a list is given.
    """
    from lambertian.io import detect_layout

    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "batch root is not a folder")
    real_root = root.resolve()
    found: list[Path] = []
    seen: set[Path] = set()

    def is_capture(folder: Path) -> bool:
        try:
            detect_layout(folder)
        except InputError:
            return False
        return True

    def walk(folder: Path) -> None:
        real = folder.resolve()
        if real in seen:
            if skipped is not None:
                skipped.append((folder, f"already searched as {real} (a link loop or a "
                                        "second link to one folder)"))
            return
        seen.add(real)
        if is_capture(folder):
            found.append(folder)
            return
        try:
            subs = sorted(p for p in folder.iterdir() if p.is_dir() and
                          not p.name.startswith("."))
        except OSError as exc:
            raise InputError(folder, f"cannot list the folder: {exc.strerror or exc}") from None
        for sub in subs:
            if sub.is_symlink() and not sub.resolve().is_relative_to(real_root):
                if skipped is not None:
                    skipped.append((sub, f"a link out of the batch root (to {sub.resolve()})"))
                continue
            walk(sub)

    walk(root)
    return found


# A scheduler that does not answer within this time is reported, not waited on forever.
CONNECT_TIMEOUT_S = 10.0
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss)://)?(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")


def check_address(address: str) -> None:
    """InputError naming ``address`` unless it reads ``[tcp://]HOST:PORT``."""
    if not _ADDRESS.match(address) or not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        # an empty address would leave the line without a name: say the option's
        raise InputError(address or "--scheduler", "not a scheduler address: expected "
                                                   "tcp://HOST:PORT (or 'local' for a cluster "
                                                   "on this machine)")


def connect(address: str, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (``tcp://host:port`` or
    ``host:port``), or InputError naming the address within about ``timeout`` seconds:
    a malformed address, or a scheduler that cannot be reached."""
    from distributed import Client

    check_address(address)
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(address, f"cannot reach the scheduler within {timeout:g} s "
                                  f"({type(exc).__name__})") from None


def check_out_root(out: str | os.PathLike[str], root: str | os.PathLike[str]) -> None:
    """InputError naming ``out`` when it is ``root`` or lies inside it: the outputs would
    be written into the input captures (OUT inside a capture folder), a capture folder
    already at OUT/<capture> would pass for a finished one and be skipped, and each rerun
    would search the outputs for captures."""
    real_out, real_root = Path(out).resolve(), Path(root).resolve()
    if real_out == real_root or real_out.is_relative_to(real_root):
        raise InputError(out, f"--out is inside the batch root {root}, where the outputs "
                              "would be written among the input captures and searched as "
                              "captures on a rerun; choose an --out outside it")


def output_folder(out_root: Path, root: Path, capture: Path) -> Path:
    rel = capture.relative_to(root)
    return out_root / (rel if str(rel) != "." else capture.name)


def _remove_stale_temporaries(dest: Path) -> None:
    """Temporary folders left by a worker that died mid-capture."""
    for stale in dest.parent.glob(f".{dest.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def process_capture(capture: str, out: str, method: str) -> dict[str, Any]:
    """Solve one capture into ``out`` atomically; never raises (runs on a worker)."""
    import torch

    from lambertian.io import read_capture
    from lambertian.io.output_dir import output_folder as atomic_folder
    from lambertian.ps.outputs import solve_capture

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    row: dict[str, Any] = {"capture": capture, "status": "done"}
    try:
        # The one output mechanism of every command; replace=False: a rescheduled twin
        # that finished the same capture first keeps its folder.
        with atomic_folder(out, [capture], replace=False) as tmp:
            cap = read_capture(capture)
            _, summary = solve_capture(cap, method, tmp, source=capture)
        metrics = summary.get("metrics", {})
        row.update(mean_deg=metrics.get("mean"), median_deg=metrics.get("median"))
    except Exception as exc:  # report, do not stop the other captures
        msg = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
        row.update(status="failed", error=" ".join(msg.split()))
    row["seconds"] = time.perf_counter() - t0
    return row


def run_batch(root: str | os.PathLike[str], out: str | os.PathLike[str], *,
              method: str = "ls", scheduler: str = "local", workers: int = 2,
              progress: bool = True, client: Any = None,
              on_result: Callable[[dict[str, Any]], None] | None = None,
              connect_timeout: float = CONNECT_TIMEOUT_S) -> list[dict[str, Any]]:
    """Run photometric stereo on every capture under ``root`` and write ``out/<capture>``.

    Parameters
    ----------
    root : folder searched for captures (see :func:`find_captures`).
    out : output root; ``out/summary.md`` and ``out/summary.json`` are written at the end.
    method : photometric-stereo method for every capture.
    scheduler : ``"local"`` for :func:`local_cluster` with ``workers`` processes, or a
        scheduler address (``tcp://host:8786``) of a running cluster (its workers' own
        environment applies there).
    client : an existing ``distributed.Client`` to use instead (tests, notebooks).
    on_result : called with each capture's row as it completes.
    connect_timeout : seconds to wait for a scheduler ``address`` before the one-line
        error.

    Returns
    -------
    One row per capture, in capture order: status ``done``, ``skipped`` or ``failed``.
    """
    from distributed import Client, as_completed
    from tqdm import tqdm

    root, out = Path(root), Path(out)
    if client is None and scheduler == "local" and not 1 <= workers <= max_local_workers():
        raise InputError("--workers", f"must be between 1 and {max_local_workers()} "
                                      f"({WORKERS_PER_CORE} per core here), got {workers}")
    if client is None and scheduler != "local":
        check_address(scheduler)  # a typo is reported before the search, not after
    check_out_root(out, root)
    skipped: list[tuple[Path, str]] = []
    captures = find_captures(root, skipped)
    if captures == [root] and output_folder(out, root, root).resolve() == root.resolve():
        # ROOT is one capture and OUT its parent: its output folder is the capture itself,
        # which exists, so it would be reported "skipped" with no output written
        raise InputError(out, f"--out: the output of the capture {root} would be the "
                              "capture itself; choose another --out")
    if progress:
        for path, why in skipped:
            print(f"warning: {path}: not searched: {why}", file=sys.stderr)
    if not captures:
        raise InputError(root, "no capture folder found (DiLiGenT, psm, Yale B, CMU or "
                               "images + lights.txt)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"cannot create the output root: {exc.strerror or exc}") from None
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for cap in captures:
        dest = output_folder(out, root, cap)
        if dest.exists():
            rows[str(cap)] = {"capture": str(cap), "status": "skipped", "seconds": 0.0}
        else:
            _remove_stale_temporaries(dest)
            todo.append((cap, dest))
    own_cluster = own_client = None
    if client is None:
        if scheduler == "local":  # no idle processes: at most one per capture to run
            own_cluster = local_cluster(max(1, min(workers, len(todo))))
            own_client = client = Client(own_cluster)
        else:
            own_client = client = connect(scheduler, connect_timeout)
    try:
        futures = {client.submit(process_capture, str(cap), str(dest), method,
                                 key=f"ps-{i}-{uuid.uuid4().hex[:6]}", pure=False): cap
                   for i, (cap, dest) in enumerate(todo)}
        bar = tqdm(total=len(futures), desc="captures", unit="capture", disable=not progress)
        with bar:
            for fut in as_completed(futures):
                row = fut.result()
                rows[row["capture"]] = row
                bar.update(1)
                if on_result:
                    on_result(row)
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
    for _, dest in todo:
        _remove_stale_temporaries(dest)
    ordered = [rows[str(c)] for c in captures]
    write_summary(out, ordered)
    return ordered


def write_summary(out: Path, rows: list[dict[str, Any]]) -> None:
    """out/summary.md (Markdown table) and out/summary.json."""
    from lambertian.io.json_file import write_json
    from lambertian.io.markdown import markdown_table
    from lambertian.io.output_dir import output_file

    with output_file(out / "summary.md") as tmp:
        tmp.write_text(markdown_table(rows, SUMMARY_COLUMNS))
    with output_file(out / "summary.json") as tmp:
        write_json(tmp, rows)
