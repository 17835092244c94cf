"""Local image sources: OCI layout directories, oci-archive and docker-archive files."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from chainproof.errors import InputError, IntegrityError, MalformedError, NotFoundError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.oci.open import OpenOptions, open_target

SKOPEO = shutil.which("skopeo")
needs_skopeo = pytest.mark.skipif(
    SKOPEO is None, reason="skopeo not installed (make test installs it)"
)


def _resolve(reference: str, **options: object) -> object:
    source, target = open_target(reference, OpenOptions(**options))  # type: ignore[arg-type]
    source.close()
    return target


def test_layout_by_tag_digest_and_default(windows_layout: Path) -> None:
    source, by_tag = open_target(f"oci:{windows_layout}:ltsc2022")
    source.close()
    image = by_tag.images[0]
    assert image.platform.os == "windows"
    assert image.platform.os_version == "10.0.20348.2227"
    assert [v.what for v in image.verified] == ["manifest", "config"]

    source, by_digest = open_target(f"oci:{windows_layout}@{by_tag.digest}")
    source.close()
    assert by_digest.digest == by_tag.digest

    source, default = open_target(f"oci:{windows_layout}")
    source.close()
    assert default.digest == by_tag.digest


def test_unknown_tag_lists_the_tags(windows_layout: Path) -> None:
    with pytest.raises(NotFoundError, match="ltsc2022"):
        open_target(f"oci:{windows_layout}:nope")


def test_nonexistent_path_and_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such directory"):
        open_target(f"oci:{tmp_path / 'missing'}")
    with pytest.raises(InputError, match="not an OCI image layout"):
        open_target(f"oci:{tmp_path}")


def test_pinned_digest_that_does_not_match_the_content(windows_layout: Path) -> None:
    source, target = open_target(f"oci:{windows_layout}:ltsc2022")
    source.close()
    blob = windows_layout / "blobs" / "sha256" / target.digest.hex
    blob.write_bytes(blob.read_bytes().replace(b'"schemaVersion": 2', b'"schemaVersion":  2'))
    with pytest.raises(IntegrityError, match="manifest: digest mismatch"):
        open_target(f"oci:{windows_layout}:ltsc2022")


def test_config_digest_mismatch(windows_layout: Path) -> None:
    source, target = open_target(f"oci:{windows_layout}:ltsc2022")
    source.close()
    config = target.images[0].manifest.config.digest
    path = windows_layout / "blobs" / "sha256" / config.hex
    path.write_bytes(path.read_bytes().replace(b"windows", b"WINDOWS"))
    with pytest.raises(IntegrityError, match=f"config {config.short()}: digest mismatch"):
        open_target(f"oci:{windows_layout}:ltsc2022")


def test_truncated_index_json(windows_layout: Path) -> None:
    index = windows_layout / "index.json"
    index.write_bytes(index.read_bytes()[:20])
    with pytest.raises(MalformedError, match=r"index\.json: malformed JSON"):
        open_target(f"oci:{windows_layout}")


def test_multi_platform_index(tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "multi")
    linux = writer.add_image([writer.add_layer([LayerFile("a", b"1")])])
    windows = writer.add_image(
        [writer.add_layer([LayerFile("Files/a", b"1")])], os="windows", os_version="10.0.20348.1"
    )
    writer.tag(writer.add_index([linux, windows], tag="multi"))
    reference = f"oci:{tmp_path / 'multi'}:multi"
    source, target = open_target(reference)
    source.close()
    assert [i.platform.os for i in target.images] == ["linux"]
    source, target = open_target(reference, OpenOptions(platform="windows/amd64:10.0.20348"))
    source.close()
    assert target.images[0].platform.os_version == "10.0.20348.1"
    assert [v.what for v in target.images[0].verified] == ["index", "manifest", "config"]
    source, target = open_target(reference, OpenOptions(all_platforms=True))
    source.close()
    assert sorted(i.platform.os for i in target.images) == ["linux", "windows"]


def test_oci_archive_reads_members_in_place(windows_layout: Path, tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(windows_layout, arcname=".")
    source, target = open_target(f"oci-archive:{archive}:ltsc2022")
    source.close()
    assert target.images[0].platform.os == "windows"


def test_oci_archive_that_is_not_a_tar(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"this is not a tar archive at all" * 20)
    with pytest.raises(MalformedError, match="not a readable tar archive"):
        open_target(f"oci-archive:{bad}")


def _docker_save(path: Path, images: list[tuple[str, list[bytes]]]) -> None:
    """A ``docker save`` archive in Docker ≥ 25's layout (blobs named by digest)."""
    with tarfile.open(path, "w") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        entries = []
        for tag, layers in images:
            diff_ids = [str(Digest.of(layer)) for layer in layers]
            config = json.dumps(
                {
                    "os": "linux",
                    "architecture": "amd64",
                    "rootfs": {"type": "layers", "diff_ids": diff_ids},
                }
            ).encode()
            for layer in layers:
                add(f"blobs/sha256/{Digest.of(layer).hex}", layer)
            add(f"blobs/sha256/{Digest.of(config).hex}", config)
            entries.append(
                {
                    "Config": f"blobs/sha256/{Digest.of(config).hex}",
                    "RepoTags": [tag],
                    "Layers": [f"blobs/sha256/{Digest.of(layer).hex}" for layer in layers],
                }
            )
        add("manifest.json", json.dumps(entries).encode())


def _tar_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_docker_archive_with_several_images(tmp_path: Path) -> None:
    archive = tmp_path / "save.tar"
    _docker_save(
        archive,
        [
            ("app:v1", [_tar_of("a", b"1")]),
            ("docker.io/library/db:2", [_tar_of("b", b"2"), _tar_of("c", b"3")]),
        ],
    )
    with pytest.raises(NotFoundError, match="holds 2 images"):
        open_target(f"docker-archive:{archive}")
    source, target = open_target(f"docker-archive:{archive}:db:2")
    source.close()
    assert len(target.images[0].manifest.layers) == 2
    source, target = open_target(f"docker-archive:{archive}@0")
    source.close()
    assert len(target.images[0].manifest.layers) == 1
    assert target.images[0].manifest.layers[0].media_type == mt.DOCKER_LAYER


def test_docker_archive_without_manifest_json(tmp_path: Path) -> None:
    archive = tmp_path / "x.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("hello")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InputError, match="not a docker-archive"):
        open_target(f"docker-archive:{archive}")


@pytest.mark.integration
@needs_skopeo
def test_archives_written_by_skopeo(windows_layout: Path, tmp_path: Path) -> None:
    """skopeo (containers/image) writes the archives; chainproof reads and verifies them."""
    from chainproof.pipeline.run import verify_image

    assert SKOPEO is not None
    docker_archive = tmp_path / "docker.tar"
    oci_archive = tmp_path / "oci.tar"
    for destination in (
        f"docker-archive:{docker_archive}:app:v1",
        f"oci-archive:{oci_archive}:ltsc2022",
    ):
        subprocess.run(
            [SKOPEO, "copy", "--quiet", f"oci:{windows_layout}:ltsc2022", destination],
            check=True,
            capture_output=True,
        )
    for reference in (
        f"docker-archive:{docker_archive}:app:v1",
        f"oci-archive:{oci_archive}:ltsc2022",
    ):
        verdict = verify_image(reference)
        assert verdict.passed, [c.message for c in verdict.failing]
        assert verdict.image.os_version == "10.0.20348.2227"
        assert sum(1 for c in verdict.checks if c.id == "integrity.layer") == 2
