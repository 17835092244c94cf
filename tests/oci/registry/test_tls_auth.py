"""Against the real registry over TLS with htpasswd Basic auth, and small TLS servers."""

from __future__ import annotations

import base64
import os
import ssl
import stat
from pathlib import Path

import pytest
import trustme

from chainproof.errors import AuthError, TransportSecurityError
from chainproof.oci import image as oci_image
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import parse_registry
from chainproof.oci.registry import RegistryOptions, RegistrySource
from tests.oci.registry import _layout, _servers
from tests.oci.registry.conftest import (
    PASSWORD,
    USER,
    TestImages,
    server_context,
    write_authfile,
)

pytestmark = pytest.mark.integration


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _source(
    registry: _servers.RegistryProcess, authfile: Path, *, host: str = "", **kwargs: object
) -> RegistrySource:
    ref = parse_registry(f"{host or registry.host}/team/app:v1")
    options = RegistryOptions(ca_file=registry.ca_file, authfile=authfile, **kwargs)  # type: ignore[arg-type]
    return RegistrySource(ref, options)


def test_tls13_and_config_json_credentials(
    tls_registry: _servers.RegistryProcess, test_images: TestImages, authfile: Path
) -> None:
    write_authfile(authfile, {"auths": {tls_registry.host: {"auth": _basic(USER, PASSWORD)}}})
    with _source(tls_registry, authfile) as source:
        target = oci_image.resolve(source, "team/app:v1")
        assert str(target.digest) == test_images.image["digest"]
        layer = Descriptor.from_json(test_images.manifest(test_images.image)["layers"][1], "t")
        assert b"".join(source.open_blob(layer)) == test_images.layout.blobs[str(layer.digest)]
        assert source.client.last_tls_version == "TLSv1.3"


def test_username_password_fields_and_https_key_spelling(
    tls_registry: _servers.RegistryProcess, test_images: TestImages, authfile: Path
) -> None:
    """Docker accepts ``https://host/v1/``-style keys and separate username/password."""
    key = f"https://{tls_registry.host}/v2/"
    write_authfile(authfile, {"auths": {key: {"username": USER, "password": PASSWORD}}})
    with _source(tls_registry, authfile) as source:
        raw, digest = source.resolve()
    assert str(digest) == test_images.image["digest"]
    assert raw.data == test_images.layout.blobs[test_images.image["digest"]]


def test_401_without_credentials_is_an_auth_error(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    with (
        _source(tls_registry, authfile) as source,
        pytest.raises(AuthError, match=r"requires authentication .*no credentials"),
    ):
        source.resolve()


def test_wrong_password_is_an_auth_error(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    write_authfile(authfile, {"auths": {tls_registry.host: {"auth": _basic(USER, "wrong")}}})
    with (
        _source(tls_registry, authfile) as source,
        pytest.raises(AuthError, match=r"refused the credentials .*config\.json"),
    ):
        source.resolve()


def _helper(directory: Path, user: str, password: str) -> Path:
    """docker-credential-test: logs the server it was asked about, answers JSON."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "docker-credential-test"
    log = directory / "asked"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 1\n'
        f"read server\n"
        f'echo "$server" >> {log}\n'
        f'printf \'{{"ServerURL":"%s","Username":"{user}","Secret":"{password}"}}\' "$server"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def test_credential_helper(
    tls_registry: _servers.RegistryProcess,
    test_images: TestImages,
    authfile: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = _helper(tmp_path / "bin", USER, PASSWORD)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # credHelpers wins over a wrong auths entry, as in Docker.
    write_authfile(
        authfile,
        {
            "credHelpers": {tls_registry.host: "test"},
            "auths": {tls_registry.host: {"auth": _basic(USER, "stale")}},
        },
    )
    with _source(tls_registry, authfile) as source:
        _, digest = source.resolve()
    assert str(digest) == test_images.image["digest"]
    assert log.read_text().split() == [tls_registry.host]


def test_creds_store_helper_and_docker_config_env(
    tls_registry: _servers.RegistryProcess,
    test_images: TestImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """credsStore (one helper for all hosts), found through $DOCKER_CONFIG."""
    _helper(tmp_path / "bin", USER, PASSWORD)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dockercfg"))
    write_authfile(tmp_path / "dockercfg" / "config.json", {"credsStore": "test"})
    ref = parse_registry(f"{tls_registry.host}/team/app:v1")
    with RegistrySource(ref, RegistryOptions(ca_file=tls_registry.ca_file)) as source:
        _, digest = source.resolve()
    assert str(digest) == test_images.image["digest"]


def test_missing_helper_means_no_credentials(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    write_authfile(authfile, {"credsStore": "chainproof-absent-helper"})
    with _source(tls_registry, authfile) as source, pytest.raises(AuthError, match="requires"):
        source.resolve()


def test_certificate_for_another_name_is_refused(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    """The registry's certificate names 127.0.0.1 only; "localhost" is the same socket."""
    port = tls_registry.host.rsplit(":", 1)[1]
    with (
        _source(tls_registry, authfile, host=f"localhost:{port}") as source,
        pytest.raises(TransportSecurityError, match=r"does not match the host name"),
    ):
        source.resolve()


def test_untrusted_certificate_is_refused(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    ref = parse_registry(f"{tls_registry.host}/team/app:v1")
    options = RegistryOptions(authfile=authfile)  # system CAs only
    with (
        RegistrySource(ref, options) as source,
        pytest.raises(TransportSecurityError, match=r"not trusted .*--ca-file"),
    ):
        source.resolve()


def test_insecure_listing_does_not_skip_certificate_checks(
    tls_registry: _servers.RegistryProcess, authfile: Path
) -> None:
    """Listing a TLS host as insecure allows plain HTTP, never an unverified certificate."""
    ref = parse_registry(f"{tls_registry.host}/team/app:v1")
    options = RegistryOptions(
        authfile=authfile, insecure_registries=frozenset({tls_registry.host}), retries=0
    )
    with RegistrySource(ref, options) as source, pytest.raises(TransportSecurityError):
        source.resolve()


def _tls12_routes(test_images: TestImages) -> dict[str, tuple[int, dict[str, str], bytes]]:
    digest = test_images.image["digest"]
    body = test_images.layout.blobs[digest]
    headers = {"Content-Type": _layout.OCI_MANIFEST, "Docker-Content-Digest": digest}
    return {"/v2/": (200, {}, b"{}"), "/v2/team/app/manifests/v1": (200, headers, body)}


def test_tls12_only_server_refused_by_default_accepted_with_min_tls_12(
    ca: trustme.CA, ca_file: Path, test_images: TestImages, authfile: Path
) -> None:
    context = server_context(ca, maximum=ssl.TLSVersion.TLSv1_2)
    with _servers.https_server(context, _tls12_routes(test_images)) as host:
        ref = parse_registry(f"{host}/team/app:v1")
        strict = RegistryOptions(ca_file=ca_file, authfile=authfile)
        with (
            RegistrySource(ref, strict) as source,
            pytest.raises(TransportSecurityError, match=r"TLS 1\.3 .*--min-tls 1\.2"),
        ):
            source.resolve()
        relaxed = RegistryOptions(ca_file=ca_file, authfile=authfile, min_tls="1.2")
        with RegistrySource(ref, relaxed) as source:
            raw, digest = source.resolve()
            assert source.client.last_tls_version == "TLSv1.2"
    assert digest == Digest.parse(test_images.image["digest"])
    assert raw.data == test_images.layout.blobs[test_images.image["digest"]]
