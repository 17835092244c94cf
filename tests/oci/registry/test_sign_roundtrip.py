"""``chainproof sign`` / ``attest`` into the real registry, then ``chainproof verify`` from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.cli.main import main
from chainproof.trust.keys.private import encrypt_private_key, generate, public_pem
from tests.oci.registry import _servers
from tests.oci.registry.conftest import TestImages

pytestmark = pytest.mark.integration
PASSWORD = "registry round trip"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sign_attest_verify_through_the_registry(
    capsys: pytest.CaptureFixture[str],
    plain_registry: _servers.RegistryProcess,
    test_images: TestImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAINPROOF_PASSWORD", PASSWORD)
    key, stranger = generate(), generate()
    (tmp_path / "k.key").write_bytes(encrypt_private_key(key, PASSWORD.encode()))  # type: ignore[arg-type]
    (tmp_path / "k.pub").write_bytes(public_pem(key))  # type: ignore[arg-type]
    (tmp_path / "s.pub").write_bytes(public_pem(stranger))  # type: ignore[arg-type]
    (tmp_path / "vex.json").write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0"}))
    plain_registry.push(test_images.layout.root, "multi", "signed/multi:v1")
    image = f"{plain_registry.host}/signed/multi:v1"
    options = ["--insecure-registry", plain_registry.host, "--authfile", str(tmp_path / "none")]

    code, out, err = _run(
        capsys, "sign", image, "--key", str(tmp_path / "k.key"), "--format", "json", *options
    )
    assert (code, err) == (0, "")
    assert json.loads(out)[0]["subject"] == test_images.index["digest"]  # the index, as cosign
    code, _, err = _run(
        capsys,
        "attest",
        image,
        "--key",
        str(tmp_path / "k.key"),
        "--predicate",
        str(tmp_path / "vex.json"),
        "--type",
        "openvex",
        *options,
    )
    assert (code, err) == (0, "")

    verify = ["verify", image, "--format", "json", "--platform", "windows/amd64", *options]
    code, out, _ = _run(capsys, *verify, "--key", str(tmp_path / "k.pub"))
    verdict = json.loads(out)
    checks = {c["id"]: c for c in verdict["checks"]}
    assert code == 0
    assert checks["signature.verified"]["status"] == "pass"
    assert checks["attestation.verified"]["status"] == "pass"
    assert "openvex" in json.dumps(checks["attestation.verified"])

    code, out, _ = _run(capsys, *verify, "--key", str(tmp_path / "s.pub"))
    assert code == 1
    assert {c["id"]: c for c in json.loads(out)["checks"]}["signature.verified"]["status"] == "fail"

    # The tag now names other content (a "tampered" image): the signature does not cover it.
    plain_registry.push(test_images.layout.root, "app", "signed/multi:v1")
    code, out, _ = _run(
        capsys, "verify", image, "--format", "json", *options, "--key", str(tmp_path / "k.pub")
    )
    assert code == 1
    assert {c["id"]: c for c in json.loads(out)["checks"]}["signature.verified"]["status"] == "fail"


def test_platform_and_recursive_subjects(
    capsys: pytest.CaptureFixture[str],
    plain_registry: _servers.RegistryProcess,
    test_images: TestImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAINPROOF_PASSWORD", PASSWORD)
    key = generate()
    (tmp_path / "k.key").write_bytes(encrypt_private_key(key, PASSWORD.encode()))  # type: ignore[arg-type]
    (tmp_path / "k.pub").write_bytes(public_pem(key))  # type: ignore[arg-type]
    options = ["--insecure-registry", plain_registry.host, "--authfile", str(tmp_path / "none")]
    sign = ["sign", "--key", str(tmp_path / "k.key"), "--format", "json", *options]

    plain_registry.push(test_images.layout.root, "multi", "recursive/multi:v1")
    code, out, _ = _run(
        capsys, *sign, f"{plain_registry.host}/recursive/multi:v1", "--all-platforms"
    )
    assert code == 0
    index = test_images.manifest(test_images.index)
    expected = {test_images.index["digest"], *(m["digest"] for m in index["manifests"])}
    assert {p["subject"] for p in json.loads(out)} == expected

    plain_registry.push(test_images.layout.root, "multi", "platform/multi:v1")
    image = f"{plain_registry.host}/platform/multi:v1"
    code, out, _ = _run(capsys, *sign, image, "--platform", "windows/amd64")
    assert code == 0
    assert [p["subject"] for p in json.loads(out)] == [test_images.windows["digest"]]
    verify = ["verify", image, "--format", "json", "--key", str(tmp_path / "k.pub"), *options]
    code, out, _ = _run(capsys, *verify, "--platform", "windows/amd64")
    assert code == 0
    # Only the Windows manifest was signed: the Linux platform has no signature.
    code, out, _ = _run(capsys, *verify, "--platform", "linux/amd64")
    assert code == 1


def test_signing_without_push_access_fails_cleanly(
    capsys: pytest.CaptureFixture[str],
    tls_registry: _servers.RegistryProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No credentials for the TLS+htpasswd registry: one-line auth error, exit 2."""
    monkeypatch.setenv("CHAINPROOF_PASSWORD", PASSWORD)
    key = generate()
    (tmp_path / "k.key").write_bytes(encrypt_private_key(key, PASSWORD.encode()))  # type: ignore[arg-type]
    assert tls_registry.ca_file is not None
    code, out, err = _run(
        capsys,
        "sign",
        f"{tls_registry.host}/team/app:v1",
        "--key",
        str(tmp_path / "k.key"),
        "--ca-file",
        str(tls_registry.ca_file),
        "--authfile",
        str(tmp_path / "none.json"),
    )
    assert code == 2 and out == ""
    assert err.startswith("chainproof: error: ") and err.count("\n") == 1
    assert "requires authentication" in err


