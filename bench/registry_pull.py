"""Pull throughput from a real local registry: chainproof vs skopeo, same image, same run.

Builds an image with one gzip layer of incompressible data (``--mib``, default 256), pushes it
into Debian's docker-registry on loopback with skopeo, then measures

* chainproof: resolve the tag and stream every blob through digest + size verification
  (``chainproof.oci.image`` + ``RegistrySource``), nothing written to disk;
* skopeo: ``skopeo copy docker://… oci:DIR`` (skopeo verifies digests too, and writes).

Prints MB/s, the ratio and each side's peak RSS (GNU time, else wait4). Not part of pytest.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.oci.registry import _layout, _servers  # noqa: E402

CHAINPROOF_PULL = """
import sys, time
from chainproof.oci import image
from chainproof.oci.digest import DigestVerifier
from chainproof.oci.reference import parse_registry
from chainproof.oci.registry import RegistryOptions, RegistrySource
ref = parse_registry(sys.argv[1])
options = RegistryOptions(insecure_registries=frozenset({ref.host}))
total = 0
with RegistrySource(ref, options) as source:
    target = image.resolve(source, sys.argv[1])
    for layer in target.images[0].manifest.layers:
        verifier = DigestVerifier(layer.digest, layer.size, "layer")
        for chunk in source.open_blob(layer):
            verifier.update(chunk)
        verifier.finish()
        total += layer.size
print(total)
"""


TIME = Path("/usr/bin/time")


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS in KiB, stdout of one child process.

    The peak RSS comes from GNU time when installed: a child forked from this (bigger) Python
    process would otherwise be charged this process's pages too (ru_maxrss survives exec).
    """
    wrapped = [str(TIME), "-f", "RSS %M", *command] if TIME.is_file() else command
    start = time.perf_counter()
    process = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed: {err.decode(errors='replace')[-2000:]}")
    rss = usage.ru_maxrss
    lines = err.decode(errors="replace").strip().splitlines()
    if TIME.is_file() and lines and lines[-1].startswith("RSS "):
        rss = int(lines[-1].split()[1])
    return elapsed, rss, out


class _Hashing:
    """A write-only file that hashes and counts what passes through."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        written: int = self.target.write(data)
        return written

    def flush(self) -> None:
        self.target.flush()


def _write_layer(layout: _layout.Layout, work: Path, mib: int) -> tuple[dict[str, Any], str]:
    """Stream a gzip layer of random data to the layout; the bench process stays small, so
    the children's peak RSS (wait4 counts pre-exec pages) is their own."""
    source = work / "payload.bin"
    with source.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1024 * 1024))
    partial = layout.root / "blobs" / "sha256" / "partial"
    with partial.open("wb") as raw:
        gz_hash = _Hashing(raw)
        with gzip.GzipFile(fileobj=gz_hash, mode="wb", compresslevel=1, mtime=0) as gz:
            tar_hash = _Hashing(gz)
            with tarfile.open(fileobj=tar_hash, mode="w|") as tar:  # type: ignore[call-overload]
                tar.add(source, arcname="blob.bin")
    source.unlink()
    digest = gz_hash.hash.hexdigest()
    partial.rename(partial.with_name(digest))
    descriptor = {
        "mediaType": _layout.OCI_LAYER_GZIP,
        "digest": f"sha256:{digest}",
        "size": gz_hash.size,
    }
    return descriptor, f"sha256:{tar_hash.hash.hexdigest()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="layer size in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if _servers.SKOPEO is None or not Path(_servers.REGISTRY_BINARY).is_file():
        raise SystemExit("needs skopeo and docker-registry (make system-deps)")

    work = Path(tempfile.mkdtemp(prefix="chainproof-bench-"))
    registry = None
    try:
        layout = _layout.Layout(work / "layout")
        layer, diff_id = _write_layer(layout, work, args.mib)
        config = _layout.canonical(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            }
        )
        manifest = _layout.canonical(
            {
                "schemaVersion": 2,
                "mediaType": _layout.OCI_MANIFEST,
                "config": layout.add_blob(config, _layout.OCI_CONFIG),
                "layers": [layer],
            }
        )
        layout.tag(layout.add_blob(manifest, _layout.OCI_MANIFEST), "bench")
        registry = _servers.start_registry(work / "registry")
        registry.push(layout.root, "bench", "bench/big:v1")
        ref = f"{registry.host}/bench/big:v1"
        size_mb = layer["size"] / 1e6

        ours: list[tuple[float, int]] = []
        theirs: list[tuple[float, int]] = []
        env = {**os.environ, "HOME": str(work)}
        for _ in range(args.rounds):
            seconds, rss, out = _run([sys.executable, "-c", CHAINPROOF_PULL, ref])
            assert int(out) == layer["size"]
            ours.append((seconds, rss))
            print(f"  chainproof round: {seconds:.2f} s, {rss // 1024} MiB", flush=True)
            target = work / "skopeo-out"
            shutil.rmtree(target, ignore_errors=True)
            seconds, rss, _ = _run(
                [
                    _servers.SKOPEO,
                    "copy",
                    "--src-tls-verify=false",
                    f"docker://{ref}",
                    f"oci:{target}:bench",
                ],
                env,
            )
            theirs.append((seconds, rss))
            print(f"  skopeo round:     {seconds:.2f} s, {rss // 1024} MiB", flush=True)
        best_ours = min(s for s, _ in ours)
        best_theirs = min(s for s, _ in theirs)
        print(f"layer: {size_mb:.0f} MB gzip (incompressible), registry on loopback, plain HTTP")
        print(f"rounds: {args.rounds}, best wall time of each (process start included)")
        print(
            f"chainproof pull+verify: {size_mb / best_ours:8.1f} MB/s "
            f"({best_ours:.2f} s), peak RSS {max(r for _, r in ours) / 1024:.0f} MiB"
        )
        print(
            f"skopeo copy → oci:     {size_mb / best_theirs:8.1f} MB/s "
            f"({best_theirs:.2f} s), peak RSS {max(r for _, r in theirs) / 1024:.0f} MiB"
        )
        print(f"ratio chainproof/skopeo throughput: {best_theirs / best_ours:.2f}x")
    finally:
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
