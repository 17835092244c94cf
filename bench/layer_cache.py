"""The warm path: re-verifying an image whose layers are in the verified-layer cache.

Builds (once, under bench/.work) a 10-layer gzip image from this machine's ``/usr/share``
(one top-level directory group per layer), then measures, in one process and as the CLI:

* cold: ``verify --checks integrity`` with an empty cache (every layer streamed and stored);
* warm: the same again (manifest + config read and verified, each layer looked up: HMAC,
  descriptor, blob fingerprint and diff_id re-checked, nothing streamed);
* the peer: Trivy's own layer cache (``--cache-dir``), second ``trivy image --input`` run.

Target (issue 19): warm ≤ 50 ms for the 10-layer image from a local layout (in-process: the
CLI adds its interpreter start-up, printed beside). Median of ``--runs``.

    .venv/bin/python bench/layer_cache.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from isal import igzip

import realcontent
from chainproof.layers.cache import LayerCache
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayoutWriter
from chainproof.oci.open import OpenOptions
from chainproof.pipeline.run import verify_image

LAYERS = 10


def build(source: Path = Path("/usr/share")) -> Path:
    root = realcontent.WORK / "ten-layers"
    if (root / "index.json").is_file():
        return root
    print(f"building a {LAYERS}-layer image from {source} (once) ...", file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)
    writer = LayoutWriter(root)
    children = sorted(p for p in source.iterdir() if p.is_dir() and not p.is_symlink())
    groups = [children[i::LAYERS] for i in range(LAYERS)]
    layers = []
    for index, group in enumerate(groups):
        blob = root / f"layer{index}.tmp"
        with blob.open("wb") as raw:
            gz = igzip.open(raw, "wb", compresslevel=2)  # type: ignore[no-untyped-call]
            with gz:
                hashing = realcontent._HashingWriter(gz)
                with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    for directory in group:
                        realcontent._add_tree(tar, directory, f"usr/share/{directory.name}", False)
        with blob.open("rb") as stream:
            descriptor = writer.add_blob_from(stream, mt.OCI_LAYER_GZIP)
        blob.unlink()
        layers.append((descriptor, Digest("sha256", hashing.hasher.hexdigest())))
    writer.tag(writer.add_image(layers, tag=realcontent.TAG))
    return root


def _verify(reference: str, cache: LayerCache) -> float:
    start = time.perf_counter()
    verdict = verify_image(
        reference, OpenOptions(layer_cache=cache), families=frozenset({"integrity"})
    )
    elapsed = time.perf_counter() - start
    assert verdict.passed, verdict
    return elapsed


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    root = build()
    reference = f"oci:{root}:{realcontent.TAG}"
    blobs = sum(p.stat().st_size for p in (root / "blobs" / "sha256").iterdir())
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="chainproof-bench-cache-") as scratch:
        work = Path(scratch)
        key = work / "key"
        cache = LayerCache.open(work / "cache", key_file=key)
        cold = _verify(reference, cache)
        warm = [_verify(reference, cache) for _ in range(args.runs)]
        assert cache.hits == LAYERS * args.runs, (cache.hits, cache.problems)
        chainproof = str(Path(sys.executable).with_name("chainproof"))
        base = [chainproof, "verify", "--no-progress", "--checks", "integrity"]
        cli_options = ["--layer-cache", str(work / "cache"), "--layer-cache-key", str(key)]
        cli_warm = [_wall([*base, *cli_options, reference]) for _ in range(5)]
        cli_cold = [_wall([*base, "--no-layer-cache", reference]) for _ in range(3)]
        trivy = shutil.which("trivy", path=str(Path(sys.executable).parent)) or shutil.which(
            "trivy"
        )
        trivy_runs: list[float] = []
        if trivy:
            command = [
                trivy,
                "image",
                "--input",
                str(root),
                "--format",
                "cyclonedx",
                "--skip-db-update",
                "--skip-files",
                "**/*.jar",  # its jar analyzer insists on the Java DB, impossible offline
                "--offline-scan",
                "--cache-dir",
                str(work / "trivy"),
                "-q",
            ]
            _wall(command)  # fills Trivy's layer cache
            trivy_runs = [_wall(command) for _ in range(5)]
        cache.close()
    print(
        f"{LAYERS}-layer image, {blobs / 1e6:.0f} MB of gzip blobs; load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (2 shared cores)"
    )
    print(f"in-process verify, cold (empty cache):     {cold * 1000:8.1f} ms")
    print(
        f"in-process verify, warm (median of {args.runs}):   "
        f"{statistics.median(warm) * 1000:8.1f} ms  (target <= 50 ms)"
    )
    print(f"CLI verify --no-layer-cache (median of 3):  {statistics.median(cli_cold):8.2f} s")
    print(f"CLI verify, warm cache (median of 5):       {statistics.median(cli_warm):8.2f} s")
    if trivy_runs:
        print(f"trivy image, warm --cache-dir (median 5):   {statistics.median(trivy_runs):8.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
