"""``chainproof keygen`` writes cosign-format files that load back."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import pytest

from chainproof.cli import keygen_cmd
from chainproof.errors import UsageError
from chainproof.trust.keys.private import decrypt_private_key
from chainproof.trust.keys.registry import load_key

if TYPE_CHECKING:
    from pathlib import Path


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    keygen_cmd.register(parser.add_subparsers())
    return parser.parse_args(["keygen", *argv])


def test_keygen_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "s3cret")
    prefix = tmp_path / "cosign"
    args = _parse(["--output-key-prefix", str(prefix)])
    assert args.handler(args) == 0
    private = decrypt_private_key((tmp_path / "cosign.key").read_bytes(), b"s3cret")
    assert private.public.key_id == load_key(str(tmp_path / "cosign.pub")).key_id
    assert private.algorithm == "ecdsa-secp256r1"
    assert (tmp_path / "cosign.key").stat().st_mode & 0o077 == 0
    with pytest.raises(UsageError, match="exists"):
        args.handler(args)


def test_keygen_hybrid_with_password_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    password = tmp_path / "pw"
    password.write_text("pw\n")
    args = _parse(
        [
            "--algorithm",
            "hybrid-ecdsa-p256-mldsa-65",
            "--output-key-prefix",
            str(tmp_path / "pq"),
            "--password-file",
            str(password),
        ]
    )
    assert args.handler(args) == 0
    public = load_key(str(tmp_path / "pq.pub"))
    assert public.pq is not None
    pq = decrypt_private_key((tmp_path / "pq.mldsa.key").read_bytes(), b"pw")
    assert pq.public.key_id == public.pq.key_id


def test_keygen_without_password_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    args = _parse(["--output-key-prefix", str(tmp_path / "k")])
    with pytest.raises(UsageError, match="no password"):
        args.handler(args)


def test_keygen_writes_all_files_or_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "s3cret")
    prefix = tmp_path / "cosign"
    (tmp_path / "cosign.pub").write_bytes(b"someone's public key")
    args = _parse(_hybrid(prefix))
    with pytest.raises(UsageError, match=r"cosign\.pub exists"):
        args.handler(args)
    # Before, cosign.key and cosign.mldsa.key were written before the .pub was refused.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cosign.pub"]
    assert (tmp_path / "cosign.pub").read_bytes() == b"someone's public key"
    forced = _parse([*_hybrid(prefix), "--force"])
    assert forced.handler(forced) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cosign.key", "cosign.mldsa.key", "cosign.pub"]


def _hybrid(prefix: Path) -> list[str]:
    return ["--output-key-prefix", str(prefix), "--algorithm", "hybrid-ecdsa-p256-mldsa-65"]
