"""A real Microsoft Azure Attestation token (sharedeus2, SEV-SNP confidential VM), and forgeries
built from it: alg none, HMAC keyed with the public key, an attacker's embedded key, tampering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from chainproof.errors import MalformedError, UnsupportedError, UsageError
from chainproof.tee.expectations import Expectations
from chainproof.tee.maa import verify_token
from tests.tee.conftest import MAA_AT, MAA_ISSUER, fixture

TOKEN = "maa/midnight-sharedeus2.jwt"
JWKS = "maa/sharedeus2-jwks.json"
CERT = "maa/sharedeus2-signing-cert.pem"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts() -> tuple[dict[str, object], bytes, str]:
    header, payload, signature = fixture(TOKEN).decode().strip().split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "==")),
        base64.urlsafe_b64decode(payload + "=="),
        signature,
    )


def _verify(token: bytes, **kwargs: object) -> object:
    options: dict[str, object] = {"issuer": MAA_ISSUER, "at": MAA_AT, "jwks": fixture(JWKS)}
    options.update(kwargs)
    return verify_token(token, **options)  # type: ignore[arg-type]


def test_real_token_verifies_with_the_jwks_at_a_pinned_time() -> None:
    result = verify_token(fixture(TOKEN), issuer=MAA_ISSUER, at=MAA_AT, jwks=fixture(JWKS))
    assert result.verified, result.failures
    assert result.claims["attestation_type"] == "azurevm"
    assert result.claims["measurement"] == (
        "6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e"
    )
    assert result.claims["compliance_status"] == "azure-compliant-cvm"
    assert result.claims["is_debuggable"] is False
    assert [k["kid"] for k in result.claims["x-ms-runtime"]["keys"]] == ["HCLAkPub", "HCLEkPub"]


def test_real_token_verifies_with_the_pinned_certificate() -> None:
    result = verify_token(fixture(TOKEN), issuer=MAA_ISSUER, at=MAA_AT, certificate=fixture(CERT))
    assert result.verified, result.failures


def test_the_real_token_has_expired() -> None:
    result = verify_token(
        fixture(TOKEN), issuer=MAA_ISSUER, at=datetime.now(UTC), jwks=fixture(JWKS)
    )
    assert [f.name for f in result.failures] == ["lifetime"]
    assert "expired at 2025-12-16T03:24:08Z" in result.failures[0].message


def test_not_yet_valid() -> None:
    early = datetime(2025, 12, 15, 19, 0, tzinfo=UTC)
    result = verify_token(fixture(TOKEN), issuer=MAA_ISSUER, at=early, jwks=fixture(JWKS))
    assert [f.name for f in result.failures] == ["lifetime"]


def test_wrong_issuer() -> None:
    result = verify_token(
        fixture(TOKEN),
        issuer="https://shareduks.uks.attest.azure.net",
        at=MAA_AT,
        jwks=fixture(JWKS),
    )
    assert [f.name for f in result.failures] == ["issuer"]


def test_one_byte_changed_in_the_payload() -> None:
    header, payload, signature = fixture(TOKEN).decode().strip().split(".")
    changed = payload.replace("ZmFsc2", "dHJ1ZS", 1)  # one JSON false becomes true
    assert changed != payload
    result = verify_token(
        f"{header}.{changed}.{signature}".encode(), issuer=MAA_ISSUER, at=MAA_AT, jwks=fixture(JWKS)
    )
    assert not result.verified
    assert not result.finding("signature").passed  # type: ignore[union-attr]
    assert "measurement" not in result.claims  # nothing unverified is reported


def test_one_character_changed_in_the_signature() -> None:
    token = fixture(TOKEN).strip()
    last = token[-2:-1]
    forged = token[:-2] + (b"A" if last != b"A" else b"B") + token[-1:]
    result = verify_token(forged, issuer=MAA_ISSUER, at=MAA_AT, jwks=fixture(JWKS))
    assert not result.finding("signature").passed  # type: ignore[union-attr]


def test_alg_none_is_refused() -> None:
    header, payload, _ = _parts()
    for alg in ("none", "None", "NONE"):
        token = f"{_b64(json.dumps({**header, 'alg': alg}).encode())}.{_b64(payload)}.".encode()
        with pytest.raises(UnsupportedError, match="alg 'none' is refused"):
            verify_token(token, issuer=MAA_ISSUER, at=MAA_AT, jwks=fixture(JWKS))


def test_hmac_key_confusion_is_refused() -> None:
    """The forgery: HS256 with the service's public key (which anyone has) as the secret."""
    header, payload, _ = _parts()
    from cryptography import x509

    key = x509.load_pem_x509_certificate(fixture(CERT)).public_key()
    public_pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{_b64(payload)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(mac)}".encode()
    for kwargs in ({"jwks": fixture(JWKS)}, {"certificate": fixture(CERT)}):
        with pytest.raises(UnsupportedError, match="key-confusion"):
            verify_token(token, issuer=MAA_ISSUER, at=MAA_AT, **kwargs)  # type: ignore[arg-type]


