"""Against the real registry behind a Bearer token server (the Docker Hub scheme)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from chainproof.errors import AuthError, TransportSecurityError
from chainproof.oci import image as oci_image
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import parse_registry
from chainproof.oci.registry import RegistryOptions, RegistrySource
from tests.oci.registry import _servers
from tests.oci.registry.conftest import PASSWORD, USER, TestImages, write_authfile

pytestmark = pytest.mark.integration


def _options(registry: _servers.RegistryProcess, authfile: Path) -> RegistryOptions:
    assert registry.token_server is not None
    # The realm is plain HTTP too, so it must be listed like the registry itself.
    return RegistryOptions(
        insecure_registries=frozenset({registry.host, registry.token_server.host}),
        authfile=authfile,
    )


def test_bearer_token_flow_with_config_credentials(
    token_registry: _servers.RegistryProcess, test_images: TestImages, authfile: Path
) -> None:
    server = token_registry.token_server
    assert server is not None
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    write_authfile(authfile, {"auths": {token_registry.host: {"auth": auth}}})
    before = len(server.requests)
    ref = parse_registry(f"{token_registry.host}/team/app:v1")
    with RegistrySource(ref, _options(token_registry, authfile)) as source:
        target = oci_image.resolve(source, "team/app:v1")
        for entry in test_images.manifest(test_images.image)["layers"]:
            layer = Descriptor.from_json(entry, "t")
            assert b"".join(source.open_blob(layer)) == test_images.layout.blobs[entry["digest"]]
    assert str(target.digest) == test_images.image["digest"]
    asked = server.requests[before:]
    # One token for the repository scope, reused for the manifest, config and both layers.
    assert len(asked) == 1
    assert asked[0]["scopes"] == ["repository:team/app:pull"]
    assert asked[0]["auth"] is True


def test_anonymous_token_without_access_is_an_auth_error(
    token_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    ref = parse_registry(f"{token_registry.host}/team/app:v1")
    with (
        RegistrySource(ref, _options(token_registry, authfile)) as source,
        pytest.raises(AuthError, match="no credentials"),
    ):
        source.resolve()


def test_token_server_refusing_credentials_is_an_auth_error(
    token_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    auth = base64.b64encode(f"{USER}:wrong".encode()).decode()
    write_authfile(authfile, {"auths": {token_registry.host: {"auth": auth}}})
    ref = parse_registry(f"{token_registry.host}/team/app:v1")
    with (
        RegistrySource(ref, _options(token_registry, authfile)) as source,
        pytest.raises(AuthError, match="refused the credentials"),
    ):
        source.resolve()


def test_identity_token_uses_the_oauth2_refresh_grant(
    token_registry: _servers.RegistryProcess, test_images: TestImages, authfile: Path
) -> None:
    server = token_registry.token_server
    assert server is not None
    write_authfile(
        authfile, {"auths": {token_registry.host: {"identitytoken": server.refresh_token}}}
    )
    before = len(server.requests)
    ref = parse_registry(f"{token_registry.host}/team/app:v1")
    with RegistrySource(ref, _options(token_registry, authfile)) as source:
        _, digest = source.resolve()
    assert str(digest) == test_images.image["digest"]
    assert [r["method"] for r in server.requests[before:]] == ["POST"]


def test_plain_http_realm_must_be_listed(
    token_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    """Credentials never go to a plain-HTTP token realm the user did not list."""
    ref = parse_registry(f"{token_registry.host}/team/app:v1")
    options = RegistryOptions(
        insecure_registries=frozenset({token_registry.host}), authfile=authfile
    )
    with (
        RegistrySource(ref, options) as source,
        pytest.raises(TransportSecurityError, match=r"plain HTTP to 127\.0\.0\.1"),
    ):
        source.resolve()
