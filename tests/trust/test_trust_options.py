"""The cosign/notation-named CLI options map onto the implicit policy's trust requirements."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainproof.cli.trust_options import add_trust_options, trust_flags
from chainproof.policy.flags import CheckFlags, command_line_policy


def test_options_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "root.json"
    root.write_text("{}")  # only read when a keyless signature is met
    parser = argparse.ArgumentParser()
    add_trust_options(parser)
    args = parser.parse_args(
        [
            "--certificate-identity-regexp",
            ".*@example\\.com",
            "--certificate-oidc-issuer",
            "https://accounts.example.com",
            "--trusted-root",
            str(root),
            "--threshold",
            "2",
            "--attestation-type",
            "slsa-provenance-v1",
        ]
    )
    flags = trust_flags(args)
    assert flags.threshold == 2
    assert flags.attestation_types == ("slsa-provenance-v1",)
    config = command_line_policy(CheckFlags(trust=flags)).requirements_for("registry.example/app:1")
    assert config.trust.signatures[0].threshold == 2
    assert config.trust.attestations[0].predicate_type == "slsa-provenance-v1"
    trust = config.trust.signatures[0].trust
    assert trust.identities[0].matches("dev@example.com", "https://accounts.example.com")
    assert not trust.identities[0].matches("dev@example.org", "https://accounts.example.com")
    assert trust.reference == "registry.example/app:1"
    assert trust.trusted_root == tmp_path / "root.json"
