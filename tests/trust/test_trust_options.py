"""The cosign/notation-named CLI options map onto the trust check's options."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainproof.cli.trust_options import add_trust_options, trust_options
from chainproof.trust.check import trust_inputs


def test_options_round_trip(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_trust_options(parser)
    args = parser.parse_args(
        [
            "--certificate-identity-regexp",
            ".*@example\\.com",
            "--certificate-oidc-issuer",
            "https://accounts.example.com",
            "--trusted-root",
            str(tmp_path / "root.json"),
            "--threshold",
            "2",
            "--attestation-type",
            "slsa-provenance-v1",
        ]
    )
    options = trust_options(args, "registry.example/app:1")
    assert options["threshold"] == 2
    assert options["attestation_types"] == ["slsa-provenance-v1"]
    trust = trust_inputs(options)
    assert trust.identities[0].matches("dev@example.com", "https://accounts.example.com")
    assert not trust.identities[0].matches("dev@example.org", "https://accounts.example.com")
    assert trust.reference == "registry.example/app:1"
    assert trust.trusted_root == tmp_path / "root.json"
