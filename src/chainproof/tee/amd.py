"""AMD's SEV-SNP key hierarchy: the bundled roots and the VCEK/VLEK certificate extensions.

Per product, AMD's Key Distribution Service publishes ``cert_chain`` = ASK (or ASVK for VLEKs)
followed by the self-signed ARK; ``data/amd/<product>-<vcek|vlek>.pem`` are those files as
committed by google/go-sev-guest (``verify/trust``), identical to virtee/sev's built-ins
(``data/amd/SOURCES.md``). The VCEK/VLEK extensions are defined in AMD's "Versioned Chip
Endorsement Key (VCEK) Certificate and KDS Interface Specification" (publication 57230).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from asn1crypto import core as asn1

from chainproof.errors import MalformedError
from chainproof.tee.snp_report import Product

if TYPE_CHECKING:
    from cryptography import x509

_AMD = "1.3.6.1.4.1.3704.1"
OID_STRUCT_VERSION = f"{_AMD}.1"
OID_PRODUCT_NAME = f"{_AMD}.2"
OID_BL_SPL = f"{_AMD}.3.1"
OID_TEE_SPL = f"{_AMD}.3.2"
OID_SNP_SPL = f"{_AMD}.3.3"
OID_UCODE_SPL = f"{_AMD}.3.8"
OID_FMC_SPL = f"{_AMD}.3.9"
OID_HW_ID = f"{_AMD}.4"
OID_CSP_ID = f"{_AMD}.5"

#: Largest certificate accepted (AMD's are about 1.3 KiB, the ASK/ARK 1.7 KiB each).
MAX_CERT_BYTES = 64 * 1024


@dataclass(frozen=True)
class ProductRoots:
    product: Product
    kind: str  # "vcek" or "vlek"
    intermediate: x509.Certificate  # ASK or ASVK
    root: x509.Certificate  # ARK


def load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    """PEM (one or more) or DER certificates, with a one-line error when they do not parse."""
    from cryptography import x509

    if len(data) > MAX_CERT_BYTES:
        raise MalformedError(f"{what}: {len(data)} bytes is too large for a certificate")
    # AMD issues VCEKs with serial number 0, which cryptography accepts with a deprecation
    # warning; the warning is noise for a relying party that cannot change AMD's CA.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # DER is told apart by its first byte, not by searching for a PEM marker: MAA
            # signing certificates embed an SGX quote whose collateral holds PEM text.
            if data[:1] == b"\x30":
                return [x509.load_der_x509_certificate(data)]
            if data.lstrip().startswith(b"-----BEGIN CERTIFICATE-----"):
                return x509.load_pem_x509_certificates(data)
            raise ValueError("neither DER nor PEM")
        except ValueError as exc:
            raise MalformedError(f"{what}: not a valid X.509 certificate ({exc})") from None


@cache
def product_roots(product: Product, kind: str) -> ProductRoots:
    """The bundled ASK/ASVK and ARK of ``product``."""
    name = f"{product.value.lower()}-{kind}.pem"
    data = resources.files("chainproof.tee").joinpath("data", "amd", name).read_bytes()
    intermediate, root = load_certificates(data, f"bundled AMD chain {name}")
    return ProductRoots(product=product, kind=kind, intermediate=intermediate, root=root)


def _extension_bytes(cert: x509.Certificate, oid: str) -> bytes | None:
    from cryptography import x509

    for ext in cert.extensions:
        if ext.oid.dotted_string == oid:
            value = ext.value
            if isinstance(value, x509.UnrecognizedExtension):
                return value.value
    return None


def _extension_int(cert: x509.Certificate, oid: str, what: str) -> int | None:
    raw = _extension_bytes(cert, oid)
    if raw is None:
        return None
    try:
        value = asn1.Integer.load(raw, strict=True).native
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"{what}: extension {oid} is not a DER INTEGER ({exc})") from None
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise MalformedError(f"{what}: extension {oid} is out of range")
    return value


@dataclass(frozen=True)
class EndorsementKeyInfo:
    """What AMD certified about the key that signs reports."""

    kind: str  # "vcek" or "vlek"
    product_name: str | None
    boot_loader: int | None
    tee: int | None
    snp: int | None
    microcode: int | None
    fmc: int | None
    hw_id: bytes | None
    csp_id: str | None


def endorsement_info(cert: x509.Certificate, what: str) -> EndorsementKeyInfo:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else ""
    if common_name == "SEV-VCEK":
        kind = "vcek"
    elif common_name == "SEV-VLEK":
        kind = "vlek"
    else:
        raise MalformedError(f"{what}: subject CN {common_name!r} is neither SEV-VCEK nor SEV-VLEK")
    product_name = None
    raw = _extension_bytes(cert, OID_PRODUCT_NAME)
    if raw is not None:
        try:
            product_name = str(asn1.IA5String.load(raw, strict=True).native)
        except (ValueError, TypeError):
            product_name = raw.decode("ascii", "replace")
    hw_id = _extension_bytes(cert, OID_HW_ID)
    if hw_id is not None and len(hw_id) != 64:
        # Some KDS versions wrap the 64 bytes in a DER OCTET STRING.
        try:
            hw_id = bytes(asn1.OctetString.load(hw_id, strict=True).native)
        except (ValueError, TypeError):
            raise MalformedError(f"{what}: hwID extension is not 64 bytes") from None
    csp_raw = _extension_bytes(cert, OID_CSP_ID)
    csp_id = None
    if csp_raw is not None:
        try:
            csp_id = str(asn1.UTF8String.load(csp_raw, strict=True).native)
        except (ValueError, TypeError):
            csp_id = csp_raw.decode("utf-8", "replace")
    return EndorsementKeyInfo(
        kind=kind,
        product_name=product_name,
        boot_loader=_extension_int(cert, OID_BL_SPL, what),
        tee=_extension_int(cert, OID_TEE_SPL, what),
        snp=_extension_int(cert, OID_SNP_SPL, what),
        microcode=_extension_int(cert, OID_UCODE_SPL, what),
        fmc=_extension_int(cert, OID_FMC_SPL, what),
        hw_id=hw_id,
        csp_id=csp_id,
    )


def within_validity(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc
