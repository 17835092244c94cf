"""FIPS mode: approved algorithms only, and an honest report of the backend."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chainproof.errors import UsageError
from chainproof.trust.fips import backend_fips_enabled, refusal
from chainproof.trust.keys.model import VerificationKey
from chainproof.trust.keys.private import SigningKey, generate
from chainproof.trust.notation.envelope import JWS_MEDIA_TYPE, parse_envelope
from chainproof.trust.notation.trustpolicy import TrustPolicy
from chainproof.trust.notation.truststore import TrustStore
from chainproof.trust.notation.verify import verify_envelope
from tests.trust.flagconfig import trust_config

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
    assert trust_config(keys=[str(path)]).signatures[0].trust.keys  # accepted outside FIPS mode
    with pytest.raises(UsageError, match="FIPS mode refuses key"):
        trust_config(keys=[str(path)], fips=True)


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


def test_certificate_refusal_names_key_and_hash() -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from chainproof.trust.fips import certificate_refusal

    def cert(
        key: ec.EllipticCurvePrivateKey, algorithm: hashes.SHA256 | hashes.SHA3_256
    ) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "c")])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
            .sign(key, algorithm)
        )

    p256 = ec.generate_private_key(ec.SECP256R1())
    assert certificate_refusal(cert(p256, hashes.SHA256())) == ""
    assert certificate_refusal(cert(p256, hashes.SHA3_256())) == ""
    # This OpenSSL refuses to sign with SHA-1, so a real certificate is wrapped to report it.
    real = cert(p256, hashes.SHA256())

    class Sha1Signed:
        subject = real.subject
        signature_hash_algorithm = hashes.SHA1()  # noqa: S303 - under test

        def public_key(self) -> object:
            return real.public_key()

    assert "signed with SHA1" in certificate_refusal(Sha1Signed())  # type: ignore[arg-type]
    k1 = ec.generate_private_key(ec.SECP256K1())
    assert "secp256k1" in certificate_refusal(cert(k1, hashes.SHA256()))


def test_sign_fips_refuses_weak_key_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chainproof.cli.main import main
    from chainproof.demo.sample import SAMPLE_TAG, build_sample

    build_sample(tmp_path / "image")
    image = f"oci:{tmp_path / 'image'}:{SAMPLE_TAG}"
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505 - the weak key under test
    (tmp_path / "weak.key").write_bytes(
        weak.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    before = (tmp_path / "image" / "index.json").read_bytes()
    for extra in ([], ["--bundle"]):
        code = main(["sign", image, "--fips", "--key", str(tmp_path / "weak.key"), *extra])
        _, err = capsys.readouterr()
        assert code == 2
        assert "FIPS mode refuses the signing key: RSA-1024" in err
    assert (tmp_path / "image" / "index.json").read_bytes() == before
    # Without --fips the same key signs (cosign's tag layout).
    assert main(["sign", image, "--key", str(tmp_path / "weak.key")]) == 0
    assert (tmp_path / "image" / "index.json").read_bytes() != before
    # An approved key signs in FIPS mode; the backend's state is reported, not hidden.
    good = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "good.key").write_bytes(
        good.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    capsys.readouterr()
    assert main(["sign", image, "--fips", "--key", str(tmp_path / "good.key")]) == 0
    _, err = capsys.readouterr()
    assert ("FIPS-validated" in err) is not backend_fips_enabled()
