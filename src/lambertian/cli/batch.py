"""``lambertian batch ps ROOT``: every capture under a folder, on dask.distributed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from lambertian.ps import DEFAULT_METHOD, METHODS

    p = sub.add_parser("batch", help="run a command on every capture under a folder (Dask)",
                       description="Runs photometric stereo on every capture folder under "
                                   "ROOT as a task graph on dask.distributed. Each capture's "
                                   "outputs appear atomically in OUT/<capture>; a rerun skips "
                                   "finished captures; failures are reported, not fatal. "
                                   "Writes OUT/summary.md and OUT/summary.json.")
    p.add_argument("job", choices=("ps",), help="what to run on each capture")
    p.add_argument("root", type=Path, metavar="ROOT", help="folder holding capture folders")
    p.add_argument("--out", type=Path, required=True, help="output root")
    p.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                   help=f"photometric-stereo method (default: {DEFAULT_METHOD}, as for "
                        "lambertian ps)")
    p.add_argument("--scheduler", default="local",
                   help="'local' (a LocalCluster on 127.0.0.1, the default) or a scheduler "
                        "address such as tcp://10.0.0.5:8786")
    p.add_argument("--workers", type=int, default=2,
                   help="worker processes of the local cluster (default 2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from lambertian.core.errors import InputError
    from lambertian.io.markdown import markdown_table
    from lambertian.io.output_dir import check_outputs
    from lambertian.scale.batch import SUMMARY_COLUMNS, run_batch

    # Dask's warnings (a worker killed at shutdown after Ctrl-C, ...) are not the user's:
    # the command prints its own lines; Dask's errors still print
    logging.getLogger("distributed").setLevel(logging.ERROR)

    if args.out.resolve() == args.root.resolve():
        raise InputError(args.out, "output root is the input root; choose another --out")
    # OUT is a root that grows run by run (finished captures are skipped), so it is not
    # replaced whole; each capture's folder is (atomically, by io.output_dir).
    check_outputs(args.out)
    rows = run_batch(args.root, args.out, method=args.method, scheduler=args.scheduler,
                     workers=args.workers)
    print(markdown_table(rows, SUMMARY_COLUMNS), end="")
    failed = sum(r["status"] == "failed" for r in rows)
    print(f"{len(rows)} captures: {sum(r['status'] == 'done' for r in rows)} done, "
          f"{sum(r['status'] == 'skipped' for r in rows)} skipped, {failed} failed; "
          f"summary in {args.out}/summary.md")
    for r in rows:  # each capture's bad input: one line on stderr, as the other commands
        if r["status"] == "failed":
            print(f"lambertian batch ps: error: {r['error']}", file=sys.stderr)
    return 2 if failed else 0
