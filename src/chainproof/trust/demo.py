"""The signing part of ``chainproof demo``: sign, verify, and show a wrong key failing.

Everything happens in memory over the given source (nothing is pushed): fresh ECDSA-P256 and
hybrid ECDSA+ML-DSA-65 keys sign the image the cosign way, the signature check passes with the
right keys and fails with an unrelated one. The demo command renders the returned steps.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.checks.context import CheckContext
from chainproof.checks.interface import Status
from chainproof.oci.sources.interface import RawManifest
from chainproof.trust.check import SignatureCheck, SignatureRequirement, TrustConfig
from chainproof.trust.cosign.sign import sign_image
from chainproof.trust.interface import TrustInputs
from chainproof.trust.keys.private import generate_hybrid, generate_key, public_pem
from chainproof.trust.keys.registry import load_key
from chainproof.trust.publishing.overlay import AttachmentOverlay

if TYPE_CHECKING:
    from chainproof.oci.image import PlatformImage
    from chainproof.oci.sources.interface import ImageSource


@dataclass(frozen=True)
class DemoStep:
    title: str
    passed: bool
    detail: str


def signing_demo(source: ImageSource, image: PlatformImage, repository: str) -> list[DemoStep]:
    overlay = AttachmentOverlay(source)
    classic, hybrid, stranger = generate_key(), generate_hybrid(), generate_key()
    first = sign_image(image.digest, classic, repository)
    overlay.put(first)
    overlay.put(
        sign_image(image.digest, hybrid, repository, existing=RawManifest(first.manifest, ""))
    )
    steps = []
    with tempfile.TemporaryDirectory(prefix="chainproof-demo-") as tmp:
        keys = {
            "the ECDSA-P256 key": (Path(tmp) / "cosign.pub", public_pem(classic)),
            "the hybrid ECDSA+ML-DSA-65 key": (
                Path(tmp) / "hybrid.pub",
                public_pem(hybrid.classic) + public_pem(hybrid.pq),
            ),
            "an unrelated key": (Path(tmp) / "stranger.pub", public_pem(stranger)),
        }
        for label, (path, pem) in keys.items():
            path.write_bytes(pem)
            config = TrustConfig((SignatureRequirement(TrustInputs(keys=(load_key(str(path)),))),))
            context = CheckContext(image, overlay)
            result = next(
                r for r in SignatureCheck(config).run(context) if r.id == "signature.verified"
            )
            expected = label != "an unrelated key"
            steps.append(
                DemoStep(
                    f"verify with {label}",
                    (result.status == Status.PASS) == expected,
                    f"{result.status}: {result.message}",
                )
            )
    return [
        DemoStep(
            "sign in memory (cosign layout)",
            True,
            f"{first.tag}: 2 signatures (ECDSA-P256, hybrid ECDSA+ML-DSA-65)",
        ),
        *steps,
    ]
