"""``chainproof verify IMAGE``: run the check pipeline and print a verdict."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.cli.common import (
    add_format_option,
    add_image_options,
    layer_progress,
    open_options_from_args,
    write_output,
)
from chainproof.cli.trust_options import add_trust_options, trust_flags

if TYPE_CHECKING:
    from chainproof.policy import Policy


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify", help="verify an image: integrity (and more as configured); exit 1 on failure"
    )
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="policy file (chainproof.policy/v1, YAML or JSON) that decides; it replaces the "
        "check flags below, which describe an implicit one-rule policy",
    )
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


def _policy(args: argparse.Namespace) -> Policy:
    """The policy file, or the implicit policy the flags describe (never both)."""
    from chainproof.errors import UsageError
    from chainproof.policy import Policy
    from chainproof.policy.flags import CheckFlags, command_line_policy

    lint = None
    if args.lint_config:
        from chainproof.lint.config import read_mapping

        lint = read_mapping(args.lint_config)
    flags = CheckFlags(
        trust=trust_flags(args),
        vuln_db=args.vuln_db or "",
        vuln_fail_on=args.vuln_fail_on,
        vex=tuple(args.vex),
        ignore_unfixed=args.ignore_unfixed,
        lint=lint,
    )
    if not args.policy:
        return command_line_policy(flags)
    conflicts = flags.conflicts()
    if conflicts:
        raise UsageError(
            f"--policy cannot be combined with {', '.join(conflicts)}: the policy file says "
            "what to check (a silent merge would make neither authoritative)"
        )
    return Policy.load(args.policy, database=Path(args.vuln_db) if args.vuln_db else None)


def run(args: argparse.Namespace) -> int:
    from chainproof.pipeline.registry import parse_families
    from chainproof.pipeline.run import verify_image
    from chainproof.report import text as render

    # Bad keys, roots, trust policies or a bad policy file are bad input (exit 2), before I/O.
    policy = _policy(args)
    families = parse_families(args.checks) if args.checks else None
    with layer_progress(not args.no_progress) as progress:
        verdict = verify_image(
            args.image,
            open_options_from_args(args),
            policy=policy,
            families=families,
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
