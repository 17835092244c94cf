"""The Notary Project certificate requirements for a signing chain, on ``cryptography``'s verifier.

What ``cryptography.x509.verification`` can express is left to it (docs/adr/0019): building the
path from the signing certificate to a trust-store anchor, each signature and its algorithm
(no SHA-1, RSA ≥ 2048 bits, P-256/384/521), ``pathLenConstraint``, name constraints, unknown
critical extensions, and, through two extension policies, the Notary rules for CA certificates
(``basicConstraints`` critical with ``cA``, ``keyUsage`` critical with ``keyCertSign``) and for
the signing certificate (``cA`` false if present, ``keyUsage`` critical with
``digitalSignature`` and none of the forbidden bits, ``extendedKeyUsage`` codeSigning-only if
present).

What it cannot express is checked here, each with its own test: the envelope's chain is one
ordered path (each certificate issued by the next) ending in a self-signed root; a certificate
of it is in the policy's trust store (any one of them, as notation-go accepts); validity at the
signing or timestamp time with the Notary messages (:func:`validity_problem`, the authentic
timestamp step); and revocation (:func:`revocation_unavailable`), which needs OCSP or CRL
access chainproof does not have.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from chainproof.errors import SignatureError
from chainproof.trust import _x509
from chainproof.trust.notation.envelope import MAX_CHAIN

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cryptography.x509.verification import Policy

#: EKUs a code-signing certificate must not carry (Notary Project signature specification,
#: "Leaf Certificates"); codeSigning itself is allowed, not required.
_FORBIDDEN_EKUS = {
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
}
_FORBIDDEN_LEAF_USAGES = (
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)


class _Refusal(ValueError):
    """A Notary rule a validator found broken; the message is the user's."""


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _ca_basic_constraints(
    policy: Policy, cert: x509.Certificate, value: x509.BasicConstraints
) -> None:
    del policy
    if not value.ca:
        raise _Refusal(f"{_subject(cert)} is not a CA certificate")


def _ca_key_usage(policy: Policy, cert: x509.Certificate, value: x509.KeyUsage) -> None:
    del policy
    if not value.key_cert_sign:
        raise _Refusal(f"CA certificate {_subject(cert)} lacks the keyCertSign key usage")


def _leaf_basic_constraints(
    policy: Policy, cert: x509.Certificate, value: x509.BasicConstraints | None
) -> None:
    del policy, cert
    if value is not None and value.ca:
        raise _Refusal("signing certificate is a CA certificate")


def _leaf_key_usage(policy: Policy, cert: x509.Certificate, value: x509.KeyUsage) -> None:
    # cryptography checks keyUsage before basicConstraints; a CA leaf is the clearer message.
    _leaf_basic_constraints(policy, cert, _extension(cert, x509.BasicConstraints))
    if not value.digital_signature:
        raise _Refusal("signing certificate lacks the digitalSignature key usage")
    forbidden = [name for name in _FORBIDDEN_LEAF_USAGES if getattr(value, name)]
    if value.key_agreement and (value.encipher_only or value.decipher_only):
        forbidden += ["encipher_only" if value.encipher_only else "decipher_only"]
    if forbidden:
        raise _Refusal(f"signing certificate has key usages it must not have: {forbidden}")


def _code_signing_eku(
    policy: Policy, cert: x509.Certificate, value: x509.ExtendedKeyUsage | None
) -> None:
    del policy, cert
    if value is None:
        return
    forbidden = [name for oid, name in _FORBIDDEN_EKUS.items() if oid in value]
    if forbidden or ExtendedKeyUsageOID.CODE_SIGNING not in value:
        raise _Refusal(
            "signing certificate's extended key usage is not code signing"
            + (f" ({', '.join(forbidden)})" if forbidden else "")
        )


_T = TypeVar("_T", bound=x509.ExtensionType)


def _extension(cert: x509.Certificate, kind: type[_T]) -> _T | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


#: Notary "Root and Intermediate CA Certificates".
CA_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, Criticality.CRITICAL, _ca_basic_constraints)
    .require_present(x509.KeyUsage, Criticality.CRITICAL, _ca_key_usage)
)
#: Notary "Leaf Certificates" for a signing certificate.
SIGNING_POLICY = (
    ExtensionPolicy.permit_all()
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _leaf_basic_constraints)
    .require_present(x509.KeyUsage, Criticality.CRITICAL, _leaf_key_usage)
    .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _code_signing_eku)
)


def check_order(chain: Sequence[x509.Certificate]) -> None:
    """The envelope's chain is one path, leaf first, each certificate issued by the next, ending
    in a self-signed root (the verifier builds its own path and would ignore the order)."""
    if not chain or len(chain) > MAX_CHAIN:
        raise SignatureError(f"certificate chain must have 1 to {MAX_CHAIN} certificates")
    for cert in chain:
        if problem := _weak_signature_problem(cert):
            raise SignatureError(problem)
    for child, parent in itertools.pairwise(chain):
        try:
            child.verify_directly_issued_by(parent)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            raise SignatureError(f"{_subject(child)} is not issued by {_subject(parent)}") from None
    if not _x509.is_self_signed(chain[-1]):
        raise SignatureError("certificate chain does not end in a self-signed root")
    for cert in chain:
        if problem := _key_length_problem(cert):
            raise SignatureError(problem)


