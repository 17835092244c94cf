"""``chainproof sign`` / ``attest`` on an OCI layout, then ``chainproof verify`` on the result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chainproof.cli.main import main
from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import parse
from chainproof.oci.sources.layout import LayoutSource
from chainproof.trust.attachment import referrer_attachment
from chainproof.trust.cosign.sign import simplesigning_payload
from chainproof.trust.cosign.verify import attachment_tag
from chainproof.trust.keys.private import encrypt_private_key, generate, public_pem
from chainproof.trust.publishing.destination import LayoutDestination
from chainproof.trust.publishing.publish import predicate_type_uri, repository_name

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """key.key/key.pub, other.pub, and a hybrid pair hybrid.key + hybrid.mldsa.key/hybrid.pub."""
    directory = tmp_path_factory.mktemp("keys")
    key, other, hybrid = generate(), generate(), generate("hybrid-ecdsa-p256-mldsa-65")
    (directory / "key.key").write_bytes(encrypt_private_key(key, PASSWORD.encode()))  # type: ignore[arg-type]
    (directory / "key.pub").write_bytes(public_pem(key))  # type: ignore[arg-type]
    (directory / "other.pub").write_bytes(public_pem(other))  # type: ignore[arg-type]
    (directory / "hybrid.key").write_bytes(encrypt_private_key(hybrid.classic, PASSWORD.encode()))  # type: ignore[union-attr]
    (directory / "hybrid.mldsa.key").write_bytes(
        encrypt_private_key(hybrid.pq, PASSWORD.encode())  # type: ignore[union-attr]
    )
    (directory / "hybrid.pub").write_bytes(public_pem(hybrid.classic) + public_pem(hybrid.pq))  # type: ignore[union-attr]
    return directory


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAINPROOF_PASSWORD", PASSWORD)
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    root = tmp_path / "image"
    build_sample(root)
    return root


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _verify(capsys: pytest.CaptureFixture[str], image: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _ = _run(capsys, "verify", image, "--format", "json", *extra)
    return code, json.loads(out)


def _check(verdict: dict, check_id: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in verdict["checks"] if c["id"] == check_id)


def test_sign_attest_verify_round_trip(
    capsys: pytest.CaptureFixture[str], layout: Path, keys: Path
) -> None:
    image = f"oci:{layout}:{SAMPLE_TAG}"
    predicate = layout.parent / "provenance.json"
    predicate.write_text(json.dumps({"buildDefinition": {"buildType": "https://example/t"}}))
    code, out, err = _run(
        capsys, "sign", image, "--key", str(keys / "key.key"), "-a", "env=prod", "--format", "json"
    )
    assert (code, err) == (0, "")
    [signed] = json.loads(out)
    assert signed["tag"].endswith(".sig") and signed["entries"] == 1
    code, out, err = _run(
        capsys,
        "attest",
        image,
        "--key",
        str(keys / "key.key"),
        "--predicate",
        str(predicate),
        "--type",
        "slsaprovenance1",
    )
    assert (code, err) == (0, "")
    assert ".att" in out

    code, verdict = _verify(
        capsys, image, "--key", str(keys / "key.pub"), "--attestation-type", "slsa-provenance-v1"
    )
    assert code == 0
    assert _check(verdict, "signature.verified")["status"] == "pass"
    assert _check(verdict, "attestation.verified")["status"] == "pass"
    assert "slsa-provenance-v1" in json.dumps(_check(verdict, "attestation.verified"))

    code, verdict = _verify(capsys, image, "--key", str(keys / "other.pub"))
    assert code == 1
    assert _check(verdict, "signature.verified")["status"] == "fail"

    # Without a tag the layout still names one image: .sig/.att entries are not candidates.
    code, verdict = _verify(capsys, f"oci:{layout}", "--key", str(keys / "key.pub"))
    assert code == 0
    assert _check(verdict, "signature.verified")["status"] == "pass"

    # The -a annotation is in the signed payload, where cosign puts it.
    with LayoutSource.from_directory(layout, SAMPLE_TAG) as source:
        raw = source.get_tag(signed["tag"])
        assert raw is not None
        layer = Descriptor.from_json(json.loads(raw.data)["layers"][0], "sig")
        payload = json.loads(b"".join(source.open_blob(layer)))
    assert payload["optional"] == {"env": "prod"}


def test_second_signature_is_appended_and_hybrid_key_verifies(
    capsys: pytest.CaptureFixture[str], layout: Path, keys: Path
) -> None:
    image = f"oci:{layout}:{SAMPLE_TAG}"
    assert _run(capsys, "sign", image, "--key", str(keys / "key.key"))[0] == 0
    code, out, _ = _run(
        capsys, "sign", image, "--key", str(keys / "hybrid.key"), "--format", "json"
    )
    assert code == 0 and json.loads(out)[0]["entries"] == 2
    for pub in ("key.pub", "hybrid.pub"):
        code, _ = _verify(capsys, image, "--key", str(keys / pub))
        assert code == 0, pub
    # Both keys at once: two distinct signers meet a threshold of 2.
    code, _ = _verify(
        capsys,
        image,
        "--key",
        str(keys / "key.pub"),
        "--key",
        str(keys / "hybrid.pub"),
        "--threshold",
        "2",
    )
    assert code == 0
    index = json.loads((layout / "index.json").read_text())
    assert len(index["manifests"]) == 2  # the image and one .sig tag, not two


def test_tampered_image_fails(capsys: pytest.CaptureFixture[str], layout: Path, keys: Path) -> None:
    image = f"oci:{layout}:{SAMPLE_TAG}"
    assert _run(capsys, "sign", image, "--key", str(keys / "key.key"))[0] == 0
    # Re-tag a manifest with one changed byte (an annotation): the signature no longer applies.
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"] if m["annotations"].get(mt_ref()) == SAMPLE_TAG)
    old = Digest.parse(entry["digest"])
    data = (layout / "blobs" / "sha256" / old.hex).read_bytes()
    changed = data.replace(b'"schemaVersion": 2', b'"schemaVersion":  2', 1)
    assert changed != data
    new = Digest.of(changed)
    (layout / "blobs" / "sha256" / new.hex).write_bytes(changed)
    entry.update(digest=str(new), size=len(changed))
    (layout / "index.json").write_text(json.dumps(index))
    code, verdict = _verify(capsys, image, "--key", str(keys / "key.pub"))
    assert code == 1
    assert _check(verdict, "signature.verified")["status"] == "fail"

    # A flipped byte inside a layer: integrity fails although the signature still matches.
    manifest = json.loads(changed)
    victim = Digest.parse(manifest["layers"][0]["digest"])
    path = layout / "blobs" / "sha256" / victim.hex
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    entry.update(digest=str(old), size=len(data))
    (layout / "index.json").write_text(json.dumps(index))
    code, verdict = _verify(capsys, image, "--key", str(keys / "key.pub"))
    assert code == 1
    assert verdict["verdict"] == "fail"


def mt_ref() -> str:
    return "org.opencontainers.image.ref.name"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing key", "key file"),
        ("wrong password", "wrong password"),
        ("unreadable predicate", "absent.json: no such file"),
        ("malformed predicate", "predicate"),
        ("unknown type", "unknown predicate --type"),
        ("bad annotation", "KEY=VALUE"),
        ("unknown key scheme", "unknown key URI scheme"),
        ("archive", "cannot write signatures"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    layout: Path,
    keys: Path,
    *,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    message: str,
) -> None:
    image = f"oci:{layout}:{SAMPLE_TAG}"
    key = str(keys / "key.key")
    predicate = layout.parent / "p.json"
    predicate.write_text("{}")
    argv = ["attest", image, "--key", key, "--predicate", str(predicate), "--type", "openvex"]
    if case == "missing key":
        argv[3] = str(keys / "absent.key")
    elif case == "wrong password":
        monkeypatch.setenv("CHAINPROOF_PASSWORD", "not it")
    elif case == "unreadable predicate":
        argv[5] = str(layout.parent / "absent.json")
    elif case == "malformed predicate":
        predicate.write_text("{not json")
    elif case == "unknown type":
        argv[7] = "sbom-of-sorts"
    elif case == "bad annotation":
        argv = ["sign", image, "--key", key, "-a", "novalue"]
    elif case == "unknown key scheme":
        argv[3] = "vaultish://k"
    elif case == "archive":
        archive = layout.parent / "image.tar"
        shutil.make_archive(str(archive.with_suffix("")), "tar", layout)
        argv[1] = f"oci-archive:{archive}:{SAMPLE_TAG}"
    before = {p: p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("chainproof: error: ") and err.count("\n") == 1
    assert message in err
    after = {p: p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    assert after == before


def test_referrer_in_a_layout_is_found_by_subject(layout: Path) -> None:
    with LayoutSource.from_directory(layout, SAMPLE_TAG) as source:
        raw, digest = source.resolve()
    assert digest is not None
    subject = Descriptor(mt.OCI_MANIFEST, digest, len(raw.data))
    kind = "application/vnd.example.sbom"
    attachment = referrer_attachment(subject, kind, [("application/json", b"{}", {})])
    LayoutDestination(layout).write_referrer(attachment, digest)
    LayoutDestination(layout).write_referrer(attachment, digest)  # no duplicate entry
    with LayoutSource.from_directory(layout, SAMPLE_TAG) as source:
        found = source.referrers(digest, kind)
        assert source.resolve()[1] == digest  # the tag still resolves to the image
    assert [d.digest for d in found] == [attachment.digest]
    assert len(json.loads((layout / "index.json").read_text())["manifests"]) == 2


def test_payload_is_byte_identical_to_cosigns(signing: Path) -> None:
    """Interop: cosign's own payload blob (connaisseur's registry dump) is what we produce."""
    blobs = signing / "cosign-simplesigning-connaisseur/securesystemsengineering/testimage/blobs"
    subject = Digest.parse(
        "sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81"
    )
    repository = repository_name(parse("securesystemsengineering/testimage"))
    assert repository == "index.docker.io/securesystemsengineering/testimage"
    expected = (
        blobs / "sha256:d8ee807d96efe7441b132967ad94eaffbc0172a763e69f2cd8df8f583f0ba0d4.json"
    )
    assert simplesigning_payload(subject, repository) == expected.read_bytes()
    assert attachment_tag(subject, "sig") == f"sha256-{subject.hex}.sig"


def test_predicate_type_names() -> None:
    assert predicate_type_uri("slsaprovenance") == "https://slsa.dev/provenance/v0.2"
    assert predicate_type_uri("slsa-provenance-v1") == "https://slsa.dev/provenance/v1"
    assert predicate_type_uri("https://example.com/p/v1") == "https://example.com/p/v1"


def test_demo_signs_verifies_and_rejects(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "demo", "--format", "json")
    assert code == 0
    data = json.loads(out)
    signing = data["signing"]
    assert signing["as_expected"] is True and data["as_expected"] is True
    assert signing["tag"].endswith(".sig")
    assert _check(signing["signed"], "signature.verified")["status"] == "pass"
    assert signing["signed"]["verdict"] == "pass"
    assert _check(signing["wrong_key"], "signature.verified")["status"] == "fail"
    assert _check(signing["tampered"], "signature.verified")["status"] == "fail"
    assert [s["passed"] for s in signing["steps"]] == [True, True, True, True]
    # The keys that were there before are still there.
    assert {"intact", "corrupted", "corrupted_blob", "lint"} <= set(data)


def test_real_notation_signatures_written_as_layout_referrers_verify(
    signing: Path, tmp_path: Path
) -> None:
    """notation-go's JWS and COSE signatures of alpine:v2, attached to a copy of its layout."""
    from chainproof.trust.interface import TrustInputs
    from chainproof.trust.notation.envelope import ARTIFACT_TYPE, COSE_MEDIA_TYPE, JWS_MEDIA_TYPE
    from chainproof.trust.notation.verify import NotationSignatures

    base = signing / "notation-notation-go"
    layout = tmp_path / "alpine"
    shutil.copytree(base / "oci-layout", layout)
    with LayoutSource.from_directory(layout, "v2") as source:
        raw, digest = source.resolve()
    assert digest is not None
    subject = Descriptor(mt.OCI_MANIFEST, digest, len(raw.data))
    destination = LayoutDestination(layout)
    for name, media_type in (
        ("jws_signature.sig", JWS_MEDIA_TYPE),
        ("cose_signature.sig", COSE_MEDIA_TYPE),
    ):
        envelope = (base / name).read_bytes()
        destination.write_referrer(
            referrer_attachment(subject, ARTIFACT_TYPE, [(media_type, envelope, {})]), digest
        )
    store = tmp_path / "truststore" / "x509" / "ca" / "alpine"
    store.mkdir(parents=True)
    shutil.copy(base / "alpine-selfsigned-2000-2123.pem", store)
    policy = tmp_path / "trustpolicy.json"
    policy.write_text(
        '{"version": "1.0", "trustPolicies": [{"name": "all", "registryScopes": ["*"],'
        ' "signatureVerification": {"level": "strict"}, "trustStores": ["ca:alpine"],'
        ' "trustedIdentities": ["*"]}]}'
    )
    trust = TrustInputs(trust_policy=policy, reference="registry.example/alpine:v2")
    with LayoutSource.from_directory(layout, "v2") as source:
        results = NotationSignatures().verify(source, digest, trust)
    assert [r.verified for r in results] == [True, True]
