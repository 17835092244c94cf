"""The integrity checks end to end: each kind of damage is found and named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from chainproof.checks.interface import Status
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayerFile, LayoutWriter, tar_bytes
from chainproof.pipeline.run import verify_image


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / Digest.parse(digest).hex


def _manifest(layout: Path) -> dict[str, Any]:
    index = json.loads((layout / "index.json").read_text())
    doc: dict[str, Any] = json.loads(_blob(layout, index["manifests"][0]["digest"]).read_text())
    return doc


def _retag(layout: Path, manifest: dict[str, Any], config: dict[str, Any] | None = None) -> None:
    """Write a changed manifest (and config) as new blobs and point index.json at them."""
    writer = LayoutWriter(layout)
    if config is not None:
        manifest["config"] = writer.add_blob(json.dumps(config).encode(), mt.OCI_CONFIG)
    index = json.loads((layout / "index.json").read_text())
    descriptor = writer.add_blob(json.dumps(manifest).encode(), mt.OCI_MANIFEST)
    index["manifests"][0].update(digest=descriptor["digest"], size=descriptor["size"])
    (layout / "index.json").write_text(json.dumps(index))


def _by_id(verdict_checks: tuple[Any, ...], check_id: str) -> list[Any]:
    return [c for c in verdict_checks if c.id == check_id]


def test_intact_images_pass(windows_layout: Path, linux_layout: Path) -> None:
    for reference in (f"oci:{windows_layout}:ltsc2022", f"oci:{linux_layout}:v1"):
        verdict = verify_image(reference)
        assert verdict.passed, [c.message for c in verdict.failing]
    linux = verify_image(f"oci:{linux_layout}:v1")
    layers = _by_id(linux.checks, "integrity.layer")
    assert [c.evidence["media_type"] for c in layers] == [
        mt.OCI_LAYER_GZIP,
        mt.OCI_LAYER_ZSTD,
        mt.OCI_LAYER,
    ]
    assert linux.to_json()["schema"] == "chainproof.verdict/v1"
    assert linux.image.platform == "linux/amd64"


def test_corrupted_layer_blob_is_named(linux_layout: Path) -> None:
    layer = _manifest(linux_layout)["layers"][1]
    path = _blob(linux_layout, layer["digest"])
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    verdict = verify_image(f"oci:{linux_layout}:v1")
    assert not verdict.passed
    [failure] = verdict.failing
    assert failure.id == "integrity.layer"
    assert layer["digest"] in failure.message
    assert failure.evidence["index"] == 1


def test_size_mismatch(linux_layout: Path) -> None:
    manifest = _manifest(linux_layout)
    manifest["layers"][0]["size"] += 10
    _retag(linux_layout, manifest)
    verdict = verify_image(f"oci:{linux_layout}:v1")
    [failure] = verdict.failing
    assert "size mismatch" in failure.message


def test_diff_id_mismatch(linux_layout: Path) -> None:
    manifest = _manifest(linux_layout)
    config = json.loads(_blob(linux_layout, manifest["config"]["digest"]).read_text())
    config["rootfs"]["diff_ids"][2] = str(Digest.of(b"something else"))
    _retag(linux_layout, manifest, config)
    verdict = verify_image(f"oci:{linux_layout}:v1")
    [failure] = verdict.failing
    assert "diff_id mismatch" in failure.message
    assert failure.evidence["index"] == 2


def test_diff_id_count_mismatch(linux_layout: Path) -> None:
    manifest = _manifest(linux_layout)
    config = json.loads(_blob(linux_layout, manifest["config"]["digest"]).read_text())
    config["rootfs"]["diff_ids"].pop()
    _retag(linux_layout, manifest, config)
    verdict = verify_image(f"oci:{linux_layout}:v1")
    ids = sorted(c.id for c in verdict.failing)
    assert ids == ["integrity.diff-ids", "integrity.layer"]


def test_truncated_gzip_with_matching_digest_is_reported_as_corrupt(tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "img")
    plain = tar_bytes([LayerFile("a", bytes(100_000))])
    truncated = gzip.compress(plain)[:-20]
    descriptor = writer.add_blob(truncated, mt.OCI_LAYER_GZIP)
    writer.tag(writer.add_image([(descriptor, Digest.of(plain))], tag="t"))
    verdict = verify_image(f"oci:{tmp_path / 'img'}:t")
    [failure] = verdict.failing
    assert "truncated gzip" in failure.message


def test_manifest_digest_mismatch_is_a_failed_verdict(linux_layout: Path) -> None:
    index = json.loads((linux_layout / "index.json").read_text())
    path = _blob(linux_layout, index["manifests"][0]["digest"])
    path.write_bytes(path.read_bytes() + b"\n")
    verdict = verify_image(f"oci:{linux_layout}:v1")
    [failure] = verdict.failing
    assert failure.id == "integrity.manifest"
    assert "digest mismatch" in failure.message


def test_missing_layer_blob_is_an_error_result(linux_layout: Path) -> None:
    layer = _manifest(linux_layout)["layers"][0]
    _blob(linux_layout, layer["digest"]).unlink()
    verdict = verify_image(f"oci:{linux_layout}:v1")
    [failure] = verdict.failing
    assert "not found" in failure.message


def test_unsafe_tar_entries_fail_the_verdict(tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "img")
    layer = writer.add_layer(
        [LayerFile("../../etc/cron.d/x", b"* * * * * root sh"), LayerFile("ok", b"1")]
    )
    writer.tag(writer.add_image([layer], tag="t"))
    verdict = verify_image(f"oci:{tmp_path / 'img'}:t")
    [failure] = verdict.failing
    assert failure.id == "integrity.tar-entry"
    assert "../../etc/cron.d/x" in failure.message
    assert not (tmp_path / "etc").exists()


def test_foreign_layer_without_reachable_urls_is_skipped_not_passed(tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "img")
    plain = tar_bytes([LayerFile("Files/x", b"1")])
    foreign = {
        "mediaType": mt.DOCKER_LAYER_FOREIGN_GZIP,
        "digest": str(Digest.of(b"not here")),
        "size": 1_251_699_055,
        "urls": ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:" + "0" * 64],
    }
    local = writer.add_layer([LayerFile("Files/app/y", b"2")])
    writer.tag(
        writer.add_image(
            [(foreign, Digest.of(plain)), local], os="windows", os_version="10.0.20348.473", tag="t"
        )
    )
    verdict = verify_image(f"oci:{tmp_path / 'img'}:t")
    layers = _by_id(verdict.checks, "integrity.layer")
    assert [c.status for c in layers] == [Status.SKIP, Status.PASS]
    assert layers[0].evidence["urls"] == foreign["urls"]
    assert verdict.passed


def test_all_platforms_tags_results_with_their_platform(tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "multi")
    linux = writer.add_image([writer.add_layer([LayerFile("a", b"1")])])
    windows = writer.add_image(
        [writer.add_layer([LayerFile("Files/a", b"1")])], os="windows", os_version="10.0.20348.1"
    )
    writer.tag(writer.add_index([linux, windows], tag="m"))
    from chainproof.oci.open import OpenOptions

    verdict = verify_image(f"oci:{tmp_path / 'multi'}:m", OpenOptions(all_platforms=True))
    assert verdict.passed
    platforms = {c.evidence["platform"] for c in verdict.checks}
    assert platforms == {"linux/amd64", "windows/amd64:10.0.20348.1"}


@pytest.mark.parametrize("threaded", [True, False])
def test_threaded_and_plain_scans_agree(linux_layout: Path, threaded: bool) -> None:
    from chainproof.layers.scan import scan_image
    from chainproof.oci.open import open_target

    source, target = open_target(f"oci:{linux_layout}:v1")
    with source:
        reports = scan_image(source, target.images[0], threaded=threaded)
    assert [r.ok for r in reports] == [True, True, True]
