"""Integrity verification throughput: chainproof vs skopeo, on real and synthetic layers.

Images (built once, cached under bench/.work; see ``realcontent.py``):

- ``real-linux``: one gzip layer of this machine's ``/usr/share`` plus its dpkg database
  (~50 000 entries, level-6 gzip as Docker writes it);
- ``real-windows``: the same files under ``Files/`` with hcsshim's per-entry PAX records;
- ``synthetic``: a ≥ 1 GB Windows-format layer of few big files (``--size-mb``).

For each, in the same run and on the same warm page cache, interleaved run by run:

- the floor: ISA-L inflate of the layer alone, output discarded;
- chainproof's layer pass in-process (digest, size, inflate, diff_id, tar walk);
- ``chainproof verify --checks integrity --no-layer-cache`` (the same, plus start-up,
  manifest and config);
- ``skopeo copy --dest-decompress oci:… dir:…`` — the same work: verify the compressed blob,
  inflate it, digest the result (dir: is the only transport that stores layers inflated);
- ``skopeo copy oci:… oci:…`` — less work: the compressed digest only.

Figures are medians of ``--runs`` runs (wall and CPU seconds, user + sys, all threads) and
the highest peak RSS; then the CPU seconds of each stage alone, in one thread. The machine's
load average is printed beside them: other jobs on the 2 cores change every figure.

    .venv/bin/python bench/integrity.py [--images real-linux,real-windows,synthetic]
        [--size-mb 1100] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from isal import igzip

import realcontent
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


def run(command: list[str]) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS (KiB), exit code and CPU seconds of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        assert process.stderr is not None
        print(f"{command[0]} failed ({code}): {process.stderr.read().decode()}", file=sys.stderr)
    return elapsed, usage.ru_maxrss, code, usage.ru_utime + usage.ru_stime


_FLOOR = """
import json, pathlib, sys
from isal import igzip_lib
root = pathlib.Path(sys.argv[1])
index = json.loads((root / "index.json").read_text())
manifest = json.loads((root / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
for layer in manifest["layers"]:
    with open(root / "blobs/sha256" / layer["digest"][7:], "rb") as raw:
        inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
        while chunk := raw.read(1 << 20):
            inflater.decompress(chunk)
"""

#: The layer pass alone, in-process: what ``verify --checks integrity`` does after start-up.
_SCAN_ONLY = """
import sys
from chainproof.layers.scan import scan_image
from chainproof.oci.open import open_target
source, target = open_target(sys.argv[1])
with source:
    reports = scan_image(source, target.images[0])
assert all(r.ok for r in reports), reports
"""

#: CPU seconds of each stage alone, one thread, on the layout's (first) layer.
_STAGES = """
import hashlib, json, pathlib, sys, time
from isal import isal_zlib
from chainproof.layers.walker import LayerWalker
root = pathlib.Path(sys.argv[1])
index = json.loads((root / "index.json").read_text())
manifest = json.loads((root / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
config = json.loads((root / "blobs/sha256" / manifest["config"]["digest"][7:]).read_text())
blob = root / "blobs/sha256" / manifest["layers"][0]["digest"][7:]
windows = config.get("os") == "windows"

def chunks():
    with open(blob, "rb") as raw:
        while chunk := raw.read(1 << 20):
            yield chunk

def inflated():
    inflater = isal_zlib.decompressobj(31)
    for chunk in chunks():
        data = chunk
        while data:
            out = inflater.decompress(data, 4 << 20)
            if out:
                yield out
            data = inflater.unconsumed_tail

def cpu(work):
    start = time.process_time()
    work()
    return time.process_time() - start

def hash_all(stream):
    hasher = hashlib.sha256()
    for chunk in stream:
        hasher.update(chunk)

def drain(stream):
    for _ in stream:
        pass

read_hash = cpu(lambda: hash_all(chunks()))
inflate = cpu(lambda: drain(inflated()))
plain = cpu(lambda: hash_all(inflated())) - inflate
walk = cpu(lambda: drain(LayerWalker(inflated(), "x", windows=windows))) - inflate
print(json.dumps({"read + sha256 compressed": read_hash, "ISA-L inflate": inflate,
                  "sha256 uncompressed": plain, "tar walk": walk}))
"""


def _median(values: list[float]) -> float:
    return statistics.median(values)


def measure(
    label: str, layout: Path, runs: int, skopeo: str | None, description: str
) -> dict[str, tuple[float, float, float]]:
    """Median wall, CPU and max peak RSS (MB) per tool; prints one table."""
    chainproof = str(Path(sys.executable).with_name("chainproof"))
    out = WORK / "skopeo-out"
    reference = f"oci:{layout}:{TAG}"
    tools: dict[str, list[str]] = {
        "floor: ISA-L inflate": [sys.executable, "-c", _FLOOR, str(layout)],
        "layer pass (in-process)": [sys.executable, "-c", _SCAN_ONLY, reference],
        "chainproof verify": [
            chainproof,
            "verify",
            "--no-progress",
            "--no-layer-cache",
            "--checks",
            "integrity",
            reference,
        ],
    }
    if skopeo:
        # Same work as chainproof: verify the gzip blob, inflate it, digest the result.
        tools["skopeo --dest-decompress"] = [
            skopeo,
            "copy",
            "--quiet",
            "--dest-decompress",
            reference,
            f"dir:{out}",  # only the dir transport stores layers decompressed
        ]
        # Less work: digest check of the compressed blob only.
        tools["skopeo copy oci:"] = [skopeo, "copy", "--quiet", reference, f"oci:{out}:{TAG}"]
    run(tools["chainproof verify"])  # warm the page cache
    samples: dict[str, list[tuple[float, int, float]]] = {name: [] for name in tools}
    for _ in range(runs):
        for name, command in tools.items():  # interleaved: load changes hit every tool alike
            shutil.rmtree(out, ignore_errors=True)
            elapsed, rss, code, cpu = run(command)
            if code != 0:
                raise SystemExit(1)
            samples[name].append((elapsed, rss, cpu))
    shutil.rmtree(out, ignore_errors=True)
    results = {
        name: (
            _median([s[0] for s in values]),
            _median([s[2] for s in values]),
            max(s[1] for s in values) / 1024,
        )
        for name, values in samples.items()
    }
    load = os.getloadavg()
    print(f"\n== {label}: {description}; median of {runs} runs, warm page cache ==")
    print(f"load average before/after: {LOAD_BEFORE[0]:.2f} / {load[0]:.2f} (2 shared cores)")
    print(f"{'tool':28} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'x floor':>8}")
    floor = results["floor: ISA-L inflate"][0]
    for name, (wall, cpu_s, rss_mb) in results.items():
        print(f"{name:28} {wall:8.2f} {cpu_s:8.2f} {rss_mb:12.0f} {wall / floor:8.2f}")
    ours = results["chainproof verify"][0]
    if "skopeo --dest-decompress" in results:
        peer = results["skopeo --dest-decompress"][0]
        print(f"chainproof verify / skopeo --dest-decompress wall: {ours / peer:.2f}x")
        inner = results["layer pass (in-process)"][0]
        print(f"layer pass / skopeo --dest-decompress wall: {inner / peer:.2f}x")
    stages = subprocess.run(
        [sys.executable, "-c", _STAGES, str(layout)], capture_output=True, check=True, text=True
    )
    parts = json.loads(stages.stdout)
    print(
        "stage CPU s, each alone: "
        + ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
        + f" (sum {sum(parts.values()):.2f})"
    )
    return results


LOAD_BEFORE = os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1100, help="synthetic layer, compressed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--images",
        default="real-linux,real-windows,synthetic",
        help="comma-separated: real-linux, real-windows (this machine's /usr/share), synthetic",
    )
    args = parser.parse_args()
    skopeo = shutil.which("skopeo")
    if not skopeo:
        print("skopeo not installed: no side-by-side figure (apt-get install skopeo)")
    for name in args.images.split(","):
        if name == "synthetic":
            layout = build(args.size_mb)
            description = f"synthetic Windows-format layer, {args.size_mb} MB gzip, few big files"
        else:
            layout, _ = realcontent.real_layout(windows=name == "real-windows")
            description = f"{name}: {realcontent.describe(layout)}"
        measure(name, layout, args.runs, skopeo, description)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
