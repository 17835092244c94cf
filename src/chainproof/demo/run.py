"""``chainproof demo``: verify the embedded sample, then a copy with one corrupted blob; sign it
with an ephemeral key and show the signature verifying, a wrong key failing and a tampered copy
failing."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.oci.digest import Digest
from chainproof.oci.sources.layout import REF_NAME
from chainproof.pipeline.run import verify_image
from chainproof.policy import Policy
from chainproof.report.verdict import Verdict
from chainproof.sbom.model import Sbom
from chainproof.trust.demo import DemoStep


def _signature_status(verdict: Verdict) -> str:
    return next((str(c.status) for c in verdict.checks if c.id == "signature.verified"), "")


@dataclass(frozen=True)
class SigningResult:
    """Sign a copy of the sample (ephemeral ECDSA-P256 key, cosign layout) and verify it."""

    tag: str
    signed: Verdict  # with the right public key
    wrong_key: Verdict  # with an unrelated key
    tampered: Verdict  # the tag moved to a manifest with one changed byte
    steps: tuple[DemoStep, ...]  # in memory: ECDSA and hybrid ECDSA+ML-DSA-65 (trust.demo)

    @property
    def as_expected(self) -> bool:
        return (
            self.signed.passed
            and _signature_status(self.signed) == "pass"
            and _signature_status(self.wrong_key) == "fail"
            and _signature_status(self.tampered) == "fail"
            and all(step.passed for step in self.steps)
        )


@dataclass(frozen=True)
class DemoResult:
    intact: Verdict
    corrupted: Verdict
    corrupted_blob: Digest
    sbom: Sbom | None = None  # what is inside the intact sample (OS build, KB, components)
    signing: SigningResult | None = None

    @property
    def as_expected(self) -> bool:
        return (
            self.intact.passed
            and not self.corrupted.passed
            and any(str(self.corrupted_blob) in c.message for c in self.corrupted.failing)
            and (self.signing is None or self.signing.as_expected)
        )


def _tamper_tag(layout: Path, tag: str) -> None:
    """Point ``tag`` at a copy of its manifest with one byte changed (re-hashed, so intact)."""
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    entry = next(m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) == tag)
    data = (layout / "blobs" / "sha256" / Digest.parse(entry["digest"]).hex).read_bytes()
    changed = data.replace(b"{", b"{ ", 1)
    (layout / "blobs" / "sha256" / Digest.of(changed).hex).write_bytes(changed)
    entry.update(digest=str(Digest.of(changed)), size=len(changed))
    index_path.write_text(json.dumps(index, indent=2))


def run_signing(base: Path, sample: Path) -> SigningResult:
    from chainproof.oci.open import open_target
    from chainproof.trust.demo import signing_demo
    from chainproof.trust.keys.private import generate_key, public_pem
    from chainproof.trust.publishing.publish import sign_reference

    signed_dir = base / "sample-signed"
    shutil.copytree(sample, signed_dir)
    image = f"oci:{signed_dir}:{SAMPLE_TAG}"
    key, stranger = generate_key(), generate_key()
    (base / "demo.pub").write_bytes(public_pem(key))
    (base / "stranger.pub").write_bytes(public_pem(stranger))
    [published] = sign_reference(image, key)
    signed = verify_image(image, policy=_key_policy(base / "demo.pub"))
    wrong_key = verify_image(image, policy=_key_policy(base / "stranger.pub"))
    source, target = open_target(image)
    with source:
        steps = signing_demo(source, target.images[0], f"oci:{signed_dir}")
    tampered_dir = base / "sample-signed-tampered"
    shutil.copytree(signed_dir, tampered_dir)
    _tamper_tag(tampered_dir, SAMPLE_TAG)
    tampered = verify_image(
        f"oci:{tampered_dir}:{SAMPLE_TAG}", policy=_key_policy(base / "demo.pub")
    )
    return SigningResult(published.tag, signed, wrong_key, tampered, tuple(steps))


def _key_policy(key: Path) -> Policy:
    """What ``chainproof verify --key KEY`` checks."""
    from chainproof.policy.flags import CheckFlags, TrustFlags, command_line_policy

    return command_line_policy(CheckFlags(trust=TrustFlags(keys=(str(key),))))


def run_demo(workdir: Path | None = None) -> DemoResult:
    with tempfile.TemporaryDirectory(prefix="chainproof-demo-") as scratch:
        base = workdir or Path(scratch)
        intact_dir = base / "sample"
        descriptor = build_sample(intact_dir)
        intact = verify_image(f"oci:{intact_dir}:{SAMPLE_TAG}")
        from chainproof.sbom.catalog import generate

        (sbom,) = generate(f"oci:{intact_dir}:{SAMPLE_TAG}")

        corrupted_dir = base / "sample-corrupted"
        shutil.copytree(intact_dir, corrupted_dir)
        manifest = Digest.parse(descriptor["digest"])
        from chainproof import _jsonutil

        manifest_doc = _jsonutil.loads_object(
            (corrupted_dir / "blobs" / "sha256" / manifest.hex).read_bytes(), "manifest"
        )
        victim = Digest.parse(manifest_doc["layers"][1]["digest"])
        path = corrupted_dir / "blobs" / "sha256" / victim.hex
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped bit pattern in the middle of the blob
        path.write_bytes(bytes(data))
        corrupted = verify_image(f"oci:{corrupted_dir}:{SAMPLE_TAG}")
        signing = run_signing(base, intact_dir)
        return DemoResult(intact, corrupted, victim, sbom, signing)
