"""RFC 3161 countersignatures of Notation envelopes (``io.cncf.notary.timestampSignature``)."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509

from chainproof.errors import SignatureError


def verify_timestamp_token(
    token: bytes, signature: bytes, tsa_roots: list[x509.Certificate]
) -> datetime:
    """Verify an RFC 3161 TimeStampToken over ``signature``; return its generation time."""
    from rfc3161_client import VerificationError as TsaError
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    # Notation stores the bare TimeStampToken; rfc3161-client reads a TimeStampResp, which is
    # SEQUENCE { PKIStatusInfo { status granted(0) }, token }.
    body = b"\x30\x03\x02\x01\x00" + _der_sorted_certificates(token)
    response = _der_sequence(body)
    try:
        parsed = decode_timestamp_response(response)
        # rfc3161-client parses lazily; read what verification needs now.
        stamped: datetime = parsed.tst_info.gen_time
        _ = parsed.tst_info.message_imprint.hash_algorithm
    except ValueError:
        raise SignatureError("timestamp countersignature does not parse") from None
    if not tsa_roots:
        raise SignatureError("timestamp countersignature but no tsa trust store in the policy")
    errors = []
    for root in tsa_roots:
        builder = VerifierBuilder().add_root_certificate(root)
        try:
            builder.build().verify_message(parsed, signature)
        except (TsaError, ValueError) as exc:
            errors.append(str(exc))
            continue
        return stamped
    raise SignatureError(f"timestamp countersignature does not verify: {errors[0]}")


def _der_sorted_certificates(token: bytes) -> bytes:
    """The token with its certificate SET in DER order.

    Real TSAs (GlobalSign among them) emit the SignedData certificate set unsorted, which the
    strict DER parser of rfc3161-client refuses. The set is outside the signed attributes, so
    re-ordering it changes nothing the TSA signed.
    """
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        certificates = signed["certificates"]
        if not certificates:
            return token
        ordered = sorted(c.dump() for c in certificates)
        signed["certificates"] = cms.CertificateSet(
            [cms.CertificateChoices.load(c) for c in ordered]
        )
        return bytes(info.dump())
    except (ValueError, TypeError, KeyError):
        raise SignatureError("timestamp countersignature is not a CMS SignedData") from None


def _der_sequence(body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return b"\x30" + bytes([length]) + body
    size = (length.bit_length() + 7) // 8
    return b"\x30" + bytes([0x80 | size]) + length.to_bytes(size, "big") + body
