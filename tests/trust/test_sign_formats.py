"""``sign --notation`` (the user's own X.509 chain) and ``sign/attest --bundle`` (key-signed
Sigstore bundle v0.3) on an OCI layout, verified by chainproof's own Notation and bundle
verifiers through ``chainproof verify``."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from chainproof.cli.main import main
from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.sources.layout import LayoutSource
from chainproof.trust.interface import TrustInputs
from chainproof.trust.keys.private import SigningKey, encrypt_private_key, generate, public_pem
from chainproof.trust.notation.envelope import parse_envelope
from chainproof.trust.notation.sign import (
    NotationSigner,
    cose_envelope,
    jws_envelope,
    notation_attachment,
)
from chainproof.trust.notation.trustpolicy import TrustPolicy
from chainproof.trust.notation.truststore import TrustStore
from chainproof.trust.notation.verify import NotationSignatures, verify_envelope
from chainproof.trust.sigstore.bundle import verify_bundle
from chainproof.trust.sigstore.sign import dsse_bundle, key_hint
from tests.trust.notary_pki import make_cert

PASSWORD = "correct horse"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, an ECDSA and an RSA-3072 code-signing leaf, an expired leaf, a TLS-server leaf, an
    unrelated CA, a trust store and policy per CA; plus a cosign key pair and a hybrid key."""
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca = make_cert("Test Root", ca_key, None, ca=True)
    issuer = ("Test Root", ca_key)
    leaves: dict[str, tuple[Any, x509.Certificate]] = {}
    ec_key = ec.generate_private_key(ec.SECP256R1())
    leaves["ec"] = (ec_key, make_cert("EC Signer", ec_key, issuer, ca=False))
    rsa_key = rsa.generate_private_key(65537, 3072)
    leaves["rsa"] = (rsa_key, make_cert("RSA Signer", rsa_key, issuer, ca=False))  # type: ignore[arg-type]
    old_key = ec.generate_private_key(ec.SECP256R1())
    expired = make_cert(
        "Old Signer",
        old_key,
        issuer,
        ca=False,
        start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
    )
    leaves["expired"] = (old_key, expired)
    tls_key = ec.generate_private_key(ec.SECP256R1())
    tls = make_cert("TLS", tls_key, issuer, ca=False, eku=ExtendedKeyUsageOID.SERVER_AUTH)
    leaves["tls"] = (tls_key, tls)
    for name, (key, cert) in leaves.items():
        (d / f"{name}.key").write_bytes(_key_pem(key))
        (d / f"{name}.pem").write_bytes(_pem(cert))
        (d / f"{name}-chain.pem").write_bytes(_pem(cert) + _pem(ca))
    (d / "ec-encrypted.key").write_bytes(_key_pem(leaves["ec"][0], PASSWORD.encode()))
    (d / "ca.pem").write_bytes(_pem(ca))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = make_cert("Other Root", other_key, None, ca=True)
    for store, cert in (("mine", ca), ("other", other)):
        (d / "truststore" / "x509" / "ca" / store).mkdir(parents=True)
        (d / "truststore" / "x509" / "ca" / store / "root.pem").write_bytes(_pem(cert))
        policy = {
            "version": "1.0",
            "trustPolicies": [
                {
                    "name": "all",
                    "registryScopes": ["*"],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": [f"ca:{store}"],
                    "trustedIdentities": ["*"],
                }
            ],
        }
        (d / f"policy-{store}.json").write_text(json.dumps(policy))
    key, other_cosign, hybrid = generate(), generate(), generate("hybrid-ecdsa-p256-mldsa-65")
    (d / "cosign.key").write_bytes(encrypt_private_key(key, PASSWORD.encode()))  # type: ignore[arg-type]
    (d / "cosign.pub").write_bytes(public_pem(key))  # type: ignore[arg-type]
    (d / "other.pub").write_bytes(public_pem(other_cosign))  # type: ignore[arg-type]
    (d / "hybrid.key").write_bytes(encrypt_private_key(hybrid.classic, PASSWORD.encode()))  # type: ignore[union-attr]
    (d / "hybrid.mldsa.key").write_bytes(encrypt_private_key(hybrid.pq, PASSWORD.encode()))  # type: ignore[union-attr]
    return d


