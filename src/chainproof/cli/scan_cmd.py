"""``chainproof scan --sbom FILE``: match an SBOM against the advisory database."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from chainproof.checks.interface import Severity
from chainproof.cli.db_cmd import add_db_option
from chainproof.vuln.db import default_path


def register(subparsers: Any) -> None:
    scan = subparsers.add_parser(
        "scan", help="find known vulnerabilities in an SBOM (CycloneDX or SPDX JSON)"
    )
    scan.add_argument(
        "--sbom",
        type=Path,
        required=True,
        metavar="FILE",
        help="CycloneDX or SPDX 2.x JSON from chainproof, Trivy or Syft",
    )
    add_db_option(scan)
    scan.add_argument("--format", choices=("table", "json", "sarif", "cyclonedx"), default="table")
    scan.add_argument(
        "--fail-on",
        choices=[str(s) for s in Severity if s is not Severity.INFO],
        default=None,
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above SEVERITY (critical, high, medium, low)",
    )
    scan.add_argument(
        "--ignore-unfixed", action="store_true", help="leave out findings with no known fix"
    )
    scan.add_argument(
        "--vex",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="OpenVEX / CycloneDX VEX document or attestation (repeatable)",
    )
    scan.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from chainproof.vuln import report
    from chainproof.vuln.sbom_input import read_sbom
    from chainproof.vuln.scan import at_or_above, scan_components
    from chainproof.vuln.vex import read_vex

    components = read_sbom(args.sbom)
    statements = [s for path in args.vex for s in read_vex(path)]
    db_path = args.db if args.db is not None else default_path()
    result = scan_components(
        components, db_path, ignore_unfixed=args.ignore_unfixed, vex=statements
    )
    target = str(args.sbom)
    if args.format == "json":
        print(report.render_json(result, target))
    elif args.format == "sarif":
        print(report.render_sarif(result, target))
    elif args.format == "cyclonedx":
        print(report.render_cyclonedx(result, target))
    else:
        print(report.render_table(result, target), end="")
    if args.fail_on and at_or_above(result, Severity(args.fail_on)):
        return 1
    return 0
