"""Audit log benchmark: append throughput, proof generation and verification at 1 M entries.

Peer, same run, same input: pymerkle (PyPI, RFC 9162 hashing, SQLite backend that stores
leaves only). Each workload runs in its own process so its peak RSS is its own.

    .venv/bin/python bench/audit.py                 # 1,000,000 entries
    .venv/bin/python bench/audit.py --entries 50000 # quicker

Targets (issue 7): >= 5,000 appends/s batched on SQLite, proofs < 1 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.audit._pgserver, tests.audit.conftest helpers

BATCH = 1000
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _entries(start: int, count: int) -> list[dict[str, Any]]:
    from tests.audit.conftest import make_verdict

    from chainproof.audit.entries import verdict_entry

    return [
        verdict_entry(make_verdict(i, fail=i % 7 == 0), T0) for i in range(start, start + count)
    ]


def _batches(total: int, size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, total, size):
        yield _entries(start, min(size, total - start))


def _key(directory: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    path = directory / "bench.pem"
    if not path.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


# ----------------------------------------------------------------------------- workers


def w_cp_append(spec: str, total: int, batch: int, directory: str) -> dict[str, Any]:
    from chainproof.audit import init_log

    log = init_log(spec, origin="bench.invalid/audit", key_path=str(_key(Path(directory))))
    elapsed = 0.0
    with log:
        for entries in _batches(total, batch):
            t = time.perf_counter()
            log.append(entries, T0)
            elapsed += time.perf_counter() - t
    return {"entries": total, "seconds": elapsed, "per_s": total / elapsed}


def w_peer_append(path: str, total: int, batch: int) -> dict[str, Any]:
    from pymerkle import SqliteTree

    from chainproof.audit.entries import canonical

    tree = SqliteTree(path)
    elapsed = 0.0
    for entries in _batches(total, batch):
        bodies = [canonical(e) for e in entries]
        t = time.perf_counter()
        if batch == 1:
            tree.append_entry(bodies[0])
        else:
            tree.append_entries(bodies)
        elapsed += time.perf_counter() - t
    tree.close()
    return {"entries": total, "seconds": elapsed, "per_s": total / elapsed}


def _stats(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "median_us": statistics.median(samples) * 1e6,
        "p99_us": samples[max(int(len(samples) * 0.99) - 1, 0)] * 1e6,
    }


def w_cp_proofs(spec: str, samples: int) -> dict[str, Any]:
    from chainproof.audit import merkle, open_log

    rng = random.Random(7)
    out: dict[str, Any] = {}
    with open_log(spec) as log:
        shard = log.shards()[-1]
        size = shard.size
        fetch = log.node_fetcher(shard.shard_id)
        root = log.root(shard)
        gen, ver, bodies = [], [], []
        for _ in range(samples):
            i = rng.randrange(size)
            t = time.perf_counter()
            path = merkle.resolve(merkle.inclusion_ranges(i, size), fetch)
            gen.append(time.perf_counter() - t)
            body = log.store.get_entry(shard.shard_id, i)
            assert body is not None
            bodies.append(body)
            t = time.perf_counter()
            merkle.verify_inclusion(i, size, merkle.leaf_hash(body), path, root)
            ver.append(time.perf_counter() - t)
        out["inclusion_gen"] = _stats(gen)
        out["inclusion_verify"] = _stats(ver)
        cgen, cver = [], []
        for _ in range(samples):
            m = rng.randrange(1, size)
            t = time.perf_counter()
            old = merkle.resolve([(0, m)], fetch)[0]
            proof = merkle.resolve(merkle.consistency_ranges(m, size), fetch)
            cgen.append(time.perf_counter() - t)
            t = time.perf_counter()
            merkle.verify_consistency(m, size, proof, old, root)
            cver.append(time.perf_counter() - t)
        out["consistency_gen"] = _stats(cgen)
        out["consistency_verify"] = _stats(cver)
        log.checkpoint(T0)
        bundle = []
        for _ in range(min(samples, 500)):
            i = shard.first_index + rng.randrange(size)
            t = time.perf_counter()
            log.inclusion_proof(i)
            bundle.append(time.perf_counter() - t)
        out["bundle_gen"] = _stats(bundle)
        out["tree_size"] = size
    return out


def w_peer_proofs(path: str, samples: int) -> dict[str, Any]:
    from pymerkle import SqliteTree, verify_consistency, verify_inclusion

    rng = random.Random(7)
    tree = SqliteTree(path)
    size = tree.get_size()
    root = tree.get_state()
    out: dict[str, Any] = {"tree_size": size}
    gen, ver = [], []
    for _ in range(samples):
        i = rng.randrange(1, size + 1)
        t = time.perf_counter()
        proof = tree.prove_inclusion(i)
        gen.append(time.perf_counter() - t)
        base = tree.get_leaf(i)
        t = time.perf_counter()
        verify_inclusion(base, root, proof)
        ver.append(time.perf_counter() - t)
    out["inclusion_gen"] = _stats(gen)
    out["inclusion_verify"] = _stats(ver)
    cgen, cver = [], []
    for _ in range(samples):
        m = rng.randrange(1, size)
        t = time.perf_counter()
        proof = tree.prove_consistency(m)
        old = tree.get_state(m)
        cgen.append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_consistency(old, root, proof)
        cver.append(time.perf_counter() - t)
    out["consistency_gen"] = _stats(cgen)
    out["consistency_verify"] = _stats(cver)
    tree.close()
    return out


def w_cp_verify(spec: str) -> dict[str, Any]:
    from chainproof.audit import open_log

    with open_log(spec) as log:
        t = time.perf_counter()
        report = log.verify(log.trusted_verifiers())
        elapsed = time.perf_counter() - t
    assert report.ok, report.findings[:3]
    return {"entries": report.entries, "seconds": elapsed, "per_s": report.entries / elapsed}


def w_cp_checkpoints(samples: int) -> dict[str, Any]:
    """Checkpoint signing and verification: Ed25519 alone vs Ed25519 + ML-DSA-44 cosignature."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

    from chainproof.audit.checkpoint import Checkpoint, open_checkpoint
    from chainproof.audit.note import Signer

    name = "bench.invalid/audit"
    ed = Signer(name, ed25519.Ed25519PrivateKey.generate())
    pq = Signer(name, mldsa.MLDSA44PrivateKey.generate())
    out: dict[str, Any] = {}
    for label, signers in (("ed25519", [ed]), ("ed25519+mldsa44", [ed, pq])):
        verifiers = [s.verifier for s in signers]
        sign_t: list[float] = []
        verify_t: list[float] = []
        note = ""
        for i in range(samples):
            cp = Checkpoint(f"{name}/2026-01", 1_000_000 + i, random.randbytes(32))
            t = time.perf_counter()
            note = cp.sign(signers, 1_767_225_600 + i)
            sign_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            open_checkpoint(note, verifiers)
            verify_t.append(time.perf_counter() - t)
        out[label] = {
            "sign": _stats(sign_t),
            "verify": _stats(verify_t),
            "note_bytes": len(note.encode()),
        }
    return out


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "cp_checkpoints": w_cp_checkpoints,
    "cp_append": w_cp_append,
    "peer_append": w_peer_append,
    "cp_proofs": w_cp_proofs,
    "peer_proofs": w_peer_proofs,
    "cp_verify": w_cp_verify,
}


