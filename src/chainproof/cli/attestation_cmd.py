"""``chainproof attestation verify EVIDENCE --format sev-snp|maa|tdx``: offline verification of
confidential-computing evidence (docs/tee.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chainproof.errors import UsageError

if TYPE_CHECKING:
    from chainproof.tee.result import AttestationResult

EVIDENCE_FORMATS = ("sev-snp", "maa", "tdx")
OUTPUT_FORMATS = ("text", "json")


#: A report is 1184 bytes, a TDX quote a few KiB, an MAA token or TDX collateral tens of KiB.
MAX_EVIDENCE_BYTES = 1 << 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "attestation", help="verify confidential-computing attestation evidence offline"
    )
    sub = parser.add_subparsers(dest="attestation_command", metavar="ACTION", required=True)
    p: argparse.ArgumentParser = sub.add_parser(
        "verify",
        help="verify an SEV-SNP report, an Azure Attestation token or a TDX quote",
        description="Verify attestation evidence offline. --format is given twice at most: "
        "once for the evidence (sev-snp, maa, tdx; required) and once for the output "
        "(text, json). Exit 0 verified, 1 the evidence fails verification, 2 bad input.",
    )
    p.add_argument("evidence", metavar="EVIDENCE", help="report, token or quote file")
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        default=[],
        choices=(*EVIDENCE_FORMATS, *OUTPUT_FORMATS),
        help="evidence format (sev-snp, maa, tdx) and/or output format (text, json)",
    )
    p.add_argument(
        "--at",
        metavar="TIME",
        help="verify as of this ISO 8601 time with offset, e.g. 2025-12-16T00:00:00Z "
        "(default: now); for archived evidence whose certificates or token have expired",
    )
    snp = p.add_argument_group("sev-snp")
    snp.add_argument(
        "--cert",
        metavar="FILE",
        help="sev-snp: the VCEK or VLEK certificate (DER or PEM; only the first certificate "
        "is used, the ASK and ARK are chainproof's bundled AMD roots); maa: a pinned signing "
        "certificate instead of --jwks",
    )
    snp.add_argument("--product", choices=("milan", "genoa", "turin"), help="AMD product chain")
    maa = p.add_argument_group("maa")
    maa.add_argument("--jwks", metavar="FILE", help="JWKS saved from the instance's /certs")
    maa.add_argument("--issuer", metavar="URL", help="expected iss (the MAA instance URL)")
    tdx = p.add_argument_group("tdx")
    tdx.add_argument(
        "--collateral", metavar="FILE", help="collateral JSON (dcap-qvl QuoteCollateralV3)"
    )
    tdx.add_argument(
        "--accept-tcb-status",
        action="append",
        default=[],
        metavar="STATUS",
        help="TCB status to accept besides UpToDate (e.g. SWHardeningNeeded); repeatable",
    )
    policy = p.add_argument_group("requirements")
    policy.add_argument("--allow-debug", action="store_true", help="accept a debuggable guest")
    policy.add_argument(
        "--allow-migration-agent",
        action="store_true",
        help="accept a guest a migration agent may be bound to",
    )
    policy.add_argument("--deny-smt", action="store_true", help="refuse a guest that allows SMT")
    policy.add_argument("--expect-measurement", metavar="HEX", help="required launch measurement")
    policy.add_argument(
        "--expect-host-data",
        metavar="HEX",
        help="required host_data prefix (e.g. a CCE policy hash)",
    )
    binding = p.add_argument_group("binding (docs/tee.md)")
    binding.add_argument(
        "--bind-policy-digest", metavar="sha256:HEX", help="digest of the admitting policy"
    )
    binding.add_argument(
        "--bind-image",
        action="append",
        default=[],
        metavar="sha256:HEX",
        help="admitted image digest; repeatable",
    )
    binding.add_argument(
        "--bind-in",
        choices=("host-data", "report-data"),
        help="evidence field that must start with the binding",
    )
    p.set_defaults(handler=run)


def _formats(values: list[str]) -> tuple[str, str]:
    evidence = [v for v in values if v in EVIDENCE_FORMATS]
    output = [v for v in values if v in OUTPUT_FORMATS]
    if len(evidence) != 1:
        raise UsageError(
            "give the evidence format exactly once: --format sev-snp, --format maa or --format tdx"
        )
    if len(output) > 1:
        raise UsageError("give the output format at most once: --format text or --format json")
    return evidence[0], output[0] if output else "text"


def _time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at {value!r}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UsageError(f"--at {value!r}: give a time zone (e.g. a trailing Z for UTC)")
    return moment.astimezone(UTC)


def _hex(value: str | None, option: str) -> bytes | None:
    if value is None:
        return None
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise UsageError(f"{option}: not hex") from None
    if not data:
        raise UsageError(f"{option}: empty")
    return data


def _expectations(args: argparse.Namespace) -> Any:
    from chainproof.tee.binding import ExpectedBinding
    from chainproof.tee.expectations import Expectations

    bound = None
    if args.bind_policy_digest or args.bind_image or args.bind_in:
        if not (args.bind_policy_digest and args.bind_image and args.bind_in):
            raise UsageError(
                "a binding needs --bind-policy-digest, at least one --bind-image and --bind-in"
            )
        bound = ExpectedBinding.of(args.bind_policy_digest, args.bind_image, args.bind_in)
    return Expectations(
        allow_debug=args.allow_debug,
        allow_migration_agent=args.allow_migration_agent,
        deny_smt=args.deny_smt,
        measurement=_hex(args.expect_measurement, "--expect-measurement"),
        host_data=_hex(args.expect_host_data, "--expect-host-data"),
        binding=bound,
    )


def _refuse(args: argparse.Namespace, evidence_format: str, *options: str) -> None:
    given = [o for o in options if getattr(args, o.lstrip("-").replace("-", "_"))]
    if given:
        raise UsageError(f"{', '.join(given)} do(es) not apply to --format {evidence_format}")


def verify(args: argparse.Namespace, evidence_format: str) -> AttestationResult:
    from chainproof._files import read_bounded

    def read_input(path: str, what: str) -> bytes:
        return read_bounded(path, what, MAX_EVIDENCE_BYTES)

    at = _time(args.at)
    expectations = _expectations(args)
    if evidence_format == "sev-snp":
        from chainproof.tee.snp import parse_product, verify_report

        _refuse(args, evidence_format, "--jwks", "--issuer", "--collateral", "--accept-tcb-status")
        if not args.cert:
            raise UsageError("--format sev-snp needs --cert (the VCEK or VLEK certificate)")
        return verify_report(
            read_input(args.evidence, "SEV-SNP report"),
            read_input(args.cert, "certificate"),
            at=at,
            product=parse_product(args.product) if args.product else None,
            expectations=expectations,
        )
    if evidence_format == "maa":
        from chainproof.tee.maa import verify_token

        _refuse(args, evidence_format, "--product", "--collateral", "--accept-tcb-status")
        if not args.issuer:
            raise UsageError("--format maa needs --issuer (the attestation instance URL)")
        return verify_token(
            read_input(args.evidence, "MAA token"),
            issuer=args.issuer,
            at=at,
            jwks=read_input(args.jwks, "JWKS") if args.jwks else None,
            certificate=read_input(args.cert, "certificate") if args.cert else None,
            expectations=expectations,
        )
    from chainproof.tee.tdx import TdxOptions, verify_quote

    _refuse(args, evidence_format, "--cert", "--product", "--jwks", "--issuer")
    if not args.collateral:
        raise UsageError("--format tdx needs --collateral (the quote's collateral JSON)")
    return verify_quote(
        read_input(args.evidence, "TDX quote"),
        read_input(args.collateral, "TDX collateral"),
        at=at,
        expectations=expectations,
        options=TdxOptions(frozenset({"UpToDate", *args.accept_tcb_status})),
    )


def render_text(result: AttestationResult) -> str:
    verdict = "verified" if result.verified else "NOT verified"
    lines = [f"attestation ({result.format}): {verdict} at {result.verified_at}"]
    lines += [f"  {'ok  ' if f.passed else 'FAIL'} {f.name}: {f.message}" for f in result.findings]
    for key in ("product", "measurement", "host_data", "report_data", "chip_id", "tcb_status"):
        value = result.claims.get(key)
        if value is not None:
            lines.append(f"  {key:<12} {value}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    evidence_format, output_format = _formats(args.formats)
    result = verify(args, evidence_format)
    if output_format == "json":
        json.dump(result.to_json(), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(result))
    return 0 if result.verified else 1
