"""Integrity verification throughput: chainproof vs skopeo on the same ≥ 1 GB gzip layer.

Builds (once, cached under bench/.work) an OCI layout holding one image with a single gzip
layer of at least 1 GB compressed, then times, in the same run and on the same warm page cache:

- ``chainproof verify oci:DIR:bench`` — manifest, config, layer digest and size, gunzip and
  diff_id;
- ``skopeo copy oci:DIR:bench oci:OUT:bench`` — skopeo also checks every blob digest while
  copying (it does not decompress, so it does less work than chainproof);
- ``skopeo copy --dest-decompress oci:… dir:…`` — the same work as chainproof: verify the compressed
  blob, inflate it and digest the uncompressed result (which is then the diff_id).

Each tool runs ``--runs`` times; the best wall time counts. Peak RSS is the child's
``ru_maxrss``. Usage: ``python bench/integrity.py [--size-mb 1100] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from isal import igzip

from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayoutWriter

WORK = Path(__file__).resolve().parent / ".work"
TAG = "bench"


def _write_layer_tar(path: Path, size: int) -> None:
    rng = random.Random(1234)
    # Mix of incompressible and text-like content, like real binaries plus resources.
    text = (b"Microsoft Windows container layer content, PowerShell module manifest. " * 64)[:4096]
    written = 0
    index = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        while written < size:
            file_size = rng.randint(256 * 1024, 8 * 1024 * 1024)
            chunks = []
            produced = 0
            while produced < file_size:
                piece = rng.randbytes(65536) if rng.random() < 0.6 else text * 16
                chunks.append(piece)
                produced += len(piece)
            data = b"".join(chunks)
            info = tarfile.TarInfo(f"Files/Program Files/app/file{index:05d}.bin")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
            written += len(data)
            index += 1


def build(size_mb: int) -> Path:
    layout = WORK / f"layout-{size_mb}mb"
    if (layout / "index.json").exists():
        return layout
    WORK.mkdir(parents=True, exist_ok=True)
    plain = WORK / "layer.tar"
    print(f"building a {size_mb} MB gzip layer (once; cached in {WORK}) ...", file=sys.stderr)
    # Compressed size must reach size_mb: the content compresses to roughly 65 %.
    _write_layer_tar(plain, int(size_mb * 1024 * 1024 / 0.62))
    hasher = Digest("sha256", "0" * 64).hasher()
    with plain.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    diff_id = Digest("sha256", hasher.hexdigest())
    gz = WORK / "layer.tar.gz"
    with plain.open("rb") as src, igzip.open(gz, "wb", compresslevel=1) as dst:  # type: ignore[no-untyped-call]
        shutil.copyfileobj(src, dst, 1 << 20)
    plain.unlink()
    writer = LayoutWriter(layout)
    with gz.open("rb") as handle:
        descriptor = writer.add_blob_from(handle, mt.OCI_LAYER_GZIP)
    gz.unlink()
    manifest = writer.add_image([(descriptor, diff_id)], os="windows", os_version="10.0.20348.2227")
    manifest["annotations"] = {"org.opencontainers.image.ref.name": TAG}
    writer.tag(manifest)
    return layout


def run(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        assert process.stderr is not None
        print(f"{command[0]} failed ({code}): {process.stderr.read().decode()}", file=sys.stderr)
    return elapsed, usage.ru_maxrss, code


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1100, help="compressed layer size")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    layout = build(args.size_mb)
    blob_bytes = sum(
        p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir() if p.is_file()
    )
    skopeo = shutil.which("skopeo")
    chainproof = str(Path(sys.executable).with_name("chainproof"))
    out = WORK / "skopeo-out"
    results: dict[str, tuple[float, int]] = {}
    tools = {
        "chainproof": [
            chainproof,
            "verify",
            "--no-progress",
            "--checks",
            "integrity",
            f"oci:{layout}:{TAG}",
        ],
    }
    if skopeo:
        source, target = f"oci:{layout}:{TAG}", f"oci:{out}:{TAG}"
        tools["skopeo"] = [skopeo, "copy", "--quiet", source, target]
        # Same work as chainproof: verify the gzip blob, inflate it, digest the result.
        tools["skopeo-decompress"] = [
            skopeo,
            "copy",
            "--quiet",
            "--dest-decompress",
            source,
            f"dir:{out}",  # only the dir transport stores layers decompressed
        ]
    else:
        print("skopeo not installed: no side-by-side figure (apt-get install skopeo)")
    # Warm the page cache so both read from memory, not the disk.
    run(tools["chainproof"])
    for name, command in tools.items():
        best: tuple[float, int] | None = None
        for _ in range(args.runs):
            shutil.rmtree(out, ignore_errors=True)
            elapsed, rss, code = run(command)
            if code != 0:
                return 1
            if best is None or elapsed < best[0]:
                best = (elapsed, max(rss, best[1] if best else 0))
        assert best is not None
        results[name] = best
    shutil.rmtree(out, ignore_errors=True)
    mb = blob_bytes / 1e6
    print(f"image: {mb:.0f} MB of blobs (one gzip layer), best of {args.runs} runs, warm cache")
    print(f"{'tool':12} {'seconds':>8} {'MB/s':>8} {'peak RSS MB':>12}")
    for name, (elapsed, rss) in results.items():
        print(f"{name:12} {elapsed:8.2f} {mb / elapsed:8.0f} {rss / 1024:12.0f}")
    for peer in ("skopeo", "skopeo-decompress"):
        if peer in results:
            ratio = results[peer][0] / results["chainproof"][0]
            print(f"chainproof throughput / {peer} throughput = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
