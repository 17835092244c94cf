"""``chainproof scan IMAGE | --sbom FILE``: match an image or an SBOM against the advisory database.

``scan IMAGE`` builds the SBOM in memory with the same catalogers as ``chainproof sbom`` and
matches it exactly as ``scan --sbom`` matches that SBOM written to a file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import Severity
from chainproof.cli.common import add_image_options, layer_progress, open_options_from_args
from chainproof.cli.db_cmd import add_db_option
from chainproof.errors import UsageError
from chainproof.vuln.paths import default_path

if TYPE_CHECKING:
    from chainproof.vuln.matcher import MatchResult


def register(subparsers: Any) -> None:
    scan = subparsers.add_parser(
        "scan",
        help="find known vulnerabilities in an image or an SBOM (CycloneDX or SPDX JSON)",
        description="Match an image (cataloged in memory) or an SBOM file against the local "
        "advisory database. Give IMAGE or --sbom FILE, not both.",
    )
    scan.add_argument("image", nargs="?", metavar="IMAGE", help="image reference to catalog")
    scan.add_argument(
        "--sbom",
        type=Path,
        default=None,
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
    add_image_options(scan)
    scan.set_defaults(handler=run)


def _render(result: MatchResult, target: str, fmt: str) -> str:
    from chainproof.vuln import report

    if fmt == "json":
        return report.render_json(result, target) + "\n"
    if fmt == "sarif":
        return report.render_sarif(result, target) + "\n"
    if fmt == "cyclonedx":
        return report.render_cyclonedx(result, target) + "\n"
    return report.render_table(result, target)


def run(args: argparse.Namespace) -> int:
    from chainproof.vuln.scan import at_or_above, scan_components, scan_image
    from chainproof.vuln.vex import read_vex

    if (args.image is None) == (args.sbom is None):
        raise UsageError("give an IMAGE or --sbom FILE (exactly one)")
    statements = [s for path in args.vex for s in read_vex(path)]
    db_path = args.db if args.db is not None else default_path()
    if args.sbom is not None:
        from chainproof.vuln.sbom_input import read_sbom

        result = scan_components(
            read_sbom(args.sbom), db_path, ignore_unfixed=args.ignore_unfixed, vex=statements
        )
        results = [(str(args.sbom), result)]
    else:
        with layer_progress(True) as progress:
            scans = scan_image(
                args.image,
                db_path,
                open_options_from_args(args),
                ignore_unfixed=args.ignore_unfixed,
                vex=statements,
                progress=progress,
            )
        if len(scans) > 1 and args.format != "table":
            raise UsageError(
                f"several platforms selected: pick one with --platform for --format {args.format}"
            )
        results = [(s.target, s.result) for s in scans]
    sys.stdout.write("\n".join(_render(r, target, args.format) for target, r in results))
    if args.fail_on and any(at_or_above(r, Severity(args.fail_on)) for _, r in results):
        return 1
    return 0
