"""Verify an AMD SEV-SNP attestation report offline.

Steps, each a :class:`Finding`: the endorsement key's chain to the bundled ARK of the product
(VCEK → ASK → ARK, or VLEK → ASVK → ARK), every certificate valid at ``at``; the report's
signature with that key; the report's signing-key field against the certificate kind; the
product (report CPUID, certificate product name) against the chain; the reported TCB against
the TCB certified in the VCEK/VLEK extensions; chip_id against the VCEK's hwID; then the
guest policy and the relying party's :class:`Expectations`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chainproof.errors import UsageError
from chainproof.tee.amd import (
    EndorsementKeyInfo,
    endorsement_info,
    load_certificates,
    product_roots,
    within_validity,
)
from chainproof.tee.expectations import Expectations, check_expectations
from chainproof.tee.result import AttestationResult, Finding
from chainproof.tee.snp_report import (
    AttestationReport,
    Product,
    SigningKey,
    TcbVersion,
    decode_report_file,
    parse_report,
)

if TYPE_CHECKING:
    from cryptography import x509

PRODUCTS = tuple(p.value.lower() for p in Product)


def parse_product(name: str) -> Product:
    for product in Product:
        if product.value.lower() == name.lower():
            return product
    raise UsageError(f"unknown SEV-SNP product {name!r}; choose from {', '.join(PRODUCTS)}")


def _product_from_certificate(cert: x509.Certificate, info: EndorsementKeyInfo) -> Product | None:
    from cryptography.x509.oid import NameOID

    if info.product_name:
        for product in Product:
            if info.product_name.split("-")[0].lower() == product.value.lower():
                return product
    names = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer = str(names[0].value) if names else ""
    for product in Product:
        if issuer.endswith(product.value):
            return product
    return None


def _verify_chain(
    leaf: x509.Certificate, product: Product, kind: str, at: datetime
) -> list[Finding]:
    from cryptography.exceptions import InvalidSignature

    roots = product_roots(product, kind)
    intermediate_name = "ASK" if kind == "vcek" else "ASVK"
    findings: list[Finding] = []
    steps = (
        (roots.root, roots.root, f"ARK-{product.value} is self-signed"),
        (roots.intermediate, roots.root, f"{intermediate_name} is signed by ARK-{product.value}"),
        (
            leaf,
            roots.intermediate,
            f"{kind.upper()} is signed by the {product.value} {intermediate_name}",
        ),
    )
    chained = True
    for cert, issuer, claim in steps:
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as exc:
            chained = False
            findings.append(Finding("chain", False, f"not {claim}: {exc or 'bad signature'}"))
            break
    if chained:
        findings.append(
            Finding("chain", True, f"{kind.upper()} → {intermediate_name} → ARK-{product.value}")
        )
    stale = [
        f"{c.subject.rfc4514_string()} (valid {c.not_valid_before_utc:%Y-%m-%d} to "
        f"{c.not_valid_after_utc:%Y-%m-%d})"
        for c in (leaf, roots.intermediate, roots.root)
        if not within_validity(c, at)
    ]
    findings.append(
        Finding(
            "chain.validity",
            not stale,
            f"not valid at {at:%Y-%m-%dT%H:%M:%SZ}: {'; '.join(stale)}"
            if stale
            else f"every certificate valid at {at:%Y-%m-%dT%H:%M:%SZ}",
        )
    )
    return findings


def _verify_signature(report: AttestationReport, leaf: x509.Certificate) -> Finding:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        return Finding("signature", False, "the endorsement key is not an ECDSA P-384 key")
    try:
        key.verify(
            encode_dss_signature(report.signature_r, report.signature_s),
            report.signed_bytes,
            ec.ECDSA(hashes.SHA384()),
        )
    except InvalidSignature:
        return Finding("signature", False, "the report's signature does not verify")
    return Finding("signature", True, "ECDSA P-384/SHA-384 signature over the report verifies")


def _check_tcb(reported: TcbVersion, info: EndorsementKeyInfo, product: Product) -> Finding:
    certified = {
        "boot_loader": info.boot_loader,
        "tee": info.tee,
        "snp": info.snp,
        "microcode": info.microcode,
    }
    if product is Product.TURIN:
        certified["fmc"] = info.fmc
    if any(v is None for v in certified.values()):
        missing = ", ".join(k for k, v in certified.items() if v is None)
        return Finding("tcb", False, f"the certificate lacks the TCB extension(s) {missing}")
    mine = reported.to_json()
    wrong = [f"{k} {mine[k]} ≠ {v}" for k, v in certified.items() if mine[k] != v]
    if wrong:
        return Finding(
            "tcb", False, f"reported TCB differs from the certified TCB: {', '.join(wrong)}"
        )
    return Finding(
        "tcb",
        True,
        "reported TCB equals the certified TCB ("
        + ", ".join(f"{k} {v}" for k, v in certified.items())
        + ")",
    )


def verify_report(
    report_data: bytes,
    certificate_data: bytes,
    *,
    at: datetime,
    product: Product | None = None,
    expectations: Expectations | None = None,
) -> AttestationResult:
    """Verify ``report_data`` (raw or hex) signed by the VCEK/VLEK in ``certificate_data``.

    Only the first certificate of ``certificate_data`` is used: the ASK/ASVK and ARK always
    come from chainproof's bundled AMD roots, so a chain shipped with the evidence cannot
    substitute its own root.
    """
    expectations = expectations or Expectations()
    report = parse_report(decode_report_file(report_data))
    leaf = load_certificates(certificate_data, "SEV-SNP endorsement key certificate")[0]
    info = endorsement_info(leaf, "SEV-SNP endorsement key certificate")
    findings: list[Finding] = []

    expected_key = SigningKey.VCEK if info.kind == "vcek" else SigningKey.VLEK
    findings.append(
        Finding(
            "signing_key",
            report.signing_key == expected_key,
            f"report signed by {expected_key.name}"
            if report.signing_key == expected_key
            else f"report names signing key {report.signing_key}, the certificate is a "
            f"{info.kind.upper()}",
        )
    )

    cert_product = _product_from_certificate(leaf, info)
    chosen = product or report.product or cert_product
    if chosen is None:
        raise UsageError(
            "cannot tell the SEV-SNP product (report version 2 has no CPUID and the "
            f"certificate names none); pass --product ({', '.join(PRODUCTS)})"
        )
    disagree = [
        f"{source} says {value.value}"
        for source, value in (("report CPUID", report.product), ("certificate", cert_product))
        if value is not None and value is not chosen
    ]
    findings.append(
        Finding(
            "product",
            not disagree,
            f"{chosen.value}"
            if not disagree
            else f"chain {chosen.value}, but {'; '.join(disagree)}",
        )
    )
    findings.extend(_verify_chain(leaf, chosen, info.kind, at))
    findings.append(_verify_signature(report, leaf))
    reported = report.reported_tcb(chosen)
    findings.append(_check_tcb(reported, info, chosen))
    if info.kind == "vcek":
        if report.mask_chip_id:
            findings.append(Finding("chip_id", True, "chip_id masked by the guest (MASK_CHIP_ID)"))
        else:
            same = info.hw_id == report.chip_id
            findings.append(
                Finding(
                    "chip_id",
                    same,
                    "chip_id equals the VCEK's hwID"
                    if same
                    else "chip_id differs from the VCEK's hwID (a VCEK of another chip)",
                )
            )
    findings.extend(
        check_expectations(
            expectations,
            debug=report.policy.debug_allowed,
            migration_agent=report.policy.migration_agent_allowed,
            smt=report.policy.smt_allowed,
            measurement=report.measurement,
            host_data=report.host_data,
            report_data=report.report_data,
        )
    )
    return AttestationResult(
        format="sev-snp",
        findings=tuple(findings),
        claims=_claims(report, info, chosen, reported),
        verified_at=f"{at:%Y-%m-%dT%H:%M:%SZ}",
    )


def _claims(
    report: AttestationReport, info: EndorsementKeyInfo, product: Product, reported: TcbVersion
) -> dict[str, Any]:
    return {
        "version": report.version,
        "product": product.value,
        "signing_key": info.kind,
        "certificate_product_name": info.product_name,
        "measurement": report.measurement.hex(),
        "host_data": report.host_data.hex(),
        "report_data": report.report_data.hex(),
        "chip_id": report.chip_id.hex(),
        "report_id": report.report_id.hex(),
        "id_key_digest": report.id_key_digest.hex(),
        "author_key_digest": report.author_key_digest.hex(),
        "family_id": report.family_id.hex(),
        "image_id": report.image_id.hex(),
        "guest_svn": report.guest_svn,
        "vmpl": report.vmpl,
        "policy": report.policy.to_json(),
        "reported_tcb": reported.to_json(),
        "current_tcb": TcbVersion.decode(report.current_tcb_raw, product).to_json(),
        "committed_tcb": TcbVersion.decode(report.committed_tcb_raw, product).to_json(),
        "launch_tcb": TcbVersion.decode(report.launch_tcb_raw, product).to_json(),
        "cpuid": None
        if report.cpuid is None
        else {"family": report.cpuid[0], "model": report.cpuid[1], "stepping": report.cpuid[2]},
    }