def _common_instant(chain: Sequence[x509.Certificate]) -> datetime:
    """A time at which every certificate is valid: the verifier checks validity at one time,
    while *which* time is the authentic-timestamp step's business (signing time, TSA time or
    now), judged by :func:`validity_problem` with the policy's enforce/log setting."""
    latest_start = max(chain, key=lambda cert: cert.not_valid_before_utc)
    earliest_end = min(chain, key=lambda cert: cert.not_valid_after_utc)
    if latest_start.not_valid_before_utc > earliest_end.not_valid_after_utc:
        raise SignatureError(
            "the certificates of the chain are never valid at the same time: "
            f'"{_subject(earliest_end)}" expired at '
            f"{earliest_end.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC, before "
            f'"{_subject(latest_start)}" became valid at '
            f"{latest_start.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC"
        )
    return latest_start.not_valid_before_utc


_VALIDATOR_FAILED = re.compile(r"Python extension validator failed: \w+: (.*)$")
_WHERE = re.compile(r"\s*\(encountered processing <Certificate\(subject=<Name\((.*?)\)>.*$")
_EXTENSION_NAMES = {
    "2.5.29.15": "keyUsage",
    "2.5.29.19": "basicConstraints",
    "2.5.29.37": "extendedKeyUsage",
    "2.5.29.30": "nameConstraints",
}


def _cryptography_message(exc: VerificationError) -> str:
    """One line from the verifier's error: our validator's own message when one refused, the
    extension by name, and the certificate it concerns."""
    text = str(exc)
    where = _WHERE.search(text)
    text = _WHERE.sub("", text)
    refused = _VALIDATOR_FAILED.search(text)
    if refused:
        return refused.group(1)
    text = text.removeprefix("validation failed: ").removeprefix("candidates exhausted: ")
    for oid, name in _EXTENSION_NAMES.items():
        text = text.replace(f"invalid extension: {oid}:", f"{name} extension:")
    return f"{text} (certificate {where.group(1)})" if where else text


def _weak_signature_problem(cert: x509.Certificate) -> str:
    """Notary: no certificate may use SHA1WithRSA or ECDSAWithSHA1 (cryptography would refuse
    it too, but only with "not issued by")."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return f"{_subject(cert)} is signed with an unsupported signature algorithm"
    if algorithm is not None and algorithm.name in ("sha1", "md5"):
        return f"{_subject(cert)} is signed with {algorithm.name.upper()}, which is refused"
    return ""


def _key_length_problem(cert: x509.Certificate) -> str:
    """Notary "Key Length": RSA of 2048 bits or more, ECDSA of 256 bits or more (on the curves
    the signature algorithms name). The verifier bounds only the keys that verify a certificate
    signature, never the signing certificate's own key."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            return f"{_subject(cert)} has an RSA-{key.key_size} key; 2048 bits is the minimum"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            return f"{_subject(cert)} has an ECDSA key on {key.curve.name}, not P-256/384/521"
    else:
        return f"{_subject(cert)} has a {type(key).__name__}; Notation signs with RSA or ECDSA"
    return ""


def verify_chain(
    chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """Check ``chain`` (leaf first, as the envelope has it) against the Notary requirements
    and path-validate it to one of ``anchors``; returns the validated path. Raises
    SignatureError saying which rule failed.

    ``anchors`` are trust-store certificates: the path ends at the first certificate of the
    chain that is one of them (the signing certificate itself, for a self-signed one).
    """
    check_order(chain)
    if not any(cert in anchors for cert in chain):
        raise SignatureError("no certificate of the chain is in the policy's trust stores")
    verifier = (
        PolicyBuilder()
        .store(Store(list(anchors)))
        .time(_common_instant(chain))
        .max_chain_depth(MAX_CHAIN - 2)  # intermediates between leaf and anchor
        .extension_policies(ca_policy=CA_POLICY, ee_policy=SIGNING_POLICY)
        .build_client_verifier()
    )
    try:
        path = verifier.verify(chain[0], list(chain[1:])).chain
    except VerificationError as exc:
        raise SignatureError(_cryptography_message(exc)) from None
    if list(chain[: len(path)]) != path:
        raise SignatureError("the trusted path is not the certificate chain of the envelope")
    return path


def validity_problem(chain: Sequence[x509.Certificate], when: datetime) -> str:
    """ "" when every certificate is valid at ``when``, else why not."""
    for cert in chain:
        if when < cert.not_valid_before_utc:
            return (
                f'certificate "{_subject(cert)}" is not valid before '
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC"
            )
        if when > cert.not_valid_after_utc:
            return (
                f'certificate "{_subject(cert)}" expired at '
                f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC"
            )
    return ""


def revocation_unavailable(chain: Sequence[x509.Certificate]) -> str:
    """Why the revocation status of the chain cannot be determined offline, or "".

    Notary Project trust-store and trust-policy specification, "Certificate Revocation
    Evaluation": a certificate naming neither OCSP nor CRL distribution points is not checked
    and counts as not revoked; one naming either needs that check, and a status that "cannot
    be determined (revocation unavailable)" fails the revocation validation.
    """
    for cert in chain:
        access = _extension(cert, x509.AuthorityInformationAccess)
        ocsp = access is not None and any(
            d.access_method == AuthorityInformationAccessOID.OCSP for d in access
        )
        crl = _extension(cert, x509.CRLDistributionPoints) is not None
        if ocsp or crl:
            kinds = " and ".join(k for k, has in (("OCSP", ocsp), ("a CRL", crl)) if has)
            return (
                f'revocation status of certificate "{_subject(cert)}" cannot be determined: it '
                f"names {kinds}, which chainproof does not consult (it verifies offline)"
            )
    return ""
