"""``chainproof verify-bundle`` over the conformance suite's command-line protocol."""

from __future__ import annotations

import argparse
import hashlib
import json
from typing import TYPE_CHECKING

import pytest

from chainproof.cli import verify_bundle_cmd
from chainproof.errors import MalformedError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

_BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    verify_bundle_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["verify-bundle", *argv])
    code: int = args.handler(args)
    return code


@pytest.fixture
def suite(signing: Path) -> Path:
    return signing / "sigstore-conformance-bundles" / "bundle-verify"


def _keyless(suite: Path, case: str, artifact: str) -> list[str]:
    return [
        "--bundle",
        str(suite / case / "bundle.sigstore.json"),
        "--trusted-root",
        str(suite.parents[1] / "sigstore-trusted-roots" / "production.trusted_root.json"),
        "--certificate-identity",
        _BEACON,
        "--certificate-oidc-issuer",
        "https://token.actions.githubusercontent.com",
        artifact,
    ]


def test_pass_by_file_and_by_digest(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(_keyless(suite, "happy-path-v0.3", str(suite / "a.txt"))) == 0
    digest = "sha256:" + hashlib.sha256((suite / "a.txt").read_bytes()).hexdigest()
    assert _run(["--format", "json", *_keyless(suite, "happy-path-v0.3", digest)]) == 0
    out = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert out["verified"] is True
    assert out["artifact"] == digest


def test_failures_exit_1_and_bad_input_raises(suite: Path) -> None:
    assert _run(_keyless(suite, "signature-mismatch_fail", str(suite / "a.txt"))) == 1
    with pytest.raises(MalformedError):
        _run(_keyless(suite, "bundle-malformed-json_fail", str(suite / "a.txt")))
    with pytest.raises(UsageError):
        _run(_keyless(suite, "happy-path-v0.3", "sha256:abc"))


def test_managed_key(suite: Path) -> None:
    case = suite / "managed-key-happy-path"
    argv = [
        "--bundle",
        str(case / "bundle.sigstore.json"),
        "--trusted-root",
        str(suite.parents[1] / "sigstore-trusted-roots" / "production.trusted_root.json"),
        "--key",
        str(case / "key.pub"),
        str(suite / "a.txt"),
    ]
    assert _run(argv) == 0
