"""``chainproof demo``: verify the embedded sample, then a copy with one corrupted blob."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.oci.digest import Digest
from chainproof.sbom.model import Sbom
from chainproof.verdict import Verdict
from chainproof.verify import verify_image


@dataclass(frozen=True)
class DemoResult:
    intact: Verdict
    corrupted: Verdict
    corrupted_blob: Digest
    sbom: Sbom | None = None  # what is inside the intact sample (OS build, KB, components)

    @property
    def as_expected(self) -> bool:
        return (
            self.intact.passed
            and not self.corrupted.passed
            and any(str(self.corrupted_blob) in c.message for c in self.corrupted.failing)
        )


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
        return DemoResult(intact, corrupted, victim, sbom)
