"""Verify an Intel TDX quote offline with Phala Network's ``dcap-qvl``.

``dcap-qvl`` (a Rust implementation of Intel's DCAP quote verification, with Python bindings)
checks the quote's ECDSA signature by the attestation key, the QE report and its signature
by the PCK key, the PCK certificate chain to Intel's SGX Root CA (built into dcap-qvl), the
CRLs, and the TCB info and QE identity (each signed by Intel's TCB signing key), at the time
given; it returns the TCB status. chainproof adds the TCB-status policy, the debug attribute
and the relying party's :class:`Expectations`. The collateral (PCK CRLs, TCB info, QE
identity) is supplied as the JSON of ``dcap_qvl.QuoteCollateralV3`` — what Intel's PCS or a
PCCS serves — because nothing is fetched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chainproof._jsonutil import loads_object
from chainproof.errors import MalformedError, UnsupportedError
from chainproof.tee.expectations import Expectations, check_expectations
from chainproof.tee.result import AttestationResult, Finding

MAX_QUOTE_BYTES = 64 * 1024
MAX_COLLATERAL_BYTES = 1 << 20
_COLLATERAL_FIELDS = (
    "pck_crl_issuer_chain",
    "root_ca_crl",
    "pck_crl",
    "tcb_info_issuer_chain",
    "tcb_info",
    "tcb_info_signature",
    "qe_identity_issuer_chain",
    "qe_identity",
    "qe_identity_signature",
)


@dataclass(frozen=True)
class TdxOptions:
    """TCB statuses accepted (Intel's names as dcap-qvl reports them)."""

    accepted_tcb_statuses: frozenset[str] = field(default_factory=lambda: frozenset({"UpToDate"}))


def _library() -> Any:
    try:
        import dcap_qvl
    except ImportError:
        raise UnsupportedError(
            "TDX quotes are verified with dcap-qvl, which is not installed "
            "(pip install 'chainproof[tdx]')"
        ) from None
    return dcap_qvl


def verify_quote(
    quote: bytes,
    collateral: bytes,
    *,
    at: datetime,
    expectations: Expectations | None = None,
    options: TdxOptions | None = None,
) -> AttestationResult:
    dcap_qvl = _library()
    expectations = expectations or Expectations()
    options = options or TdxOptions()
    if len(quote) > MAX_QUOTE_BYTES:
        raise MalformedError(f"TDX quote: {len(quote)} bytes exceeds {MAX_QUOTE_BYTES}")
    try:
        parsed = dcap_qvl.parse_quote(quote)
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"TDX quote: does not parse ({exc})") from None
    if not parsed.is_tdx():
        raise UnsupportedError("the quote is an SGX quote, not a TDX quote")
    document = loads_object(collateral, "TDX collateral", max_bytes=MAX_COLLATERAL_BYTES)
    missing = [name for name in _COLLATERAL_FIELDS if name not in document]
    if missing:
        raise MalformedError(f"TDX collateral: missing {', '.join(missing)}")
    try:
        collateral_object = dcap_qvl.QuoteCollateralV3.from_json(json.dumps(document))
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"TDX collateral: {exc}") from None

    stamp = f"{at:%Y-%m-%dT%H:%M:%SZ}"
    try:
        verified = dcap_qvl.verify(quote, collateral_object, int(at.timestamp()))
    except ValueError as exc:
        return AttestationResult("tdx", (Finding("quote", False, f"dcap-qvl: {exc}"),), {}, stamp)
    report = loads_object(verified.to_json(), "dcap-qvl result")
    findings = [
        Finding(
            "quote",
            True,
            "quote, QE report, PCK chain to Intel's root, CRLs and "
            "TCB collateral verify (dcap-qvl)",
        )
    ]
    status = str(report.get("status"))
    advisories = list(report.get("advisory_ids") or [])
    findings.append(
        Finding(
            "tcb_status",
            status in options.accepted_tcb_statuses,
            f"TCB status {status}"
            + (f" (advisories {', '.join(advisories)})" if advisories else "")
            + (
                ""
                if status in options.accepted_tcb_statuses
                else f"; accepted: {', '.join(sorted(options.accepted_tcb_statuses))}"
            ),
        )
    )
    body = report.get("report") or {}
    td = body.get("TD10") or body.get("TD15")
    if not isinstance(td, dict):
        raise UnsupportedError("TDX quote: dcap-qvl returned no TD report")
    td_attributes = bytes.fromhex(str(td.get("td_attributes", "")))
    # TDATTRIBUTES bit 0 is DEBUG (Intel TDX Module ABI, TD attributes).
    debug = bool(td_attributes[:1] and td_attributes[0] & 1)
    measurement = bytes.fromhex(str(td.get("mr_td", "")))
    config_id = bytes.fromhex(str(td.get("mr_config_id", "")))
    report_data = bytes.fromhex(str(td.get("report_data", "")))
    findings.extend(
        check_expectations(
            expectations,
            debug=debug,
            migration_agent=None,
            smt=None,
            measurement=measurement,
            host_data=config_id,
            report_data=report_data,
        )
    )
    claims = {
        "tcb_status": status,
        "advisory_ids": advisories,
        "measurement": measurement.hex(),
        "host_data": config_id.hex(),
        "report_data": report_data.hex(),
        "td_attributes": td_attributes.hex(),
        "debug": debug,
        "ppid": report.get("ppid"),
        "td_report": td,
    }
    return AttestationResult("tdx", tuple(findings), claims, stamp)
