"""Verify a Microsoft Azure Attestation (MAA) token offline.

The token is a JWS (RFC 7515) compact serialization signed with the attestation instance's
key. The key comes only from what the relying party trusts — a JWKS saved from the
instance's ``/certs`` endpoint, or a pinned certificate — never from the token: the ``jku``,
``x5u``, ``jwk`` and ``x5c`` headers are ignored. ``alg: none`` and HMAC algorithms are
refused before anything else (an HMAC "verified" with a public key as the secret is the
classic key-confusion forgery). Signature checking is PyJWT's, with an allow-list of exactly
the algorithm that fits the trusted key; issuer, ``exp``, ``nbf`` and ``iat`` are checked here
against an explicit time so that archived tokens can be verified at a pinned instant.

The SEV-SNP claims are read from the top level (confidential containers,
``x-ms-attestation-type: sevsnpvm``) or from ``x-ms-isolation-tee`` (confidential VMs,
``x-ms-attestation-type: azurevm``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chainproof._jsonutil import loads_object
from chainproof.errors import MalformedError, UnsupportedError, UsageError
from chainproof.tee.amd import load_certificates
from chainproof.tee.expectations import Expectations, check_expectations
from chainproof.tee.result import AttestationResult, Finding

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    VerifyingKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

MAX_TOKEN_BYTES = 256 * 1024
MAX_JWKS_BYTES = 1 << 20

#: Asymmetric JWS algorithms and the key each needs (RFC 7518 section 3.1).
_RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_ALGORITHMS = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
# The signature part may be empty here so that alg "none" is refused by name, not as garbage.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def _refuse_algorithm(alg: object) -> str:
    if not isinstance(alg, str) or not alg:
        raise MalformedError("MAA token: the JWS header has no alg")
    if alg.lower() == "none":
        raise UnsupportedError(
            "MAA token: alg 'none' is refused (an unsigned token proves nothing)"
        )
    if alg.upper().startswith("HS"):
        raise UnsupportedError(
            f"MAA token: alg {alg!r} is refused: attestation tokens are signed with the "
            "service's private key, and an HMAC check keyed with its public key is the "
            "key-confusion forgery"
        )
    if alg not in _RSA_ALGORITHMS and alg not in _EC_ALGORITHMS:
        raise UnsupportedError(
            f"MAA token: alg {alg!r} is not supported "
            f"(supported: {', '.join((*_RSA_ALGORITHMS, *_EC_ALGORITHMS))})"
        )
    return alg


def _key_fits(key: PublicKeyTypes, alg: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if alg in _RSA_ALGORITHMS:
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == _EC_ALGORITHMS[alg]


def _key_from_jwk(jwk: dict[str, Any]) -> PublicKeyTypes:
    """The public key of one JWK: its x5c certificate (as MAA publishes), or n/e, crv/x/y."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    kid = jwk.get("kid")
    kty = jwk.get("kty")
    if kty not in ("RSA", "EC"):
        raise UnsupportedError(
            f"JWKS key {kid!r}: key type {kty!r} is refused (only RSA and EC public keys)"
        )
    if "d" in jwk:
        raise MalformedError(f"JWKS key {kid!r} contains private key material; refusing it")
    x5c = jwk.get("x5c")
    if x5c is not None:
        if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
            raise MalformedError(f"JWKS key {kid!r}: x5c is not a list of base64 certificates")
        try:
            der = base64.b64decode(x5c[0], validate=True)
        except ValueError:
            raise MalformedError(f"JWKS key {kid!r}: x5c[0] is not base64") from None
        return load_certificates(der, f"JWKS key {kid!r} certificate")[0].public_key()
    try:
        key = RSAAlgorithm.from_jwk(jwk) if kty == "RSA" else ECAlgorithm.from_jwk(jwk)
    except Exception as exc:  # PyJWT raises InvalidKeyError and friends
        raise MalformedError(f"JWKS key {kid!r}: {exc}") from None
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise MalformedError(f"JWKS key {kid!r} contains private key material; refusing it")
    return key


def load_jwks(data: bytes) -> dict[str | None, PublicKeyTypes]:
    """Keys of a JWKS by kid (a key without kid under None)."""
    document = loads_object(data, "JWKS", max_bytes=MAX_JWKS_BYTES)
    keys = document.get("keys")
    if not isinstance(keys, list) or not keys:
        raise MalformedError("JWKS: no 'keys' list")
    found: dict[str | None, PublicKeyTypes] = {}
    for jwk in keys:
        if not isinstance(jwk, dict):
            raise MalformedError("JWKS: a key is not a JSON object")
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise MalformedError("JWKS: a kid is not a string")
        found[kid] = _key_from_jwk(jwk)
    return found


