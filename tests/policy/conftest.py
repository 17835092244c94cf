"""A real signed and attested Windows-format image, keys, and a way to write policies."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from chainproof.demo.sample import SAMPLE_TAG, build_sample
from chainproof.trust.keys.private import generate_key, public_pem
from chainproof.trust.publishing.publish import attest_reference, sign_reference

if TYPE_CHECKING:
    from pathlib import Path

BUILDER = "https://github.com/contoso/builder/.github/workflows/build.yml@refs/heads/main"
SOURCE = "git+https://github.com/contoso/app"


def provenance() -> dict[str, object]:
    """A SLSA v1 predicate as GitHub's generator writes one (shape of slsa.dev/provenance/v1)."""
    return {
        "buildDefinition": {
            "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": {"ref": "refs/heads/main", "repository": SOURCE[4:], "path": "b.yml"}
            },
            "resolvedDependencies": [
                {"uri": f"{SOURCE}@refs/heads/main", "digest": {"gitCommit": "a" * 40}}
            ],
        },
        "runDetails": {"builder": {"id": BUILDER}, "metadata": {"invocationId": "1"}},
    }


@dataclass(frozen=True)
class Sample:
    directory: Path
    reference: str
    key: Path  # the public key that signed it
    stranger: Path  # a public key that did not


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    base = tmp_path_factory.mktemp("policy-sample")
    directory = base / "sample"
    build_sample(directory)
    reference = f"oci:{directory}:{SAMPLE_TAG}"
    key, stranger = generate_key(), generate_key()
    (base / "signer.pub").write_bytes(public_pem(key))
    (base / "stranger.pub").write_bytes(public_pem(stranger))
    sign_reference(reference, key)
    attest_reference(reference, key, "https://slsa.dev/provenance/v1", provenance())
    return Sample(directory, reference, base / "signer.pub", base / "stranger.pub")


def write_policy(directory: Path, text: str, name: str = "policy.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path
