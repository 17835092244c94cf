"""FIPS mode: approved algorithms only, and an honest report of the backend."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chainproof.errors import UsageError
from chainproof.trust.check import trust_inputs
from chainproof.trust.fips import backend_fips_enabled, refusal
from chainproof.trust.keys import VerificationKey
from chainproof.trust.notation import (
    JWS_MEDIA_TYPE,
    TrustPolicy,
    TrustStore,
    parse_envelope,
    verify_envelope,
)
from chainproof.trust.signing import SigningKey, generate

if TYPE_CHECKING:
    from pathlib import Path


def test_approved_and_refused_algorithms() -> None:
    for algorithm in ("ecdsa-p256", "ed25519", "mldsa-65"):
        key = generate(algorithm)
        assert isinstance(key, SigningKey)
        assert refusal(key.public) == ""
    k1 = VerificationKey.from_public_key(ec.generate_private_key(ec.SECP256K1()).public_key(), "k1")
    assert "secp256k1" in refusal(k1)
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505 - the weak key under test
    small = VerificationKey.from_public_key(weak.public_key(), "r")
    assert "RSA-1024" in refusal(small)
    assert isinstance(backend_fips_enabled(), bool)


def test_fips_option_refuses_weak_key(tmp_path: Path) -> None:
    path = tmp_path / "k1.pub"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256K1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert trust_inputs({"keys": [str(path)]}).keys  # accepted outside FIPS mode
    with pytest.raises(UsageError, match="FIPS mode refuses key"):
        trust_inputs({"keys": [str(path)], "fips": True})


def test_fips_accepts_notation_rsa_pss(signing: Path, tmp_path: Path) -> None:
    base = signing / "notation-notation-go"
    store = tmp_path / "x509" / "ca" / "t"
    store.mkdir(parents=True)
    shutil.copy(base / "alpine-selfsigned-2000-2123.pem", store)
    policy = TrustPolicy.parse(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "t",
                        "registryScopes": ["*"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:t"],
                        "trustedIdentities": ["*"],
                    }
                ],
            }
        ).encode()
    ).statements[0]
    envelope = parse_envelope((base / "jws_signature.sig").read_bytes(), JWS_MEDIA_TYPE)
    assert verify_envelope(envelope, policy, TrustStore(tmp_path), fips=True).verified