def test_a_key_embedded_in_the_token_is_not_trusted() -> None:
    """An attacker signs with their own key and ships it in the jwk/x5c headers."""
    header, payload, _ = _parts()
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = attacker.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": "AQAB"}
    forged_header = {**header, "jwk": jwk}
    signing_input = f"{_b64(json.dumps(forged_header).encode())}.{_b64(payload)}"
    signature = attacker.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    result = verify_token(
        f"{signing_input}.{_b64(signature)}".encode(),
        issuer=MAA_ISSUER,
        at=MAA_AT,
        jwks=fixture(JWKS),
    )
    assert not result.verified
    assert not result.finding("signature").passed  # type: ignore[union-attr]


def test_unknown_kid() -> None:
    header, payload, signature = _parts()
    token = f"{_b64(json.dumps({**header, 'kid': 'other'}).encode())}.{_b64(payload)}.{signature}"
    result = verify_token(token.encode(), issuer=MAA_ISSUER, at=MAA_AT, jwks=fixture(JWKS))
    assert [f.name for f in result.failures] == ["key"]


def test_key_of_the_wrong_type_for_the_alg() -> None:
    ec_key = ec.generate_private_key(ec.SECP384R1()).public_key()
    numbers = ec_key.public_numbers()
    jwks = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-384",
                "kid": "J0pAPdfXXHqWWimgrH853wMIdh5/fLe1z6uSXYPXCa0=",
                "x": _b64(numbers.x.to_bytes(48, "big")),
                "y": _b64(numbers.y.to_bytes(48, "big")),
            }
        ]
    }
    result = verify_token(
        fixture(TOKEN), issuer=MAA_ISSUER, at=MAA_AT, jwks=json.dumps(jwks).encode()
    )
    assert [f.name for f in result.failures] == ["key"]
    assert "does not fit alg RS256" in result.failures[0].message


def test_symmetric_keys_in_the_jwks_are_refused() -> None:
    jwks = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}
    with pytest.raises(UnsupportedError, match="key type 'oct' is refused"):
        verify_token(fixture(TOKEN), issuer=MAA_ISSUER, at=MAA_AT, jwks=json.dumps(jwks).encode())


@pytest.mark.parametrize(
    "token",
    [
        b"",
        b"not a token",
        b"a.b",
        b"\xff\xfe",
        b"eyJhbGciOiJSUzI1NiJ9.e30.a.b",
        b"x" * (300 * 1024),
    ],
)
def test_malformed_tokens(token: bytes) -> None:
    with pytest.raises(MalformedError):
        verify_token(token, issuer=MAA_ISSUER, at=MAA_AT, jwks=fixture(JWKS))


@pytest.mark.parametrize(
    "jwks",
    [
        b"{}",
        b"[]",
        b'{"keys": []}',
        b'{"keys": [1]}',
        b"{",
        b'{"keys":[{"kty":"RSA","x5c":["!!"]}]}',
    ],
)
def test_malformed_jwks(jwks: bytes) -> None:
    with pytest.raises(MalformedError):
        verify_token(fixture(TOKEN), issuer=MAA_ISSUER, at=MAA_AT, jwks=jwks)


def test_exactly_one_trust_source() -> None:
    with pytest.raises(UsageError):
        verify_token(fixture(TOKEN), issuer=MAA_ISSUER, at=MAA_AT)
    with pytest.raises(UsageError):
        verify_token(
            fixture(TOKEN),
            issuer=MAA_ISSUER,
            at=MAA_AT,
            jwks=fixture(JWKS),
            certificate=fixture(CERT),
        )


def test_expectations_on_the_token_claims() -> None:
    measurement = bytes.fromhex(
        "6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e"
    )
    good = verify_token(
        fixture(TOKEN),
        issuer=MAA_ISSUER,
        at=MAA_AT,
        jwks=fixture(JWKS),
        expectations=Expectations(measurement=measurement, host_data=bytes(32)),
    )
    assert good.verified
    bad = verify_token(
        fixture(TOKEN),
        issuer=MAA_ISSUER,
        at=MAA_AT,
        jwks=fixture(JWKS),
        expectations=Expectations(measurement=bytes(48), deny_smt=True),
    )
    assert {f.name for f in bad.failures} == {"measurement", "policy.smt"}
