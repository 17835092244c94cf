"""Pushing to the real registry: blob uploads, manifest PUTs, push-scope tokens, referrers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chainproof.errors import AuthError, RegistryError, TransportSecurityError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import parse_registry
from chainproof.oci.registry import RegistryClient, RegistryOptions, RegistrySource
from chainproof.trust._referrers import fallback_tag, find_referrers
from chainproof.trust.attachment import referrer_attachment
from chainproof.trust.publishing.destination import RegistryDestination
from tests.oci.registry import _servers
from tests.oci.registry.conftest import PASSWORD, USER, TestImages, write_authfile

pytestmark = pytest.mark.integration


def _plain(registry: _servers.RegistryProcess) -> RegistryOptions:
    return RegistryOptions(
        insecure_registries=frozenset({registry.host}),
        authfile=registry.workdir / "no-config.json",
    )


def _manifest(config: bytes, layers: list[bytes]) -> bytes:
    def entry(data: bytes, media_type: str) -> dict[str, object]:
        return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}

    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": entry(config, mt.OCI_CONFIG),
            "layers": [entry(layer, mt.OCI_LAYER) for layer in layers],
        }
    ).encode()


def test_monolithic_blob_and_manifest_by_tag_and_digest(
    plain_registry: _servers.RegistryProcess,
) -> None:
    config, layer = b'{"os":"linux","architecture":"amd64"}', b"layer bytes" * 100
    manifest = _manifest(config, [layer])
    with RegistryClient(plain_registry.host, _plain(plain_registry)) as client:
        assert not client.blob_exists("push/mono", Digest.of(layer))
        for blob in (config, layer):
            assert client.push_blob("push/mono", blob) == Digest.of(blob)
        assert client.blob_exists("push/mono", Digest.of(layer))
        # A second push of the same blob is a HEAD only (the registry has it).
        assert client.push_blob("push/mono", layer) == Digest.of(layer)
        pushed = client.put_manifest("push/mono", "v1", manifest, mt.OCI_MANIFEST)
        assert pushed.digest == Digest.of(manifest)
        by_digest = client.put_manifest("push/mono", str(pushed.digest), manifest, mt.OCI_MANIFEST)
        assert by_digest.digest == pushed.digest
        raw, served = client.get_manifest("push/mono", "v1")
        assert raw.data == manifest and served == pushed.digest
        response = client.blob_response("push/mono", Digest.of(layer))
        assert b"".join(client.stream(response, "layer")) == layer


def test_chunked_upload_and_digest_checked_by_the_registry(
    plain_registry: _servers.RegistryProcess,
) -> None:
    data = bytes(range(256)) * 1000
    chunks = [data[i : i + 70_000] for i in range(0, len(data), 70_000)]
    with RegistryClient(plain_registry.host, _plain(plain_registry)) as client:
        client.push_blob_chunks("push/chunked", Digest.of(data), iter(chunks))
        response = client.blob_response("push/chunked", Digest.of(data))
        assert b"".join(client.stream(response, "blob")) == data
        wrong = Digest.of(b"something else")
        with pytest.raises(RegistryError, match="upload of blob"):
            client.push_blob_chunks("push/chunked", wrong, iter(chunks))
        assert not client.blob_exists("push/chunked", wrong)


def test_manifest_with_a_missing_blob_is_refused_and_tags_nothing(
    plain_registry: _servers.RegistryProcess,
) -> None:
    manifest = _manifest(b"{}", [b"never uploaded"])
    with RegistryClient(plain_registry.host, _plain(plain_registry)) as client:
        client.push_blob("push/missing", b"{}")
        with pytest.raises(RegistryError, match="push of manifest push/missing:v1"):
            client.put_manifest("push/missing", "v1", manifest, mt.OCI_MANIFEST)
        source = RegistrySource(
            parse_registry(f"{plain_registry.host}/push/missing:v1"), _plain(plain_registry)
        )
        with source:
            assert source.get_tag("v1") is None


def test_plain_http_push_needs_insecure_registry(plain_registry: _servers.RegistryProcess) -> None:
    options = RegistryOptions(authfile=plain_registry.workdir / "no-config.json")
    with (
        RegistryClient(plain_registry.host, options) as client,
        pytest.raises(TransportSecurityError, match="--insecure-registry"),
    ):
        client.push_blob("push/refused", b"data")


def test_push_over_tls_with_basic_credentials(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    options = RegistryOptions(ca_file=tls_registry.ca_file, authfile=authfile)
    with (
        RegistryClient(tls_registry.host, options) as client,
        pytest.raises(AuthError, match="no credentials"),
    ):
        client.push_blob("push/tls", b"anonymous")
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    write_authfile(authfile, {"auths": {tls_registry.host: {"auth": auth}}})
    with RegistryClient(tls_registry.host, options) as client:
        manifest = _manifest(b"{}", [b"over tls"])
        client.push_blob("push/tls", b"{}")
        client.push_blob("push/tls", b"over tls")
        client.put_manifest("push/tls", "v1", manifest, mt.OCI_MANIFEST)
        raw, _ = client.get_manifest("push/tls", "v1")
        assert raw.data == manifest
        assert client.last_tls_version == "TLSv1.3"


def test_push_asks_the_token_server_for_push_scope(
    token_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    server = token_registry.token_server
    assert server is not None
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    write_authfile(authfile, {"auths": {token_registry.host: {"auth": auth}}})
    options = RegistryOptions(
        insecure_registries=frozenset({token_registry.host, server.host}), authfile=authfile
    )
    before = len(server.requests)
    with RegistryClient(token_registry.host, options) as client:
        client.push_blob("push/token", b"{}")
        client.put_manifest("push/token", "v1", _manifest(b"{}", []), mt.OCI_MANIFEST)
    scopes = {s for request in server.requests[before:] for s in request["scopes"]}
    assert "repository:push/token:pull,push" in scopes


def test_referrer_without_referrers_api_goes_into_the_fallback_index(
    plain_registry: _servers.RegistryProcess, test_images: TestImages
) -> None:
    ref = parse_registry(f"{plain_registry.host}/team/app:v1")
    subject = Descriptor(
        mt.OCI_MANIFEST, Digest.parse(test_images.image["digest"]), test_images.image["size"]
    )
    kind = "application/vnd.chainproof.test.pushed"
    first = referrer_attachment(subject, kind, [("text/plain", b"one", {})])
    second = referrer_attachment(
        subject, kind, [("text/plain", b"two", {})], annotations={"n": "2"}
    )
    with RegistryDestination(ref, _plain(plain_registry)) as destination:
        assert not destination.client.supports_referrers("team/app", subject.digest)
        destination.write_referrer(first, subject.digest)
        destination.write_referrer(second, subject.digest)
        destination.write_referrer(second, subject.digest)  # idempotent
    with RegistrySource(ref, _plain(plain_registry)) as source:
        found = find_referrers(source, subject.digest, kind)
        index = source.get_tag(fallback_tag(subject.digest))
    assert [d.digest for d in found] == [first.digest, second.digest]
    assert found[1].annotations == {"n": "2"}
    assert index is not None
    # The fixture's own referrer (written before) is kept.
    assert test_images.referrer["digest"] in index.data.decode()


def test_real_sigstore_bundle_written_as_referrer_verifies_from_the_registry(
    plain_registry: _servers.RegistryProcess, shared_fixtures: Path
) -> None:
    """cosign v3's bundle (an attestation of BUNDLE_SUBJECT) through the fallback index."""
    from chainproof.trust.interface import IdentityRule, TrustInputs
    from chainproof.trust.sigstore.bundle import BUNDLE_ARTIFACT_TYPE, SigstoreBundles

    base = shared_fixtures / "signing" / "cosign-oci-bundle-attestation"
    subject = Descriptor(
        mt.OCI_MANIFEST,
        Digest.parse("sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"),
        1234,
    )
    bundle = (base / "oci-attestation.sigstore.json").read_bytes()
    attachment = referrer_attachment(
        subject, BUNDLE_ARTIFACT_TYPE, [(BUNDLE_ARTIFACT_TYPE, bundle, {})]
    )
    ref = parse_registry(f"{plain_registry.host}/bundles/app:v1")
    with RegistryDestination(ref, _plain(plain_registry)) as destination:
        destination.write_referrer(attachment, subject.digest)
    trust = TrustInputs(
        identities=(IdentityRule("cody@soyland.com", issuer="https://github.com/login/oauth"),),
        trusted_root=base / "trusted_root_pgi.json",
    )
    with RegistrySource(ref, _plain(plain_registry)) as source:
        results = SigstoreBundles().verify(source, subject.digest, trust)
    assert [r.verified for r in results] == [True]