@pytest.fixture
def image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CHAINPROOF_PASSWORD", PASSWORD)
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    build_sample(tmp_path / "image")
    return f"oci:{tmp_path / 'image'}:{SAMPLE_TAG}"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _verify(capsys: pytest.CaptureFixture[str], image: str, *extra: str) -> tuple[int, Any]:
    code, out, _ = _run(capsys, "verify", image, "--format", "json", *extra)
    verdict = json.loads(out)
    checks = {c["id"]: c for c in verdict["checks"]}
    return code, checks


def _notation_trust(pki: Path, store: str = "mine") -> tuple[str, ...]:
    return (
        "--trust-policy",
        str(pki / f"policy-{store}.json"),
        "--trust-store",
        str(pki / "truststore"),
    )


# --------------------------------------------------------------------------- Notation


@pytest.mark.parametrize(
    ("leaf", "envelope", "algorithm"),
    [
        ("ec", "jws", "ES256"),
        ("ec", "cose", "ES256"),
        ("rsa", "jws", "PS384"),
        ("rsa", "cose", "PS384"),
    ],
)
def test_notation_sign_verify_round_trip(
    capsys: pytest.CaptureFixture[str],
    pki: Path,
    image: str,
    *,
    leaf: str,
    envelope: str,
    algorithm: str,
) -> None:
    code, out, err = _run(
        capsys,
        "sign",
        image,
        "--notation",
        "--key",
        str(pki / f"{leaf}.key"),
        "--certificate",
        str(pki / f"{leaf}.pem"),
        "--certificate-chain",
        str(pki / "ca.pem"),
        "--signature-format",
        envelope,
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    [published] = json.loads(out)
    assert published["placement"] == "referrer"
    layout = Path(image[4:].rsplit(":", 1)[0])
    with LayoutSource.from_directory(layout, SAMPLE_TAG) as source:
        [referrer] = source.referrers(Digest.parse(published["subject"]))
        manifest = json.loads(source.get_manifest(referrer.digest).data)
    assert manifest["artifactType"] == "application/vnd.cncf.notary.signature"
    assert json.loads(manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"])[0]
    layer = manifest["layers"][0]
    data = (layout / "blobs" / "sha256" / layer["digest"].split(":")[1]).read_bytes()
    assert parse_envelope(data, layer["mediaType"]).algorithm == algorithm

    code, checks = _verify(capsys, image, *_notation_trust(pki))
    assert code == 0
    assert checks["signature.notation"]["status"] == "pass"
    assert checks["signature.verified"]["status"] == "pass"
    # A trust store holding another CA: the same signature is not trusted.
    code, checks = _verify(capsys, image, *_notation_trust(pki, "other"))
    assert code == 1
    assert "trust stores" in checks["signature.verified"]["message"]


def test_notation_chain_in_one_file_and_encrypted_pkcs8_key(
    capsys: pytest.CaptureFixture[str], pki: Path, image: str
) -> None:
    code, _, err = _run(
        capsys,
        "sign",
        image,
        "--notation",
        "--key",
        str(pki / "ec-encrypted.key"),
        "--certificate",
        str(pki / "ec-chain.pem"),
    )
    assert (code, err) == (0, "")
    code, _ = _verify(capsys, image, *_notation_trust(pki))
    assert code == 0


def _signer(pki: Path, leaf: str = "ec") -> NotationSigner:
    private = serialization.load_pem_private_key((pki / f"{leaf}.key").read_bytes(), None)
    chain = tuple(x509.load_pem_x509_certificates((pki / f"{leaf}-chain.pem").read_bytes()))
    return NotationSigner(SigningKey(private), chain)  # type: ignore[arg-type]


TARGET = Descriptor(
    "application/vnd.oci.image.manifest.v1+json",
    Digest.parse("sha256:" + "ab" * 32),
    1234,
)


@pytest.mark.parametrize("build", [jws_envelope, cose_envelope])
def test_notation_tampering_and_expiry_fail(pki: Path, build: Any) -> None:
    signer = _signer(pki)
    statement = TrustPolicy.load(pki / "policy-mine.json").for_reference("x/y:z")
    store = TrustStore(pki / "truststore")
    expiry = NOW + dt.timedelta(hours=1)
    data = build(TARGET, signer, NOW, expiry)
    media = "application/jose+json" if build is jws_envelope else "application/cose"
    envelope = parse_envelope(data, media)
    assert verify_envelope(envelope, statement, store, target=TARGET, now=NOW).verified
    # Another image: the signed descriptor does not match.
    other = Descriptor(TARGET.media_type, Digest.parse("sha256:" + "cd" * 32), 1234)
    outcome = verify_envelope(envelope, statement, store, target=other, now=NOW)
    assert not outcome.verified and "signature is for" in outcome.reason
    # After the signature's own expiry (strict enforces expiry).
    later = NOW + dt.timedelta(hours=2)
    outcome = verify_envelope(envelope, statement, store, target=TARGET, now=later)
    assert not outcome.verified and "expired" in outcome.reason
    # One byte of the signature changed.
    import dataclasses

    flipped = bytes([envelope.signature[0] ^ 1]) + envelope.signature[1:]
    outcome = verify_envelope(
        dataclasses.replace(envelope, signature=flipped), statement, store, target=TARGET, now=NOW
    )
    assert not outcome.verified and "does not verify" in outcome.reason


def test_notation_attachment_records_signing_time(pki: Path) -> None:
    attachment = notation_attachment(TARGET, _signer(pki), envelope="cose", now=NOW)
    manifest = json.loads(attachment.manifest)
    assert manifest["subject"]["digest"] == str(TARGET.digest)
    assert manifest["annotations"]["org.opencontainers.image.created"] == "2026-06-01T00:00:00Z"
    [layer] = manifest["layers"]
    envelope = parse_envelope(attachment.blobs[layer["digest"]], layer["mediaType"])
    assert envelope.signing_time == NOW


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired certificate", "expired"),
        ("TLS certificate", "code signing"),
        ("key does not match", "does not certify the signing key"),
        ("no root", "self-signed root"),
        ("no certificate", "needs --certificate"),
        ("certificate without notation", "applies to --notation"),
        ("hybrid key", "hybrid"),
        ("bad expiry", "--expiry"),
        ("both formats", "choose one"),
    ],
)
def test_notation_bad_input_exit_2_writes_nothing(
    capsys: pytest.CaptureFixture[str], pki: Path, image: str, *, case: str, message: str
) -> None:
    argv = ["sign", image, "--notation", "--key", str(pki / "ec.key"), "--certificate"]
    argv.append(str(pki / "ec-chain.pem"))
    if case == "expired certificate":
        argv[4], argv[6] = str(pki / "expired.key"), str(pki / "expired-chain.pem")
    elif case == "TLS certificate":
        argv[4], argv[6] = str(pki / "tls.key"), str(pki / "tls-chain.pem")
    elif case == "key does not match":
        argv[4] = str(pki / "rsa.key")
    elif case == "no root":
        argv[6] = str(pki / "ec.pem")
    elif case == "no certificate":
        argv = argv[:5]
    elif case == "certificate without notation":
        argv.remove("--notation")
    elif case == "hybrid key":
        argv[4] = str(pki / "hybrid.key")
    elif case == "bad expiry":
        argv += ["--expiry", "soon"]
    elif case == "both formats":
        argv.append("--bundle")
    layout = Path(image[4:].rsplit(":", 1)[0])
    before = {p: p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("chainproof: error: ") and err.count("\n") == 1
    assert message in err
    assert {p: p.read_bytes() for p in layout.rglob("*") if p.is_file()} == before


# --------------------------------------------------------------------------- bundles


def test_bundle_sign_attest_verify_round_trip(
    capsys: pytest.CaptureFixture[str], pki: Path, image: str
) -> None:
    key = str(pki / "cosign.key")
    code, out, err = _run(capsys, "sign", image, "--bundle", "--key", key, "-a", "env=prod")
    # The note says how to verify what has no log entry.
    assert code == 0 and err.startswith("note: ") and "--insecure-ignore-tlog" in err
    assert "referrer" in out
    predicate = Path(image[4:].rsplit(":", 1)[0]).parent / "provenance.json"
    predicate.write_text(json.dumps({"buildDefinition": {"buildType": "https://example/t"}}))
    code, _, err = _run(
        capsys,
        "attest",
        image,
        "--bundle",
        "--key",
        key,
        "--predicate",
        str(predicate),
        "--type",
        "slsaprovenance1",
    )
    assert code == 0 and "--insecure-ignore-tlog" in err
    pub = str(pki / "cosign.pub")
    # cosign's rule: a bundle without a log entry needs --insecure-ignore-tlog.
    code, checks = _verify(capsys, image, "--key", pub)
    assert code == 1
    message = checks["signature.verified"]["message"]
    assert "accept it with --insecure-ignore-tlog" in message and "transparency log" in message
    code, checks = _verify(
        capsys,
        image,
        "--key",
        pub,
        "--insecure-ignore-tlog",
        "--attestation-type",
        "slsa-provenance-v1",
    )
    assert code == 0
    assert checks["signature.sigstore-bundle"]["status"] == "pass"
    assert checks["attestation.verified"]["status"] == "pass"
    code, checks = _verify(capsys, image, "--key", str(pki / "other.pub"), "--insecure-ignore-tlog")
    assert code == 1
    assert "any of the given keys" in checks["signature.verified"]["message"]


def test_bundle_has_cosign_v3_shape_and_tampering_fails(pki: Path) -> None:
    signing_key = generate()
    assert isinstance(signing_key, SigningKey)
    from chainproof.trust.sigstore.sign import statement

    data = dsse_bundle(statement(TARGET, "registry.example/app"), signing_key)
    bundle = json.loads(data)
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["verificationMaterial"] == {
        "publicKey": {"hint": key_hint(signing_key)},
        "tlogEntries": [],
    }
    payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    assert payload["predicateType"] == "https://sigstore.dev/cosign/sign/v1"
    assert payload["subject"][0]["digest"] == {"sha256": "ab" * 32}
    keys = (signing_key.public,)
    digest = bytes.fromhex("ab" * 32)
    result = verify_bundle(data, None, artifact_sha256=digest, keys=keys, ignore_tlog=True)
    assert result.statement is not None
    # Another image digest: the statement does not name it.
    with pytest.raises(Exception, match="no in-toto subject"):
        verify_bundle(data, None, artifact_sha256=b"\xcd" * 32, keys=keys, ignore_tlog=True)
    # One byte of the payload changed.
    forged = dict(payload, predicate={"x": 1})
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(forged).encode()).decode()
    with pytest.raises(Exception, match="any of the given keys"):
        verify_bundle(
            json.dumps(bundle).encode(), None, artifact_sha256=digest, keys=keys, ignore_tlog=True
        )


