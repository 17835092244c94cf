"""``awskms://`` keys against moto's in-process KMS (real boto3 requests, real signatures)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chainproof.errors import MalformedError, NotFoundError
from chainproof.oci.digest import Digest
from chainproof.trust.cosign.sign import attest_image, sign_image
from chainproof.trust.cosign.verify import CosignAttestations, CosignSignatures
from chainproof.trust.interface import TrustInputs
from chainproof.trust.keys.awskms import parse_uri
from chainproof.trust.keys.registry import load_key, load_signer
from tests.trust.memsource import MemorySource

if TYPE_CHECKING:
    from collections.abc import Iterator

IMAGE = Digest.of(b"kms-signed image")


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("kms")
        for spec in ("ECC_NIST_P256", "RSA_3072"):
            key = client.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
            client.create_alias(AliasName=f"alias/{spec.lower()}", TargetKeyId=key)
        yield client


@pytest.mark.parametrize("alias", ["ecc_nist_p256", "rsa_3072"])
def test_kms_sign_and_verify(kms: object, alias: str) -> None:
    uri = f"awskms:///alias/{alias}"
    signer = load_signer(uri)
    source = MemorySource()
    for attachment in (
        sign_image(IMAGE, signer, "registry.example/app"),
        attest_image(
            IMAGE,
            signer,
            "registry.example/app",
            "https://openvex.dev/ns/v0.2.0",
            {"statements": []},
        ),
    ):
        source.blobs.update(attachment.blobs)
        source.tags[attachment.tag] = attachment.manifest
    key = load_key(uri)
    assert key.key_id == signer.public.key_id
    assert [
        r.verified for r in CosignSignatures().verify(source, IMAGE, TrustInputs(keys=(key,)))
    ] == [True]
    assert [
        r.verified for r in CosignAttestations().verify(source, IMAGE, TrustInputs(keys=(key,)))
    ] == [True]


def test_kms_errors(kms: object) -> None:
    with pytest.raises(NotFoundError):
        load_key("awskms:///alias/absent")
    assert parse_uri("awskms://kms.example:443/alias/x") == ("kms.example:443", "alias/x")
    with pytest.raises(MalformedError):
        parse_uri("awskms://no-key")
