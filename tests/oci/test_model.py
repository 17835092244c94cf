from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.errors import MalformedError, UnsupportedError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Index, Manifest, parse_config, parse_manifest


def _parse(raw: bytes) -> Manifest | Index:
    return parse_manifest(raw, Digest.of(raw))


def test_real_windows_manifest_list(shared_fixtures: Path) -> None:
    path = (
        shared_fixtures / "windows/image-manifests/dotnet-framework-runtime-4.8.manifest-list.json"
    )
    index = _parse(path.read_bytes())
    assert isinstance(index, Index)
    assert index.media_type == mt.DOCKER_MANIFEST_LIST
    platforms = [d.platform for d in index.manifests]
    assert all(p is not None and p.os == "windows" for p in platforms)
    assert [p.os_version for p in platforms if p] == [
        "10.0.14393.4889",
        "10.0.17763.2458",
        "10.0.19042.1469",
        "10.0.20348.473",
    ]


def test_real_windows_manifest_with_foreign_layers(shared_fixtures: Path) -> None:
    path = (
        shared_fixtures
        / "windows/image-manifests/dotnet-framework-runtime-4.8-ltsc2022.manifest.json"
    )
    manifest = _parse(path.read_bytes())
    assert isinstance(manifest, Manifest)
    foreign = [layer for layer in manifest.layers if layer.is_foreign]
    assert [layer.size for layer in foreign] == [1_251_699_055, 955_800_778]
    assert all(
        layer.urls[0].startswith("https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:")
        for layer in foreign
    )
    assert len(manifest.layers) == 4


def test_real_windows_config(shared_fixtures: Path) -> None:
    path = (
        shared_fixtures
        / "windows/image-manifests/dotnet-framework-runtime-4.8-ltsc2022.config.json"
    )
    raw = path.read_bytes()
    config = parse_config(raw, Digest.of(raw))
    assert config.os == "windows"
    assert config.os_version == "10.0.20348.473"
    assert len(config.diff_ids) == 4
    assert config.history[0].created_by == "Apply image 2022-RTM-amd64"
    assert any("KB9008395" in h.created_by for h in config.history)


def test_nanoserver_config_user(shared_fixtures: Path) -> None:
    path = shared_fixtures / "windows/image-manifests/lippertmarkus_test-crane_1.0-1909.config.json"
    raw = path.read_bytes()
    config = parse_config(raw, Digest.of(raw))
    assert config.os_version == "10.0.18363.1556"
    assert config.user == "ContainerUser"


def test_schema1_is_refused_with_a_clear_message() -> None:
    raw = json.dumps({"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}).encode()
    with pytest.raises(UnsupportedError, match="schema 1"):
        _parse(raw)


def test_unknown_media_type_is_refused() -> None:
    raw = json.dumps({"schemaVersion": 2, "mediaType": "application/x-what"}).encode()
    with pytest.raises(UnsupportedError, match="application/x-what"):
        _parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"schemaVersion": 2, "mediaType": "' + mt.OCI_MANIFEST.encode() + b'", "layers": 3}',
        b"[" * 100 + b"]" * 100,
        b"\xff\xfe",
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": "sha256:12", "size": 1},
                "layers": [],
            }
        ).encode(),
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": "sha256:" + "a" * 64, "size": -1},
                "layers": [],
            }
        ).encode(),
    ],
)
def test_malformed_manifests(raw: bytes) -> None:
    with pytest.raises(MalformedError):
        _parse(raw)


def test_config_without_diff_ids_is_malformed() -> None:
    raw = b'{"os": "linux", "rootfs": {}}'
    with pytest.raises(MalformedError, match="diff_ids"):
        parse_config(raw, Digest.of(raw))