def test_bundle_refuses_hybrid_and_mldsa_keys(
    capsys: pytest.CaptureFixture[str], pki: Path, image: str
) -> None:
    code, _, err = _run(capsys, "sign", image, "--bundle", "--key", str(pki / "hybrid.key"))
    assert code == 2 and "hybrid" in err
    mldsa = generate("mldsa-65")
    assert isinstance(mldsa, SigningKey)
    with pytest.raises(Exception, match="cannot carry mldsa-65"):
        dsse_bundle(b"{}", mldsa)


# --------------------------------------------------------------------------- across formats


def test_threshold_counts_distinct_signers_across_formats(
    capsys: pytest.CaptureFixture[str], pki: Path, image: str
) -> None:
    """A cosign key signature (tag layout), a key-signed bundle by the same key and a Notation
    signature: two distinct signers."""
    key = str(pki / "cosign.key")
    assert _run(capsys, "sign", image, "--key", key)[0] == 0
    assert _run(capsys, "sign", image, "--bundle", "--key", key)[0] == 0
    argv = ["--notation", "--key", str(pki / "ec.key"), "--certificate", str(pki / "ec-chain.pem")]
    assert _run(capsys, "sign", image, *argv)[0] == 0
    trust = ("--key", str(pki / "cosign.pub"), "--insecure-ignore-tlog", *_notation_trust(pki))
    code, checks = _verify(capsys, image, *trust, "--threshold", "2")
    assert code == 0
    evidence = checks["signature.verified"]["evidence"]
    assert len(evidence["signers"]) == 2
    assert {
        checks[f"signature.{name}"]["status"] for name in ("cosign", "sigstore-bundle", "notation")
    } == {"pass"}
    code, checks = _verify(capsys, image, *trust, "--threshold", "3")
    assert code == 1
    assert "2 trusted signer(s), 3 required" in checks["signature.verified"]["message"]


