"""``chainproof verify IMAGE``: run the check pipeline and print a verdict."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainproof.cli.common import (
    add_format_option,
    add_image_options,
    layer_progress,
    open_options_from_args,
    write_output,
)
from chainproof.cli.trust_options import add_trust_options, trust_options


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify", help="verify an image: integrity (and more as configured); exit 1 on failure"
    )
    parser.add_argument("image", metavar="IMAGE")
    add_image_options(parser)
    add_format_option(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the verdict to FILE")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list passing checks too (text format)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--checks",
        metavar="FAMILY[,FAMILY]",
        help="run only these check families (integrity, signature, attestation, sbom, vuln, "
        "lint); default: all",
    )
    parser.add_argument(
        "--lint-config",
        metavar="FILE",
        help="lint config (TOML) for the lint.* checks; default: fail only on high/critical",
    )
    vulns = parser.add_argument_group("vulnerabilities")
    vulns.add_argument(
        "--vuln-db",
        metavar="PATH",
        help="advisory database (default: the user data dir; skipped if never built)",
    )
    vulns.add_argument(
        "--vuln-fail-on",
        choices=("critical", "high", "medium", "low", "info"),
        default="high",
        help="vulnerability severity that fails the verdict (default: %(default)s)",
    )
    vulns.add_argument("--vex", metavar="FILE", action="append", default=[], help="VEX document")
    vulns.add_argument(
        "--ignore-unfixed", action="store_true", help="drop vulnerabilities with no known fix"
    )
    parser.add_argument(
        "--audit-log",
        metavar="PATH|URL",
        help="append the verdict to this audit log (SQLite path or postgresql:// URL)",
    )
    add_trust_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chainproof.checks.registry import select_checks
    from chainproof.report import verdict as render
    from chainproof.trust.check import trust_inputs
    from chainproof.verify import verify_image

    options: dict[str, Any] = trust_options(args, args.image)
    trust_inputs(options)  # bad keys, roots or policies are bad input (exit 2), before any I/O
    options.update(
        {
            "vuln.db": args.vuln_db or "",
            "vuln.fail_on": args.vuln_fail_on,
            "vuln.vex": list(args.vex),
            "vuln.ignore_unfixed": args.ignore_unfixed,
        }
    )
    if args.lint_config:
        from chainproof.lint.config import load

        options["lint_config"] = load(args.lint_config)
    with layer_progress(not args.no_progress) as progress:
        verdict = verify_image(
            args.image,
            open_options_from_args(args),
            checks=select_checks(args.checks) if args.checks else None,
            options=options,
            progress=progress,
        )
    text = (
        render.to_json(verdict)
        if args.format == "json"
        else render.to_text(verdict, verbose=args.verbose)
    )
    if args.audit_log:
        from chainproof.audit import record_verdict

        # Recorded before printing: a verdict that could not be logged is not reported as
        # if it had been (the error exits 2 and says why).
        entry = record_verdict(args.audit_log, verdict)
        print(f"chainproof: verdict recorded as audit log entry {entry}", file=sys.stderr)
    write_output(text, args.output)
    return 0 if verdict.passed else 1
