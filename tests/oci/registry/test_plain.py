"""Against the real registry over plain HTTP, filled by skopeo."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from chainproof.errors import NotFoundError, TransportSecurityError
from chainproof.oci import image as oci_image
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor, Index, Manifest
from chainproof.oci.platform import PlatformSpec
from chainproof.oci.reference import parse_registry
from chainproof.oci.registry import RegistryOptions, RegistrySource
from tests.oci.registry import _layout, _servers
from tests.oci.registry.conftest import SIGNATURE_TYPE, TestImages

pytestmark = pytest.mark.integration


def _options(registry: _servers.RegistryProcess, **kwargs: object) -> RegistryOptions:
    return RegistryOptions(
        insecure_registries=frozenset({registry.host}),
        authfile=registry.workdir / "no-config.json",
        **kwargs,  # type: ignore[arg-type]
    )


def _source(registry: _servers.RegistryProcess, name: str, **kwargs: object) -> RegistrySource:
    return RegistrySource(parse_registry(f"{registry.host}/{name}"), _options(registry, **kwargs))


def test_manifest_and_blobs_read_back_as_skopeo_wrote_them(
    plain_registry: _servers.RegistryProcess, test_images: TestImages
) -> None:
    with _source(plain_registry, "team/app:v1") as source:
        raw, digest = source.resolve()
        assert digest == Digest.parse(test_images.image["digest"])
        assert raw.data == test_images.layout.blobs[test_images.image["digest"]]
        assert raw.media_type == _layout.OCI_MANIFEST
        manifest = test_images.manifest(test_images.image)
        for entry in [manifest["config"], *manifest["layers"]]:
            descriptor = Descriptor.from_json(entry, "test")
            data = b"".join(source.open_blob(descriptor))
            assert data == test_images.layout.blobs[entry["digest"]]
        assert source.client.last_tls_version is None  # plain HTTP, as the user allowed


def test_resolve_through_the_integrity_layer(
    plain_registry: _servers.RegistryProcess, test_images: TestImages
) -> None:
    """The registry source plugs into chainproof.oci.image: index → Windows entry → config."""
    with _source(plain_registry, "team/multi:v1") as source:
        spec = PlatformSpec.parse("windows/amd64:10.0.20348")
        target = oci_image.resolve(source, "team/multi:v1", spec)
    assert isinstance(target.top, Index)
    assert str(target.digest) == test_images.index["digest"]
    (platform_image,) = target.images
    assert str(platform_image.digest) == test_images.windows["digest"]
    assert platform_image.config.os == "windows"
    assert platform_image.config.os_version == "10.0.20348.2227"


def test_pinned_digest_is_fetched_by_digest(
    plain_registry: _servers.RegistryProcess, test_images: TestImages
) -> None:
    digest = test_images.image["digest"]
    with _source(plain_registry, f"team/app@{digest}") as source:
        raw, expected = source.resolve()
        manifest = oci_image.resolve(source, "pinned").top
    assert str(expected) == digest
    assert isinstance(manifest, Manifest)
    assert hashlib.sha256(raw.data).hexdigest() == digest.split(":")[1]


def test_unknown_tag_and_blob_are_not_found(
    plain_registry: _servers.RegistryProcess, test_images: TestImages
) -> None:
    with _source(plain_registry, "team/app:nope") as source:
        with pytest.raises(NotFoundError, match=r"team/app:nope not found"):
            source.resolve()
        missing = Descriptor(_layout.OCI_LAYER_GZIP, Digest.of(b"never pushed"), 12)
        with pytest.raises(NotFoundError, match="blob sha256:"):
            list(source.open_blob(missing))
    with (
        _source(plain_registry, "team/unknown-repo:v1") as source,
        pytest.raises(NotFoundError),
    ):
        source.resolve()


def test_plain_http_refused_unless_listed(plain_registry: _servers.RegistryProcess) -> None:
    """Loopback is not implicitly insecure: HTTPS is required until the host is listed."""
    ref = parse_registry(f"{plain_registry.host}/team/app:v1")
    options = RegistryOptions(authfile=plain_registry.workdir / "none.json", retries=0)
    with (
        RegistrySource(ref, options) as source,
        pytest.raises(TransportSecurityError, match=rf"--insecure-registry {plain_registry.host}"),
    ):
        source.resolve()
    # Listing another port of the same host does not allow this one.
    other = RegistryOptions(
        insecure_registries=frozenset({"127.0.0.1:1"}),
        authfile=plain_registry.workdir / "none.json",
        retries=0,
    )
    with RegistrySource(ref, other) as source, pytest.raises(TransportSecurityError):
        source.resolve()


def test_referrers_fall_back_to_the_tag_schema(
    plain_registry: _servers.RegistryProcess, test_images: TestImages
) -> None:
    """distribution 2.8 has no referrers API (404), so the sha256-<hex> tag index is used."""
    subject = Digest.parse(test_images.image["digest"])
    with _source(plain_registry, "team/app:v1") as source:
        found = source.referrers(subject)
        assert [str(d.digest) for d in found] == [test_images.referrer["digest"]]
        assert found[0].artifact_type == SIGNATURE_TYPE
        assert source.referrers(subject, SIGNATURE_TYPE) == found
        assert source.referrers(subject, "application/vnd.other") == []
        # The referrer itself is an ordinary manifest the registry serves by digest.
        raw = source.get_manifest(found[0].digest)
        assert hashlib.sha256(raw.data).hexdigest() == found[0].digest.hex
        # A subject nobody refers to has neither API answer nor tag: no referrers.
        assert source.referrers(Digest.of(b"lonely")) == []


def test_foreign_layer_fetched_only_from_allowed_hosts(
    plain_registry: _servers.RegistryProcess,
    tmp_path: Path,
    ca_file: Path,
    foreign_server: tuple[str, dict[str, tuple[int, dict[str, str], bytes]]],
) -> None:
    """skopeo leaves foreign layers out of the push (they live at their URLs), as Docker does."""
    host, routes = foreign_server
    layout = _layout.Layout(tmp_path / "foreign")
    layer_tar = _layout.tar_bytes({"Files/Windows/win.ini": b"[fonts]\n"})
    layer = gzip.compress(layer_tar, mtime=0)
    url = f"https://{host}/layers/base.tar.gz"
    routes["/layers/base.tar.gz"] = (200, {"Content-Type": "application/octet-stream"}, layer)
    image = layout.image(
        [{"Files/Windows/win.ini": b"[fonts]\n"}],
        os="windows",
        os_version="10.0.17763.1",
        layer_media_type=_layout.OCI_LAYER_ND_GZIP,
        layer_urls=(url,),
    )
    layout.tag(image, "foreign")
    plain_registry.push(layout.root, "foreign", "team/foreign:v1")
    layer_entry = layout_manifest_layer(layout, image)
    descriptor = Descriptor.from_json(layer_entry, "test")
    assert descriptor.is_foreign

    with (
        _source(plain_registry, "team/foreign:v1", ca_file=ca_file) as source,
        pytest.raises(NotFoundError, match=r"--allow-foreign-host 127\.0\.0\.1"),
    ):
        list(source.open_blob(descriptor))
    allowed = _source(
        plain_registry, "team/foreign:v1", ca_file=ca_file, foreign_hosts=frozenset({host})
    )
    with allowed as source:
        assert b"".join(source.open_blob(descriptor)) == layer
        assert source.client.last_tls_version == "TLSv1.3"
        # The whole image verifies, foreign layer and all.
        target = oci_image.resolve(source, "team/foreign:v1")
        assert target.images[0].config.os == "windows"


def layout_manifest_layer(layout: _layout.Layout, image: dict[str, object]) -> dict[str, object]:
    import json

    manifest = json.loads(layout.blobs[str(image["digest"])])
    layer: dict[str, object] = manifest["layers"][0]
    return layer