def test_notation_library_verifier_reads_our_layout(pki: Path, image: str) -> None:
    """The format object itself (as the admission path uses it) finds both envelopes."""
    from chainproof.trust.publishing.publish import sign_reference_notation

    signer = _signer(pki, "rsa")
    for envelope in ("jws", "cose"):
        sign_reference_notation(image, signer, envelope=envelope)
    layout = Path(image[4:].rsplit(":", 1)[0])
    trust = TrustInputs(
        trust_policy=pki / "policy-mine.json",
        trust_store=pki / "truststore",
        reference="registry.example/app:1",
    )
    with LayoutSource.from_directory(layout, SAMPLE_TAG) as source:
        _, digest = source.resolve()
        assert digest is not None
        results = NotationSignatures().verify(source, digest, trust)
    assert [r.verified for r in results] == [True, True]
    assert {r.signer for r in results} == {"CN=RSA Signer,O=Example Corp,ST=Washington,C=US"}


def test_notation_changed_certificate_byte_fails(pki: Path) -> None:
    """One byte of the leaf certificate's signature changed: the envelope still verifies with
    the (unchanged) key, but the chain does not, and authenticity names why."""
    signer = _signer(pki)
    statement = TrustPolicy.load(pki / "policy-mine.json").for_reference("x/y:z")
    store = TrustStore(pki / "truststore")
    document = json.loads(jws_envelope(TARGET, signer, NOW, None))
    leaf = bytearray(base64.b64decode(document["header"]["x5c"][0]))
    leaf[-1] ^= 0x01  # inside the certificate's signature value
    document["header"]["x5c"][0] = base64.b64encode(bytes(leaf)).decode()
    envelope = parse_envelope(json.dumps(document).encode(), "application/jose+json")
    outcome = verify_envelope(envelope, statement, store, target=TARGET, now=NOW)
    assert not outcome.verified
    assert "is not issued by" in outcome.reason


