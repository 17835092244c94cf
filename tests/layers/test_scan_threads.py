"""The threaded layer pass fails cleanly: the right error, every thread joined, no hang."""

from __future__ import annotations

import gzip
import sys
import threading
from pathlib import Path

from chainproof.layers.scan import scan_image
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayerFile, LayoutWriter, tar_bytes
from chainproof.oci.open import open_target


def _image_with_blob(root: Path, blob: bytes, plain: bytes) -> str:
    writer = LayoutWriter(root)
    descriptor = writer.add_blob(blob, mt.OCI_LAYER_GZIP)
    writer.tag(writer.add_image([(descriptor, Digest.of(plain))], tag="t"))
    return f"oci:{root}:t"


def _scan(reference: str) -> str:
    before = threading.active_count()
    interval = sys.getswitchinterval()
    source, target = open_target(reference)
    with source:
        [report] = scan_image(source, target.images[0])
    assert threading.active_count() == before  # reader, inflater and hasher all joined
    assert sys.getswitchinterval() == interval  # restored after the pass
    assert not report.ok
    return report.error


def test_corrupt_gzip_names_the_layer(tmp_path: Path) -> None:
    plain = tar_bytes([LayerFile("a", b"x" * 100_000)])
    blob = bytearray(gzip.compress(plain))
    blob[len(blob) // 2 : len(blob) // 2 + 20] = b"\xff" * 20
    assert "corrupt gzip data" in _scan(_image_with_blob(tmp_path, bytes(blob), plain))


def test_corrupt_tar_inside_good_gzip_is_a_malformed_layer(tmp_path: Path) -> None:
    plain = b"this is not a tar header" * 200
    assert "tar" in _scan(_image_with_blob(tmp_path, gzip.compress(plain), plain))


def test_big_layer_with_a_bad_entry_late_still_fails_cleanly(tmp_path: Path) -> None:
    good = tar_bytes([LayerFile(f"f{i}", b"x" * 50_000) for i in range(200)]).rstrip(b"\0")
    good += bytes(-len(good) % 512)  # the last body's padding, but no end-of-archive blocks
    plain = good + b"\x01" * 4096  # garbage where the next header should be, 10 MB in
    assert "tar header" in _scan(_image_with_blob(tmp_path, gzip.compress(plain), plain))
