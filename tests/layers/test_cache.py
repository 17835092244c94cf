"""The verified-layer cache: warm hits, and every way an entry must stop counting."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest

from chainproof.checks.interface import Status
from chainproof.layers.cache import LayerCache, LayerCacheError, consumer_cache_key
from chainproof.layers.scan import LayerReport, scan_image
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.oci.open import OpenOptions, open_target
from chainproof.pipeline.run import verify_image

if TYPE_CHECKING:
    from collections.abc import Callable

    from chainproof.layers.walker import LayerEntry

KEY = bytes(range(32))


class FileSizes:
    """A consumer that opts in: per layer, the size of every file it saw."""

    def __init__(self, version: str = "1") -> None:
        self.layer_cache_key = f"test-file-sizes/{version}"
        self.sizes: dict[int, dict[str, int]] = {}
        self.walked: list[int] = []

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind == "file"

    def consume(self, layer: int, entry: LayerEntry, open_file: Callable[[], IO[bytes]]) -> None:
        if layer not in self.walked:
            self.walked.append(layer)
        self.sizes.setdefault(layer, {})[entry.path] = len(open_file().read())

    def layer_state(self, layer: int) -> bytes:
        return json.dumps(self.sizes.get(layer, {}), sort_keys=True).encode()

    def restore_layer(self, layer: int, state: bytes) -> None:
        self.sizes[layer] = json.loads(state)


class Paths:
    """A consumer that does not opt in."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def wants(self, entry: LayerEntry) -> bool:
        return True

    def consume(self, layer: int, entry: LayerEntry, open_file: Callable[[], IO[bytes]]) -> None:
        self.paths.append(entry.path)


def _image(root: Path, layers: list[list[LayerFile]], diff_ids: list[Digest] | None = None) -> str:
    writer = LayoutWriter(root)
    added = [writer.add_layer(files) for files in layers]
    if diff_ids is not None:
        added = [(descriptor, diff) for (descriptor, _), diff in zip(added, diff_ids, strict=True)]
    writer.tag(writer.add_image(added, tag="t"))
    return f"oci:{root}:t"


LAYERS = [
    [LayerFile("etc/os-release", b"ID=debian\n"), LayerFile("usr/bin/a", b"x" * 3000)],
    [LayerFile("usr/bin/b", b"bb"), LayerFile("../../etc/cron.d/evil", b"* * * * *")],
    [LayerFile("opt/app/c", b"ccc")],
]


def _scan(reference: str, cache: LayerCache | None, consumers: list[object]) -> list[LayerReport]:
    source, target = open_target(reference)
    with source:
        return scan_image(source, target.images[0], consumers=consumers, cache=cache)  # type: ignore[arg-type]


@pytest.fixture
def cache(tmp_path: Path) -> LayerCache:
    return LayerCache(tmp_path / "cache", key=KEY)


def test_second_pass_comes_from_the_cache_with_the_same_results(
    tmp_path: Path, cache: LayerCache
) -> None:
    reference = _image(tmp_path / "img", LAYERS)
    cold_consumer, warm_consumer = FileSizes(), FileSizes()
    cold = _scan(reference, cache, [cold_consumer])
    warm = _scan(reference, cache, [warm_consumer])
    assert [r.from_cache for r in cold] == [False] * 3
    assert [r.from_cache for r in warm] == [True] * 3
    assert warm_consumer.walked == []  # nothing streamed
    assert (
        warm_consumer.sizes
        == cold_consumer.sizes
        == {
            0: {"etc/os-release": 10, "usr/bin/a": 3000},
            1: {"usr/bin/b": 2},
            2: {"opt/app/c": 3},
        }
    )
    strip = [(r.ok, r.uncompressed_size, r.unsafe) for r in cold]
    assert [(r.ok, r.uncompressed_size, r.unsafe) for r in warm] == strip
    assert warm[1].unsafe[0].tar_name == "../../etc/cron.d/evil"  # failures are replayed too


def test_a_consumer_that_does_not_opt_in_gets_every_layer_streamed(
    tmp_path: Path, cache: LayerCache
) -> None:
    reference = _image(tmp_path / "img", LAYERS)
    _scan(reference, cache, [])
    paths = Paths()
    reports = _scan(reference, cache, [FileSizes(), paths])
    assert not any(r.from_cache for r in reports)
    assert "opt/app/c" in paths.paths
    assert consumer_cache_key(paths) is None


def test_a_new_consumer_version_misses_and_is_walked(tmp_path: Path, cache: LayerCache) -> None:
    reference = _image(tmp_path / "img", LAYERS)
    _scan(reference, cache, [FileSizes("1")])
    upgraded = FileSizes("2")
    reports = _scan(reference, cache, [upgraded])
    assert not any(r.from_cache for r in reports)
    assert upgraded.walked == [0, 1, 2]
    # Both versions' states are now stored beside each other.
    assert all(r.from_cache for r in _scan(reference, cache, [FileSizes("1")]))
    assert all(r.from_cache for r in _scan(reference, cache, [FileSizes("2")]))


def test_a_blob_edited_in_place_is_streamed_again_and_fails(
    tmp_path: Path, cache: LayerCache
) -> None:
    reference = _image(tmp_path / "img", LAYERS)
    _scan(reference, cache, [])
    blob = _layer_blobs(tmp_path / "img")[2]
    data = bytearray(blob.read_bytes())
    data[-12] ^= 0xFF  # same size; the digest in the manifest no longer matches
    stat = blob.stat()
    blob.write_bytes(bytes(data))
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the mtime put back
    reports = _scan(reference, cache, [])
    assert [r.from_cache for r in reports] == [True, True, False]
    assert not reports[2].ok and "digest" in reports[2].error