def test_verify_bundle_command_with_insecure_ignore_tlog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chainproof.trust.sigstore.sign import statement

    signing_key = generate()
    assert isinstance(signing_key, SigningKey)
    (tmp_path / "k.pub").write_bytes(public_pem(signing_key))
    (tmp_path / "b.json").write_bytes(dsse_bundle(statement(TARGET, "r"), signing_key))
    base = ["verify-bundle", "--bundle", str(tmp_path / "b.json"), "--key", str(tmp_path / "k.pub")]
    digest = str(TARGET.digest)
    code, out, _ = _run(capsys, *base, "--insecure-ignore-tlog", digest)
    assert code == 0 and "Verified OK" in out
    # No trusted root and no --insecure-ignore-tlog: bad usage, not a silent pass.
    code = main([*base, digest])
    assert code == 2
    assert "--trusted-root is required" in capsys.readouterr().err
    code, out, err = _run(capsys, *base, "--insecure-ignore-tlog", "sha256:" + "00" * 32)
    assert code == 1 and "no in-toto subject" in out + err


def test_hybrid_key_in_verify_needs_both_halves(
    capsys: pytest.CaptureFixture[str], pki: Path, image: str, tmp_path: Path
) -> None:
    """``verify --key hybrid.pub`` (ECDSA + ML-DSA-65): a signature by the ECDSA half alone —
    what a cosign user with that key would produce — is not enough; the hybrid pair is."""
    import shutil

    from chainproof.trust.keys.private import decrypt_private_key

    classic_only = tmp_path / "classic" / "hybrid.key"  # no hybrid.mldsa.key beside it
    classic_only.parent.mkdir()
    shutil.copy(pki / "hybrid.key", classic_only)
    classic = decrypt_private_key(classic_only.read_bytes(), PASSWORD.encode())
    pq = decrypt_private_key((pki / "hybrid.mldsa.key").read_bytes(), PASSWORD.encode())
    (tmp_path / "hybrid.pub").write_bytes(public_pem(classic) + public_pem(pq))
    (tmp_path / "classic.pub").write_bytes(public_pem(classic))
    assert _run(capsys, "sign", image, "--key", str(classic_only))[0] == 0
    code, checks = _verify(capsys, image, "--key", str(tmp_path / "classic.pub"))
    assert code == 0
    code, checks = _verify(capsys, image, "--key", str(tmp_path / "hybrid.pub"))
    assert code == 1
    assert checks["signature.verified"]["status"] == "fail"
    # The pair signs hybrid; now the hybrid key verifies, in FIPS mode too (both halves approved).
    assert _run(capsys, "sign", image, "--key", str(pki / "hybrid.key"))[0] == 0
    code, checks = _verify(capsys, image, "--key", str(tmp_path / "hybrid.pub"), "--fips")
    assert code == 0
    assert checks["signature.fips"]["status"] in ("pass", "warn")
