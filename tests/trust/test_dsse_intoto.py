"""DSSE PAE and signatures (the spec's raw r‖s vector), in-toto statements and predicates."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from chainproof.errors import MalformedError
from chainproof.trust.envelopes.dsse import pae, parse_envelope, verify_envelope
from chainproof.trust.envelopes.intoto import parse_statement, predicate_kind
from chainproof.trust.keys.model import VerificationKey
from chainproof.trust.keys.registry import load_key

if TYPE_CHECKING:
    from pathlib import Path


def test_spec_vector_pae_and_raw_signature(signing: Path) -> None:
    base = signing / "dsse-spec-testvector"
    envelope = parse_envelope((base / "envelope.json").read_bytes())
    assert envelope.pae() == (base / "expected_pae.bin").read_bytes()
    key = load_key(str(base / "public_key.pem"))
    assert len(envelope.signatures[0].sig) == 64  # raw r‖s, not DER
    assert [k for _, k in verify_envelope(envelope, (key,))] == [key]


def test_spec_vector_tampered_payload_fails(signing: Path) -> None:
    base = signing / "dsse-spec-testvector"
    obj = json.loads((base / "envelope.json").read_bytes())
    obj["payload"] = base64.b64encode(b"hello worle").decode()
    envelope = parse_envelope(json.dumps(obj))
    assert verify_envelope(envelope, (load_key(str(base / "public_key.pem")),)) == []


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"


def _keypair(kind: str) -> tuple[object, VerificationKey]:
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if kind == "ec":
        private = ec.generate_private_key(ec.SECP384R1())
    elif kind == "rsa":
        private = rsa.generate_private_key(65537, 2048)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return private, VerificationKey.from_public_key(private.public_key(), kind)


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed25519"])
def test_der_signatures_each_algorithm(kind: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import padding

    private, key = _keypair(kind)
    message = pae("application/vnd.in-toto+json", b"{}")
    if isinstance(private, ec.EllipticCurvePrivateKey):
        sig = private.sign(message, ec.ECDSA(hashes.SHA384()))
    elif isinstance(private, rsa.RSAPrivateKey):
        sig = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        sig = private.sign(message)
    envelope = parse_envelope(
        json.dumps(
            {
                "payloadType": "application/vnd.in-toto+json",
                "payload": base64.b64encode(b"{}").decode(),
                "signatures": [{"sig": base64.b64encode(sig).decode()}],
            }
        )
    )
    assert len(verify_envelope(envelope, (key,))) == 1
    _, other = _keypair(kind)
    assert verify_envelope(envelope, (other,)) == []


@pytest.mark.parametrize(
    "text",
    [
        "{",
        '{"payloadType": "x", "payload": "!!", "signatures": [{"sig": "AA=="}]}',
        '{"payloadType": "x", "payload": "AA==", "signatures": []}',
        '{"payload": "AA==", "signatures": [{"sig": "AA=="}]}',
    ],
)
def test_malformed_envelopes(text: str) -> None:
    with pytest.raises(MalformedError):
        parse_envelope(text)


def test_statement_v01_slsa_v02_from_sigstore_go(signing: Path) -> None:
    base = signing / "sigstore-go-dsse-examples"
    statement = parse_statement((base / "statement-provenance-sigstorejs1.3.0.json").read_bytes())
    assert statement.type == "https://in-toto.io/Statement/v0.1"
    assert statement.predicate_kind == "slsa-provenance-v0.2"
    sha512 = statement.subjects[0].digest["sha512"]
    assert statement.has_subject("sha512", sha512.upper())
    assert not statement.has_subject("sha256", sha512[:64])


def test_statement_v1_and_predicate_kinds(signing: Path) -> None:
    statement = parse_statement(
        (signing / "sigstore-conformance-bundles" / "statement.json").read_bytes()
    )
    assert statement.type in {
        "https://in-toto.io/Statement/v1",
        "https://in-toto.io/Statement/v0.1",
    }
    assert predicate_kind("https://slsa.dev/provenance/v1") == "slsa-provenance-v1"
    assert predicate_kind("https://cyclonedx.org/bom") == "cyclonedx"
    assert predicate_kind("https://spdx.dev/Document") == "spdx"
    assert predicate_kind("https://openvex.dev/ns/v0.2.0") == "openvex"
    assert predicate_kind("https://example.com/my-predicate/v1") == "custom"


@pytest.mark.parametrize(
    "doc",
    [
        {"_type": "https://example.com/NotAStatement", "subject": [], "predicateType": "x"},
        {"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x"},
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "a"}],
            "predicateType": "x",
        },
        {"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": "00"}}]},
    ],
)
def test_malformed_statements(doc: dict[str, object]) -> None:
    with pytest.raises(MalformedError):
        parse_statement(json.dumps(doc).encode())


def test_key_loading_errors(tmp_path: Path) -> None:
    from chainproof.errors import NotFoundError, UnsupportedError

    with pytest.raises(NotFoundError):
        load_key(str(tmp_path / "missing.pub"))
    bad = tmp_path / "bad.pub"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    with pytest.raises(MalformedError):
        load_key(str(bad))
    private = tmp_path / "private.pem"
    private.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(MalformedError, match="private key"):
        load_key(str(private))
    with pytest.raises(UnsupportedError, match="not supported yet"):
        load_key("gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k")
    with pytest.raises(UnsupportedError, match="unknown key URI scheme"):
        load_key("bogus://x")
    good = tmp_path / "good.pub"
    good.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert load_key(f"file://{good}").algorithm == "ecdsa-secp256r1"