def _spawn(name: str, *args: Any) -> dict[str, Any]:
    plain = [a if isinstance(a, int) else str(a) for a in args]
    cmd = [sys.executable, __file__, "--worker", name, json.dumps(plain)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker {name} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _worker_main(name: str, raw: str) -> None:
    fn = WORKERS[name]
    result = fn(*json.loads(raw))
    result["rss_mb"] = _rss_mb()
    print(json.dumps(result))


def _row(label: str, ours: float, peer: float | None, unit: str) -> str:
    """``speedup`` > 1 means chainproof is faster (higher rate, or lower time)."""
    speedup = (ours / peer if "entries/s" in unit else peer / ours) if peer else None
    ratio = f"{speedup:6.2f}x" if speedup is not None else "   n/a"
    peer_s = f"{peer:12,.1f}" if peer is not None else f"{'-':>12}"
    return f"  {label:<34}{ours:12,.1f}{peer_s}  {ratio}  {unit}"


def _report(res: dict[str, dict[str, Any]], args: argparse.Namespace, tmp: Path) -> None:
    print(f"\n  {'metric':<34}{'chainproof':>12}{'pymerkle':>12}  {'speedup':>8}")
    print(
        _row(
            "SQLite append, batched",
            res["cp_sqlite_batched"]["per_s"],
            res["peer_sqlite_batched"]["per_s"],
            "entries/s",
        )
    )
    print(
        _row(
            "SQLite append, one per commit",
            res["cp_sqlite_single"]["per_s"],
            res["peer_sqlite_single"]["per_s"],
            "entries/s",
        )
    )
    cp, peer = res["cp_proofs"], res["peer_proofs"]
    for key, label in (
        ("inclusion_gen", "inclusion proof generation"),
        ("inclusion_verify", "inclusion proof verification"),
        ("consistency_gen", "consistency proof generation"),
        ("consistency_verify", "consistency proof verification"),
    ):
        print(_row(f"{label} (median)", cp[key]["median_us"], peer[key]["median_us"], "µs"))
        print(_row(f"{label} (p99)", cp[key]["p99_us"], peer[key]["p99_us"], "µs"))
    print(_row("proof bundle (entry+path+checkpoint)", cp["bundle_gen"]["median_us"], None, "µs"))
    print(_row("audit verify (full recompute)", res["cp_verify"]["per_s"], None, "entries/s"))
    if "cp_pg_batched" in res:
        print(
            _row(
                "PostgreSQL append, batched",
                res["cp_pg_batched"]["per_s"],
                None,
                f"entries/s ({args.pg_entries:,} entries)",
            )
        )
        print(
            _row(
                "PostgreSQL append, one per commit", res["cp_pg_single"]["per_s"], None, "entries/s"
            )
        )
    cps = res["cp_checkpoints"]
    for algo in ("ed25519", "ed25519+mldsa44"):
        c = cps[algo]
        print(
            f"  checkpoint {algo:<16} sign {c['sign']['median_us']:8,.1f} µs, verify "
            f"{c['verify']['median_us']:8,.1f} µs (median), note {c['note_bytes']:,} bytes"
        )
    print("\n  peak RSS (MB):")
    for name, r in res.items():
        print(f"    {name:<24}{r['rss_mb']:8.1f}")
    sizes = f"{cp['tree_size']:,} (chainproof) / {peer['tree_size']:,} (pymerkle)"
    print(f"\n  proofs at tree size {sizes}")
    size_cp = (tmp / "cp.db").stat().st_size / 1e6
    size_peer = (tmp / "peer.db").stat().st_size / 1e6
    print(f"  database size: chainproof {size_cp:,.0f} MB, pymerkle {size_peer:,.0f} MB")


def _run(args: argparse.Namespace, tmp: Path) -> None:
    n, single = args.entries, args.single
    print(
        f"audit bench: {n:,} entries (batches of {BATCH}), {single:,} unbatched, "
        f"{args.samples:,} proof samples; peer: pymerkle SqliteTree"
    )
    res: dict[str, dict[str, Any]] = {}
    res["cp_sqlite_batched"] = _spawn("cp_append", tmp / "cp.db", n, BATCH, tmp)
    res["peer_sqlite_batched"] = _spawn("peer_append", tmp / "peer.db", n, BATCH)
    res["cp_sqlite_single"] = _spawn("cp_append", tmp / "cp1.db", single, 1, tmp)
    res["peer_sqlite_single"] = _spawn("peer_append", tmp / "peer1.db", single, 1)
    res["cp_proofs"] = _spawn("cp_proofs", tmp / "cp.db", args.samples)
    res["peer_proofs"] = _spawn("peer_proofs", tmp / "peer.db", min(args.samples, 200))
    res["cp_verify"] = _spawn("cp_verify", tmp / "cp.db")
    res["cp_checkpoints"] = _spawn("cp_checkpoints", min(args.samples, 500))
    from tests.audit import _pgserver

    try:
        server: _pgserver.Server | None = _pgserver.Server()
    except (ImportError, OSError, RuntimeError, _pgserver.Unavailable) as exc:
        print(f"PostgreSQL skipped: {exc}")
        server = None
    if server is not None:
        try:
            res["cp_pg_batched"] = _spawn(
                "cp_append", server.new_database(), args.pg_entries, BATCH, tmp
            )
            res["cp_pg_single"] = _spawn("cp_append", server.new_database(), single, 1, tmp)
        finally:
            server.stop()

    _report(res, args, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=1000, help="unbatched appends measured")
    parser.add_argument("--pg-entries", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker_main(*args.worker)
        return

    tmp = Path(tempfile.mkdtemp(prefix="chainproof-bench-"))
    try:
        _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
