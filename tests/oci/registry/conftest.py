"""Session fixtures: Debian's docker-registry three ways, filled by Debian's skopeo."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import trustme

from tests.oci.registry import _layout, _servers

USER = "chainproof"
PASSWORD = "s3cret-Passw0rd"


def _require_tools() -> None:
    if not Path(_servers.REGISTRY_BINARY).is_file():
        pytest.skip(
            f"{_servers.REGISTRY_BINARY} not installed (apt-get install docker-registry; "
            "`make test` installs it)"
        )
    if _servers.SKOPEO is None:
        pytest.skip("skopeo not installed (apt-get install skopeo; `make test` installs it)")


@dataclass
class TestImages:
    __test__ = False

    """What the tests pushed, with the exact bytes the layout holds."""

    layout: _layout.Layout
    image: dict[str, Any]  # descriptor of app:v1's manifest
    index: dict[str, Any]  # descriptor of multi:v1's index
    windows: dict[str, Any]  # the Windows entry of that index
    referrer: dict[str, Any]  # artifact manifest whose subject is app:v1
    fallback: dict[str, Any]  # the sha256-<hex> tag index listing ``referrer``

    def manifest(self, descriptor: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.layout.blobs[descriptor["digest"]])
        return document


SIGNATURE_TYPE = "application/vnd.chainproof.test.signature"


@pytest.fixture(scope="session")
def test_images(tmp_path_factory: pytest.TempPathFactory) -> TestImages:
    layout = _layout.Layout(tmp_path_factory.mktemp("layout"))
    image = layout.image(
        [{"etc/os-release": b"ID=test\n"}, {"app/main.py": b"print('hi')\n" * 100}]
    )
    layout.tag(image, "app")
    linux = layout.image([{"bin/true": b"\x7fELF"}])
    windows = layout.image(
        [{"Files/Windows/System32/cmd.exe": b"MZ", "Hives/SOFTWARE": b"regf"}],
        os="windows",
        os_version="10.0.20348.2227",
    )
    index = layout.index([linux, windows])
    layout.tag(index, "multi")
    referrer = layout.artifact(image, SIGNATURE_TYPE, b"signature bytes")
    layout.tag(referrer, "signature")
    # The referrers tag schema: an index tagged sha256-<hex> listing the referrers.
    fallback = layout.index([referrer])
    return TestImages(layout, image, index, windows, referrer, fallback)


def _push_standard(registry: _servers.RegistryProcess, images: TestImages) -> None:
    registry.push(images.layout.root, "app", "team/app:v1")


@pytest.fixture(scope="session")
def plain_registry(
    tmp_path_factory: pytest.TempPathFactory, test_images: TestImages
) -> Iterator[_servers.RegistryProcess]:
    """The registry over plain HTTP, no auth; holds app:v1, multi:v1 and the referrers tag."""
    _require_tools()
    registry = _servers.start_registry(tmp_path_factory.mktemp("plain"))
    try:
        _push_standard(registry, test_images)
        registry.push(test_images.layout.root, "multi", "team/multi:v1")
        registry.push(test_images.layout.root, "signature", "team/app:signature")
        # skopeo rewrites an index of artifacts (it drops artifactType), so this one
        # document goes up with a plain PUT, as oras and cosign do it.
        tag = "sha256-" + test_images.image["digest"].split(":")[1]
        registry.put_manifest(
            "team/app", tag, test_images.layout.blobs[test_images.fallback["digest"]]
        )
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def tls_registry(
    tmp_path_factory: pytest.TempPathFactory, test_images: TestImages, ca: trustme.CA, ca_file: Path
) -> Iterator[_servers.RegistryProcess]:
    """The registry over TLS (certificate for 127.0.0.1 only) with htpasswd Basic auth."""
    _require_tools()
    workdir = tmp_path_factory.mktemp("tls")
    server_cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path = workdir / "server.crt", workdir / "server.key"
    server_cert.cert_chain_pems[0].write_to_path(str(cert_path))
    for extra in server_cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_path), append=True)
    server_cert.private_key_pem.write_to_path(str(key_path))
    htpasswd = workdir / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    htpasswd.write_text(f"{USER}:{hashed}\n")
    cert_dir = workdir / "certs.d"
    cert_dir.mkdir()
    ca.cert_pem.write_to_path(str(cert_dir / "ca.crt"))
    registry = _servers.start_registry(
        workdir / "registry",
        tls=(cert_path, key_path),
        auth={"htpasswd": {"realm": "chainproof-test", "path": str(htpasswd)}},
        ca_file=ca_file,
    )
    registry.cert_dir = cert_dir
    registry.username, registry.password = USER, PASSWORD
    try:
        _push_standard(registry, test_images)
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, test_images: TestImages
) -> Iterator[_servers.RegistryProcess]:
    """The registry (plain HTTP) behind a token server the test runs, as Docker Hub works."""
    _require_tools()
    workdir = tmp_path_factory.mktemp("token")
    token_server = _servers.TokenServer.create(workdir / "token", USER, PASSWORD)
    token_server.start()
    try:
        registry = _servers.start_registry(workdir / "registry", auth=token_server.registry_auth())
        registry.username, registry.password = USER, PASSWORD
        registry.token_server = token_server
        try:
            _push_standard(registry, test_images)
            yield registry
        finally:
            registry.stop()
    finally:
        token_server.stop()


@pytest.fixture
def authfile(tmp_path: Path) -> Path:
    """A path for a config.json of the test's own; absent until the test writes it."""
    return tmp_path / "docker" / "config.json"


def write_authfile(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def server_context(
    ca: trustme.CA, host: str = "127.0.0.1", maximum: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    """A server-side context with a certificate for ``host`` issued by the test CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(host).configure_cert(context)
    if maximum is not None:
        context.maximum_version = maximum
    return context


Routes = dict[str, tuple[int, dict[str, str], bytes]]


@pytest.fixture(scope="session")
def foreign_server(ca: trustme.CA) -> Iterator[tuple[str, Routes]]:
    """An HTTPS file server standing in for a foreign-layer host (mcr.microsoft.com)."""
    routes: Routes = {}
    with _servers.https_server(server_context(ca), routes) as host:
        yield host, routes
