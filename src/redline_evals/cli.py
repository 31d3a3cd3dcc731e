"""The `redline-evals` command: `build` the sandbox images, `doctor` the machine, `report` on
logs, `validity` of the scorers (every reference and control)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__, doctor, images

_EPILOG = """\
environment:
  REDLINE_BASE_SOURCE   auto (default) | debootstrap | registry: how the base image is built
  REDLINE_DEBIAN_MIRROR Debian mirror for debootstrap (default http://deb.debian.org/debian)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "build":
        return _build(parser, args.images, args.force)
    if args.command == "doctor":
        return _doctor()
    if args.command == "report":
        return _report(args.subparser, args.logs, args.out, args.pass_at, args.strict)
    if args.command == "validity":
        from . import validity

        return validity.main(args.family, args.epochs, args.log_dir, args.out, args.max_sandboxes)
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redline-evals",
        description="Build and check the sandboxes of redline-evals; compare models from logs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"redline-evals {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="build the sandbox images (offline, skips what is up to date)",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help="images to build, full or short names: "
        + ", ".join(spec.short_name for spec in images.IMAGES)
        + " (default: all; parents are built when needed)",
    )
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    commands.add_parser("doctor", help="check Docker, Compose and the images; say how to fix")
    report = commands.add_parser(
        "report",
        help="compare models and tasks from Inspect logs: report.md, success.png, report.html",
        description="Read Inspect logs of redline-evals tasks (files or folders, recursively) "
        "and write a comparison across models and tasks.",
    )
    report.set_defaults(subparser=report)
    report.add_argument("logs", nargs="+", metavar="LOG", help="log files or folders")
    report.add_argument(
        "--out", type=Path, default=Path("report"), help="output folder (default: ./report)"
    )
    report.add_argument(
        "--pass-at",
        type=int,
        nargs="+",
        default=[1, 10],
        metavar="K",
        help="k of pass@k (default: 1 10)",
    )
    report.add_argument(
        "--strict", action="store_true", help="fail (exit 1) if any log had to be skipped"
    )
    validity = commands.add_parser(
        "validity",
        help="replay every reference and control; tabulate false positives and negatives",
        description="Run each family's reference (every variant), the idle model and every "
        "control of tasks/<family>/controls against Docker, and print (or write into --out, "
        "between its validity markers, keeping the rows of families not run) the table of false "
        "negatives and false positives.",
    )
    validity.add_argument(
        "--family", nargs="+", metavar="FAMILY", help="task families (default: all)"
    )
    validity.add_argument(
        "--epochs", type=int, default=5, help="epochs of each reference (default: 5)"
    )
    validity.add_argument(
        "--log-dir", type=Path, default=Path("logs/validity"), help="(default: logs/validity)"
    )
    validity.add_argument("--out", type=Path, help="markdown file to write the table into")
    validity.add_argument("--max-sandboxes", type=int, help="sandboxes at once (Inspect's)")
    return parser


def _build(parser: argparse.ArgumentParser, names: list[str], force: bool) -> int:
    try:
        for name in names:
            images.get_spec(name)
        images.requested_base_source()
    except (KeyError, ValueError) as error:
        parser.error(str(error).strip("'\""))
    start = time.monotonic()
    try:
        results = images.ensure_images(names or None, force=force, progress=_say)
    except images.ImageBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _print_summary(results, time.monotonic() - start)
    stale = [status.name for status in images.image_status() if not status.up_to_date]
    if stale:
        print(f"now out of date: {', '.join(stale)}; run: redline-evals build")
    return 0


def _print_summary(results: Sequence[images.ImageResult], seconds: float) -> None:
    width = max(len(result.name) for result in results)
    print()
    print(f"{'image':<{width}}  {'result':<7}  {'size':>7}  {'time':>7}  how")
    for r in results:
        size = f"{r.size_bytes / 1e6:.0f} MB"
        print(f"{r.name:<{width}}  {r.action:<7}  {size:>7}  {r.seconds:>5.1f} s  {r.detail}")
    print(f"total {seconds:.1f} s")


def _doctor() -> int:
    checks = doctor.run_checks()
    for check in checks:
        mark = "ok" if check.ok else ("FAIL" if check.blocking else "warn")
        print(f"[{mark}]{' ' * (5 - len(mark))}{check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"        fix: {check.fix}")
    blocked = [check for check in checks if not check.ok and check.blocking]
    if blocked:
        print(f"\n{len(blocked)} problem(s) block running tasks.")
        return 1
    print("\nready: tasks can run.")
    return 0


def _report(
    parser: argparse.ArgumentParser, logs: list[str], out: Path, ks: list[int], strict: bool
) -> int:
    from .reporting import NoUsableLogs, write_report  # matplotlib loads only for `report`

    if any(k < 1 for k in ks):
        parser.error("--pass-at: k must be at least 1")
    try:
        report = write_report(logs, out, ks=sorted(set(ks)))
    except FileNotFoundError as error:
        parser.error(str(error))
    except NoUsableLogs as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for skipped in report.logs.skipped:
        print(f"warning: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    for note in report.logs.notes:
        print(f"note: {note}", file=sys.stderr)
    print(report.tables[0].markdown())
    print(f"\nwrote {report.markdown}, {report.png}, {report.html}")
    if strict and report.logs.skipped:
        print(f"error: {len(report.logs.skipped)} log(s) skipped (--strict)", file=sys.stderr)
        return 1
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
