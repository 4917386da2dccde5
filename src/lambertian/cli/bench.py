"""``lambertian bench``: every method on the real data, as a Markdown table."""

from __future__ import annotations

import argparse
from pathlib import Path

SUITES = ("ps", "lights", "integrate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark every method on the real data (Markdown table)",
                       description="Runs a benchmark suite on the real data sets (found at "
                                   "$LAMBERTIAN_DATA or ../shared/data) and writes a Markdown "
                                   "table to stdout and to --out, plus the rows as JSON.")
    p.add_argument("--suite", choices=SUITES, default="ps", help="which suite (default ps)")
    p.add_argument("--data", type=Path, default=None, help="data root (default: auto)")
    p.add_argument("--out", type=Path, default=None,
                   help="Markdown file to write (default: ./bench_<suite>.md; JSON beside it)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: timings are per core)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from lambertian.cli.common import set_threads, write_json
    from lambertian.core.errors import InputError
    from lambertian.io.data_root import data_root
    from lambertian.io.markdown import markdown_table
    from lambertian.io.output_dir import check_outputs, output_file

    set_threads(args.threads)
    out = args.out or Path(f"bench_{args.suite}.md")
    for o in (out, out.with_suffix(".json")):  # refuse a bad --out before the long run
        check_outputs(o, [args.data], folder=False)
    root = args.data or data_root(strict=True)
    if root is None or not Path(root).is_dir():
        raise InputError(args.data or "data", "real data not found: pass --data or set "
                                              "$LAMBERTIAN_DATA")

    rows = _collect(args.suite, Path(root))
    table = markdown_table(rows)
    # Each file is written under a temporary name and renamed into place when complete.
    with output_file(out) as tmp:
        tmp.write_text(f"<!-- lambertian bench --suite {args.suite} --threads {args.threads} "
                       "-->\n" + table)
    with output_file(out.with_suffix(".json")) as tmp:
        write_json(tmp, rows)
    print(table, end="")
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr, flush=True)
    return 0


def _collect(suite: str, root: Path) -> list[dict]:
    """The rows of one suite, its progress on stderr; InputError naming ``root`` when it
    holds none of the suite's captures (an empty table is no benchmark)."""
    import sys

    from lambertian.core.errors import InputError

    # "skipping <set>" notes wait for the first result: when nothing is found, the one
    # error line says it all (no list of every set that was not there)
    skipped: list[str] = []

    def log(msg: str) -> None:
        if msg.startswith("skipping "):
            skipped.append(msg)
            return
        for m in [*skipped, msg]:
            print(m, file=sys.stderr, flush=True)
        skipped.clear()

    rows = _rows(suite, root, log)
    if not rows:
        raise InputError(root, f"no captures found for the {suite} suite")
    for m in skipped:
        print(m, file=sys.stderr, flush=True)
    return rows


def _rows(suite: str, root: Path, log) -> list[dict]:
    """The rows of one benchmark suite on the data under ``root``."""
    if suite == "ps":
        from lambertian.bench.ps import ps_suite

        return ps_suite(root, log=log)
    if suite == "integrate":
        from lambertian.bench.integrate import integrate_suite

        return integrate_suite(root, log=log)
    from lambertian.bench.lights import lights_suite

    return lights_suite(root)