def test_bundle_and_notation_signatures_through_the_registry(
    capsys: pytest.CaptureFixture[str],
    plain_registry: _servers.RegistryProcess,
    test_images: TestImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Referrer-placed formats: Debian's distribution 2.8 has no referrers API, so both the
    writer and the verifier go through the ``sha256-<hex>`` fallback index."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.trust.notary_pki import make_cert

    monkeypatch.setenv("CHAINPROOF_PASSWORD", PASSWORD)
    key = generate()
    (tmp_path / "k.key").write_bytes(encrypt_private_key(key, PASSWORD.encode()))  # type: ignore[arg-type]
    (tmp_path / "k.pub").write_bytes(public_pem(key))  # type: ignore[arg-type]
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = make_cert("Registry Root", ca_key, None, ca=True)
    leaf = make_cert("Registry Signer", leaf_key, ("Registry Root", ca_key), ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "chain.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    store = tmp_path / "truststore" / "x509" / "ca" / "reg"
    store.mkdir(parents=True)
    (store / "root.pem").write_bytes(ca.public_bytes(pem))
    policy = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "registry",
                "registryScopes": [f"{plain_registry.host}/signed/refs"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:reg"],
                "trustedIdentities": ["x509.subject: C=US, ST=Washington, O=Example Corp"],
            }
        ],
    }
    (tmp_path / "trustpolicy.json").write_text(json.dumps(policy))
    plain_registry.push(test_images.layout.root, "multi", "signed/refs:v1")
    image = f"{plain_registry.host}/signed/refs:v1"
    options = ["--insecure-registry", plain_registry.host, "--authfile", str(tmp_path / "none")]

    code, _, err = _run(
        capsys, "sign", image, "--bundle", "--key", str(tmp_path / "k.key"), *options
    )
    assert code == 0 and "--insecure-ignore-tlog" in err
    notation = ["--notation", "--key", str(tmp_path / "leaf.key")]
    notation += ["--certificate", str(tmp_path / "chain.pem")]
    for envelope in ("jws", "cose"):
        code, _, err = _run(
            capsys, "sign", image, *notation, "--signature-format", envelope, *options
        )
        assert (code, err) == (0, "")

    verify = ["verify", image, "--format", "json", "--platform", "windows/amd64", *options]
    trust = ["--key", str(tmp_path / "k.pub"), "--insecure-ignore-tlog"]
    trust += ["--trust-policy", str(tmp_path / "trustpolicy.json")]
    code, out, _ = _run(capsys, *verify, *trust, "--threshold", "2")
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert code == 0, checks["signature.verified"]
    assert checks["signature.sigstore-bundle"]["status"] == "pass"
    assert checks["signature.notation"]["message"].startswith("2 of 2")
    # Signed was the index (as cosign and notation sign a tag that names one); the verdict says so.
    assert checks["signature.verified"]["evidence"]["signed"] == ["index"]
    assert "signed the index" in checks["signature.verified"]["message"]

    # The tag now names other content: neither format covers it.
    plain_registry.push(test_images.layout.root, "app", "signed/refs:v1")
    code, out, _ = _run(capsys, "verify", image, "--format", "json", *options, *trust)
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert checks["signature.verified"]["status"] == "fail"