def _timestamp(claims: dict[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedError(f"MAA token: claim {name} is not a NumericDate")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedError(f"MAA token: claim {name} is out of range") from None


def _hex_claim(tee: dict[str, Any], name: str, size: int, findings: list[Finding]) -> bytes:
    value = tee.get(name)
    if isinstance(value, str) and _HEX.fullmatch(value) and len(value) == 2 * size:
        return bytes.fromhex(value)
    findings.append(
        Finding(f"claims.{name}", False, f"claim {name} missing or not {size} hex bytes")
    )
    return b""


def _bool_claim(tee: dict[str, Any], name: str, findings: list[Finding]) -> bool:
    value = tee.get(name)
    if isinstance(value, bool):
        return value
    findings.append(Finding(f"claims.{name}", False, f"claim {name} missing or not a boolean"))
    # Unknown is treated as the unsafe answer: fail closed.
    return True


def _parse_token(token_data: bytes) -> tuple[str, str, object]:
    """The compact token, its (refused or accepted) alg and its kid; nothing verified yet."""
    import jwt

    if len(token_data) > MAX_TOKEN_BYTES:
        raise MalformedError(f"MAA token: {len(token_data)} bytes exceeds {MAX_TOKEN_BYTES}")
    try:
        token = token_data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedError(
            "MAA token: not ASCII (expected a JWS compact serialization)"
        ) from None
    if not _COMPACT.fullmatch(token):
        raise MalformedError(
            "MAA token: not a JWS compact serialization (three base64url parts separated by '.')"
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.exceptions.DecodeError as exc:
        raise MalformedError(f"MAA token: unreadable JWS header ({exc})") from None
    alg = _refuse_algorithm(header.get("alg"))
    if "crit" in header:
        raise UnsupportedError(
            f"MAA token: critical header parameters {header['crit']!r} are not understood"
        )
    return token, alg, header.get("kid")


def _trusted_key(
    alg: str, kid: object, jwks: bytes | None, certificate: bytes | None, findings: list[Finding]
) -> tuple[VerifyingKey | None, str]:
    """The key the relying party trusts for this token, or None with a finding saying why."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: PublicKeyTypes | None
    if certificate is not None:
        key = load_certificates(certificate, "pinned MAA signing certificate")[0].public_key()
        source = "the pinned certificate"
    else:
        keys = load_jwks(jwks or b"")
        if kid is None and len(keys) == 1:
            key = next(iter(keys.values()))
        else:
            key = keys.get(kid) if isinstance(kid, str) else None
        source = f"JWKS key {kid!r}"
        if key is None:
            findings.append(Finding("key", False, f"no key with kid {kid!r} in the JWKS"))
            return None, source
    if not _key_fits(key, alg) or not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        findings.append(Finding("key", False, f"{source} does not fit alg {alg}"))
        return None, source
    return key, source


def verify_token(
    token_data: bytes,
    *,
    issuer: str,
    at: datetime,
    jwks: bytes | None = None,
    certificate: bytes | None = None,
    expectations: Expectations | None = None,
) -> AttestationResult:
    """Verify an MAA token against ``jwks`` or a pinned ``certificate`` (exactly one)."""
    import jwt

    if (jwks is None) == (certificate is None):
        raise UsageError("give exactly one of a JWKS (--jwks) or a pinned certificate (--cert)")
    if not issuer:
        raise UsageError("an MAA token needs the expected issuer (--issuer URL)")
    expectations = expectations or Expectations()
    token, alg, kid = _parse_token(token_data)
    findings: list[Finding] = []
    key, source = _trusted_key(alg, kid, jwks, certificate, findings)
    claims: dict[str, Any] = {}
    if key is not None:
        try:
            decoded = jwt.api_jws.decode_complete(token, key, algorithms=[alg])
        except jwt.exceptions.InvalidSignatureError:
            findings.append(Finding("signature", False, f"signature does not verify with {source}"))
        except jwt.exceptions.PyJWTError as exc:
            raise MalformedError(f"MAA token: {exc}") from None
        else:
            findings.append(Finding("signature", True, f"{alg} signature verifies with {source}"))
            claims = loads_object(
                decoded["payload"], "MAA token payload", max_bytes=MAX_TOKEN_BYTES
            )
    if not claims:
        # Nothing unverified is reported as a claim.
        return AttestationResult("maa", tuple(findings), {"kid": kid}, f"{at:%Y-%m-%dT%H:%M:%SZ}")

    findings.extend(_check_lifetime(claims, issuer, at))
    tee, tee_claims = _tee_claims(claims, findings)
    if tee is not None:
        measurement = _hex_claim(tee, "x-ms-sevsnpvm-launchmeasurement", 48, findings)
        host_data = _hex_claim(tee, "x-ms-sevsnpvm-hostdata", 32, findings)
        report_data = _hex_claim(tee, "x-ms-sevsnpvm-reportdata", 64, findings)
        findings.extend(
            check_expectations(
                expectations,
                debug=_bool_claim(tee, "x-ms-sevsnpvm-is-debuggable", findings),
                migration_agent=_bool_claim(tee, "x-ms-sevsnpvm-migration-allowed", findings),
                smt=_bool_claim(tee, "x-ms-sevsnpvm-smt-allowed", findings),
                measurement=measurement,
                host_data=host_data,
                report_data=report_data,
            )
        )
    result_claims = {
        "kid": kid,
        "issuer": claims.get("iss"),
        "issued_at": _iso(_timestamp(claims, "iat")),
        "expires": _iso(_timestamp(claims, "exp")),
        "attestation_type": claims.get("x-ms-attestation-type"),
        **tee_claims,
    }
    return AttestationResult("maa", tuple(findings), result_claims, f"{at:%Y-%m-%dT%H:%M:%SZ}")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else f"{value:%Y-%m-%dT%H:%M:%SZ}"


def _check_lifetime(claims: dict[str, Any], issuer: str, at: datetime) -> list[Finding]:
    findings = [
        Finding(
            "issuer",
            claims.get("iss") == issuer,
            f"issuer {claims.get('iss')!r}"
            + ("" if claims.get("iss") == issuer else f" is not the expected {issuer!r}"),
        )
    ]
    expires = _timestamp(claims, "exp")
    not_before = _timestamp(claims, "nbf")
    if expires is None:
        findings.append(Finding("lifetime", False, "the token has no exp claim"))
    elif at >= expires:
        findings.append(
            Finding(
                "lifetime",
                False,
                f"expired at {_iso(expires)} (checked at {at:%Y-%m-%dT%H:%M:%SZ})",
            )
        )
    elif not_before is not None and at < not_before:
        findings.append(Finding("lifetime", False, f"not valid before {_iso(not_before)}"))
    else:
        findings.append(
            Finding("lifetime", True, f"valid at {at:%Y-%m-%dT%H:%M:%SZ} (expires {_iso(expires)})")
        )
    return findings


def _tee_claims(
    claims: dict[str, Any], findings: list[Finding]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if claims.get("x-ms-attestation-type") == "sevsnpvm":
        tee: Any = claims
    else:
        tee = claims.get("x-ms-isolation-tee")
    if not isinstance(tee, dict) or tee.get("x-ms-attestation-type") != "sevsnpvm":
        findings.append(
            Finding(
                "claims",
                False,
                "the token carries no SEV-SNP claims (x-ms-attestation-type "
                f"{claims.get('x-ms-attestation-type')!r}, no sevsnpvm x-ms-isolation-tee)",
            )
        )
        return None, {}
    findings.append(Finding("claims", True, "SEV-SNP claims present"))
    picked = {
        "measurement": tee.get("x-ms-sevsnpvm-launchmeasurement"),
        "host_data": tee.get("x-ms-sevsnpvm-hostdata"),
        "report_data": tee.get("x-ms-sevsnpvm-reportdata"),
        "report_id": tee.get("x-ms-sevsnpvm-reportid"),
        "is_debuggable": tee.get("x-ms-sevsnpvm-is-debuggable"),
        "migration_allowed": tee.get("x-ms-sevsnpvm-migration-allowed"),
        "smt_allowed": tee.get("x-ms-sevsnpvm-smt-allowed"),
        "vmpl": tee.get("x-ms-sevsnpvm-vmpl"),
        "compliance_status": tee.get("x-ms-compliance-status"),
        "x-ms-runtime": tee.get("x-ms-runtime", claims.get("x-ms-runtime")),
        "x-ms-sevsnpvm": {k: v for k, v in sorted(tee.items()) if k.startswith("x-ms-sevsnpvm-")},
    }
    return tee, picked