def test_a_tampered_entry_is_ignored(tmp_path: Path, cache: LayerCache) -> None:
    reference = _image(tmp_path / "img", LAYERS)
    _scan(reference, cache, [])
    database = sqlite3.connect(tmp_path / "cache" / "layers.sqlite")
    for key, body in database.execute("SELECT key, body FROM layers").fetchall():
        document = json.loads(body)
        document["unsafe"] = []  # hide the path-traversal entry
        database.execute(
            "UPDATE layers SET body = ? WHERE key = ?", (json.dumps(document).encode(), key)
        )
    database.commit()
    database.close()
    reports = _scan(reference, cache, [])
    assert not any(r.from_cache for r in reports)
    assert reports[1].unsafe  # found again by the walk
    assert any("MAC" in problem for problem in cache.problems)


def test_entries_written_with_another_key_do_not_count(tmp_path: Path) -> None:
    reference = _image(tmp_path / "img", LAYERS)
    _scan(reference, LayerCache(tmp_path / "cache", key=b"\1" * 32), [])
    reports = _scan(reference, LayerCache(tmp_path / "cache", key=KEY), [])
    assert not any(r.from_cache for r in reports)


def test_a_config_naming_another_diff_id_is_not_passed_from_the_cache(
    tmp_path: Path, cache: LayerCache
) -> None:
    _scan(_image(tmp_path / "good", LAYERS[:1]), cache, [])
    wrong = Digest.of(b"something else")
    reports = _scan(_image(tmp_path / "good", LAYERS[:1], [wrong]), cache, [])
    assert not reports[0].from_cache
    assert not reports[0].ok and "diff_id mismatch" in reports[0].error


def test_failing_layers_are_never_stored(tmp_path: Path, cache: LayerCache) -> None:
    reference = _image(tmp_path / "img", LAYERS[:1])
    blob = _layer_blobs(tmp_path / "img")[0]
    blob.write_bytes(blob.read_bytes()[:-5] + b"12345")
    assert not _scan(reference, cache, [])[0].ok
    database = sqlite3.connect(tmp_path / "cache" / "layers.sqlite")
    assert database.execute("SELECT count(*) FROM layers").fetchone() == (0,)


def test_verify_through_open_options_uses_the_cache(tmp_path: Path, cache: LayerCache) -> None:
    reference = _image(tmp_path / "img", LAYERS[::2])
    options = OpenOptions(layer_cache=cache)
    first = verify_image(reference, options, families=frozenset({"integrity"}))
    second = verify_image(reference, options, families=frozenset({"integrity"}))
    assert first.passed and second.passed
    assert [c.status for c in first.checks] == [c.status for c in second.checks]
    assert cache.hits == 2
    assert all(c.status == Status.PASS for c in second.checks)


def test_key_file_is_created_private_and_refused_when_shared(tmp_path: Path) -> None:
    key_file = tmp_path / "config" / "layer-cache.key"
    LayerCache.open(tmp_path / "cache", key_file=key_file).close()
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.chmod(0o644)
    with pytest.raises(LayerCacheError, match="readable or writable by others"):
        LayerCache.open(tmp_path / "cache", key_file=key_file)
    fifo = tmp_path / "fifo.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(LayerCacheError, match="not a regular file"):
        LayerCache.open(tmp_path / "cache", key_file=fifo)


def test_a_database_that_is_not_one_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "layers.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(LayerCacheError, match=r"layers\.sqlite"):
        LayerCache(tmp_path / "cache", key=KEY)


def test_eviction_keeps_the_cache_under_its_size(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache", key=KEY, max_bytes=2000)
    for index in range(10):
        _scan(_image(tmp_path / f"img{index}", [[LayerFile(f"f{index}", b"1")]]), cache, [])
    database = sqlite3.connect(tmp_path / "cache" / "layers.sqlite")
    (total,) = database.execute("SELECT sum(bytes) FROM layers").fetchone()
    assert 0 < total <= 2000


def _layer_blobs(root: Path) -> list[Path]:
    index = json.loads((root / "index.json").read_text())
    manifest_digest = index["manifests"][-1]["digest"].split(":")[1]
    manifest = json.loads((root / "blobs" / "sha256" / manifest_digest).read_text())
    return [
        root / "blobs" / "sha256" / layer["digest"].split(":")[1] for layer in manifest["layers"]
    ]


def test_archive_sources_hit_until_the_archive_changes(tmp_path: Path, cache: LayerCache) -> None:
    import tarfile

    _image(tmp_path / "img", LAYERS[:1])
    archive = tmp_path / "img.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tmp_path / "img", arcname=".")
    reference = f"oci-archive:{archive}:t"
    assert not _scan(reference, cache, [])[0].from_cache
    assert _scan(reference, cache, [])[0].from_cache
    archive.write_bytes(archive.read_bytes())  # same bytes, but rewritten: may have changed
    assert not _scan(reference, cache, [])[0].from_cache


def test_sources_that_cannot_fingerprint_never_hit(tmp_path: Path, cache: LayerCache) -> None:
    from chainproof.oci.sources.interface import ImageSource

    reference = _image(tmp_path / "img", LAYERS[:1])
    source, target = open_target(reference)
    with source:
        # What a new source gets unless it says how to fingerprint its stored blobs.
        source.blob_fingerprint = lambda d: ImageSource.blob_fingerprint(source, d)  # type: ignore[method-assign,assignment]
        for _ in range(2):
            [report] = scan_image(source, target.images[0], cache=cache)
            assert report.ok and not report.from_cache
