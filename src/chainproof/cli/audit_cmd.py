"""``chainproof audit init|show|proof|verify|checkpoint|prune|export``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.errors import Error, UsageError

if TYPE_CHECKING:
    from chainproof.audit.log import AuditLog
    from chainproof.audit.note import Verifier
    from chainproof.audit.verify import VerifyReport


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="inspect, prove, verify and prune the tamper-evident audit log"
    )
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    def common(name: str, help_text: str, *, log_required: bool = True) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--log",
            required=log_required,
            metavar="PATH|URL",
            help="SQLite file or postgresql:// URL of the audit log",
        )
        p.add_argument("--format", choices=("text", "json"), default="text")
        return p

    p = common("init", "create a log or change its configuration")
    p.add_argument("--origin", help="log name; shards are ORIGIN/PERIOD (default: random)")
    p.add_argument("--period", choices=("year", "month", "day"), help="shard period")
    p.add_argument("--key", metavar="PEM", help="private key kept with the log's config")
    p.add_argument(
        "--cosign-key",
        metavar="PEM",
        help="ML-DSA-44 private key adding a post-quantum cosignature to every checkpoint",
    )
    p.add_argument(
        "--checkpoint-every", type=int, metavar="N", help="sign once N entries are uncovered"
    )
    p.add_argument(
        "--checkpoint-interval", metavar="AGE", help="…or once the newest checkpoint is AGE old"
    )
    p.set_defaults(handler=_init)

    p = common("show", "summarise the log, or print one entry")
    p.add_argument("--entry", type=int, metavar="N", help="global entry index")
    p.set_defaults(handler=_show)

    p = common("proof", "print an inclusion or consistency proof bundle (JSON)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--entry", type=int, metavar="N", help="inclusion proof of entry N")
    which.add_argument(
        "--from",
        dest="from_size",
        type=int,
        metavar="SIZE",
        help="consistency proof from this tree size",
    )
    p.add_argument(
        "--to",
        dest="to_size",
        type=int,
        metavar="SIZE",
        help="…to the checkpoint of this size (default: newest)",
    )
    p.add_argument("--shard", metavar="ORIGIN|PERIOD", help="shard (default: newest)")
    p.add_argument("--key", metavar="PEM", help="signs a checkpoint if none covers the entry")
    p.add_argument("-o", "--output", metavar="FILE", help="write the bundle here")
    p.set_defaults(handler=_proof)

    p = common("verify", "verify the whole log, an exported shard or a proof", log_required=False)
    p.add_argument("--proof", metavar="FILE", help="proof bundle from audit proof")
    p.add_argument("--export", metavar="FILE", help="shard file from audit export")
    p.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="PEM|VKEY",
        help="trusted public key (PEM file or name+id+base64); repeatable; an ML-DSA-44 key "
        "makes its cosignature required on every checkpoint",
    )
    p.add_argument(
        "--no-checkpoints",
        action="store_true",
        help="no trusted key: check entries, stored hashes, checkpoint roots and the shard "
        "chain but not signatures, and exit 0 if those pass",
    )
    p.add_argument(
        "--retention",
        metavar="AGE",
        help="also require every pruned shard to have been kept at least AGE (e.g. 180d)",
    )
    p.set_defaults(handler=_verify)

    _register_keygen(sub)

    p = common("checkpoint", "sign and print a checkpoint of the newest shard now")
    p.add_argument("--key", metavar="PEM", help="private key (default: the log's)")
    p.set_defaults(handler=_checkpoint)

    p = common("prune", "delete whole expired shards, keeping a signed prune record")
    p.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 180d, 26w")
    p.add_argument("--key", metavar="PEM", help="private key (default: the log's)")
    p.add_argument("--dry-run", action="store_true", help="list what would be pruned")
    p.set_defaults(handler=_prune)

    p = common("export", "write one shard (entries + checkpoints) for offline verification")
    p.add_argument("--shard", metavar="ORIGIN|PERIOD", help="shard (default: newest)")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(handler=_export)


def _register_keygen(sub: Any) -> None:
    p = sub.add_parser(
        "keygen",
        help="write a private key for checkpoints (or ML-DSA-44 cosignatures)",
        description="write an unencrypted PKCS#8 PEM private key (mode 0600) and FILE.pub",
    )
    p.add_argument("--algorithm", choices=("ed25519", "ecdsa-p256", "mldsa-44"), default="ed25519")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument(
        "--log",
        metavar="PATH|URL",
        help="also make it this log's checkpoint key (mldsa-44: its cosignature key), as "
        "audit init --key/--cosign-key does, and print its verifier key",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=_keygen)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.format == "json":
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _open(args: argparse.Namespace, *, signing: bool = True) -> AuditLog:
    """Open ``--log``; without ``signing`` the configured private key is not even loaded, so
    reading, exporting and verifying work where the key file is absent (an auditor's copy)."""
    from chainproof.audit import open_log

    if not args.log:
        raise UsageError("--log PATH|URL is required")
    key = getattr(args, "key", None)
    if not signing:
        return open_log(args.log, key_path="", cosign_key_path="")
    # verify's --key is a list of trusted public keys, not the log's signing key.
    return open_log(args.log, key_path=key if isinstance(key, str) else None)


def _init(args: argparse.Namespace) -> int:
    from chainproof.audit import init_log
    from chainproof.audit.retention import parse_duration

    with init_log(
        args.log,
        origin=args.origin,
        period=args.period,
        key_path=args.key,
        cosign_key_path=args.cosign_key,
        checkpoint_every=args.checkpoint_every,
        checkpoint_seconds=(
            int(parse_duration(args.checkpoint_interval).total_seconds())
            if args.checkpoint_interval
            else None
        ),
    ) as log:
        cfg = log.config
        data: dict[str, Any] = {**cfg.to_meta(), "storage": log.store.description}
        if log.signer:
            data["vkey"] = log.signer.verifier.vkey(cfg.origin)
        if log.cosigner:
            data["cosign_vkey"] = log.cosigner.verifier.vkey(cfg.origin)
    lines = [f"audit log {data['storage']}: origin {cfg.origin}, {cfg.period} shards"]
    if "vkey" in data:
        lines.append(f"checkpoint key: {data['vkey']}")
    if "cosign_vkey" in data:
        lines.append(f"ML-DSA-44 cosignature key: {data['cosign_vkey']}")
    _emit(args, data, "\n".join(lines))
    return 0


def _show(args: argparse.Namespace) -> int:
    from chainproof.audit import merkle
    from chainproof.audit.log import describe_checkpoint

    with _open(args, signing=False) as log:
        if args.entry is not None:
            shard, leaf, body = log.entry(args.entry)
            data = {
                "index": args.entry,
                "origin": shard.origin,
                "leaf_index": leaf,
                "leaf_hash": merkle.leaf_hash(body).hex(),
                "entry": json.loads(body),
            }
            _emit(args, data, f"{shard.origin} #{leaf} (entry {args.entry})\n{body.decode()}")
            return 0
        with log.store.reading():
            shards: list[dict[str, Any]] = []
            for row in log.shards():
                latest = log.store.checkpoint(row.shard_id)
                shards.append(
                    {
                        "origin": row.origin,
                        "first_index": row.first_index,
                        "size": row.size,
                        "newest_time": row.newest_time,
                        "frozen": row.frozen,
                        "root": log.root(row).hex(),
                        "latest_checkpoint": describe_checkpoint(latest.note) if latest else None,
                    }
                )
            prunes = [note for note, _ in log.prune_records()]
    data = {
        "origin": log.config.origin,
        "period": log.config.period,
        "shards": shards,
        "prune_records": prunes,
    }
    lines = [f"audit log {log.config.origin} ({log.config.period} shards)"]
    for s in shards:
        cp = s["latest_checkpoint"]
        state = "frozen" if s["frozen"] else "open"
        lines.append(
            f"  {s['origin']}: entries {s['first_index']}..{s['first_index'] + s['size'] - 1}, "
            f"{state}, checkpoint {cp['size'] if cp else 'none'}, newest {s['newest_time']}"
        )
    lines.append(f"  prune records: {len(prunes)}")
    _emit(args, data, "\n".join(lines))
    return 0


def _proof(args: argparse.Namespace) -> int:
    with _open(args) as log:
        if args.entry is not None:
            bundle = log.inclusion_proof(args.entry)
        else:
            bundle = log.consistency_proof(args.from_size, args.to_size, args.shard)
    text = json.dumps(bundle, indent=2, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _verifiers(args: argparse.Namespace, log: AuditLog | None) -> list[Verifier]:
    """Trusted keys: ``--key``s, else the keys configured with the log; [] means none.

    Without ``--no-checkpoints`` an empty list still verifies the tree, but the command
    fails closed (exit 1): an unsigned check proves nothing against someone who can
    rewrite the storage.
    """
    from chainproof.audit.note import load_private_key, load_verifier

    if args.no_checkpoints:
        if args.key:
            raise UsageError("--no-checkpoints and --key exclude each other")
        return []
    verifiers = [load_verifier(k) for k in args.key]
    if not verifiers and log is not None:
        cfg = log.config
        for path, pq in ((cfg.key_path, False), (cfg.cosign_key_path, True)):
            if not path:
                continue
            try:
                verifiers.append(load_private_key(path, cfg.origin, post_quantum=pq).verifier)
            except Error as exc:
                # An auditor's copy of the log without the key files: say why, fail closed.
                args.key_problems = [*getattr(args, "key_problems", []), str(exc)]
    return verifiers


def _render_report(args: argparse.Namespace, report: VerifyReport, what: str) -> int:
    lines: list[str] = []
    accepted = report.signatures_checked or args.no_checkpoints
    data = {**report.to_json(), "verified": report.ok and accepted}
    if report.ok and not accepted:
        lines.append(
            f"{what} NOT VERIFIED: entries, stored hashes and {report.unsigned_checkpoints} "
            "checkpoint root(s) are consistent, but no checkpoint signature could be checked: "
            "no trusted key (pass --key PUB, or --no-checkpoints to accept an unsigned check)"
        )
        lines.extend(f"  key not loaded: {p}" for p in getattr(args, "key_problems", []))
    elif report.ok and not report.signatures_checked:
        lines.append(
            f"{what} OK without signatures: {report.shards} shard(s), {report.entries} "
            f"entries, {report.unsigned_checkpoints} checkpoint root(s) consistent; no "
            "checkpoint signature was checked (--no-checkpoints)"
        )
    elif report.ok:
        lines.append(
            f"{what} OK: {report.shards} shard(s), {report.entries} entries, "
            f"{report.checkpoints} checkpoint(s), {report.prune_records} prune record(s) verified"
        )
    else:
        first = report.first
        assert first is not None  # noqa: S101 - not ok implies a finding
        at = f"entry {first.index}" if first.index is not None else first.origin
        lines.append(f"{what} FAILED: first divergence at {at} ({first.kind}): {first.message}")
        lines.extend(f"  {f.kind}: {f.message}" for f in report.findings[1:])
    lines.extend(f"  warning: {w}" for w in report.warnings)
    _emit(args, data, "\n".join(lines))
    return 0 if data["verified"] else 1


def _verify(args: argparse.Namespace) -> int:
    from chainproof._files import read_bounded
    from chainproof._jsonutil import MAX_JSON_BYTES, loads_object
    from chainproof.audit.retention import parse_duration
    from chainproof.audit.verify import verify_bundle, verify_export

    chosen = [x for x in (args.log, args.proof, args.export) if x]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --log, --proof, --export")
    min_retention = parse_duration(args.retention) if args.retention else None
    if min_retention is not None and not args.log:
        raise UsageError("--retention applies to --log (prune records live in the log)")
    if args.proof:
        if args.no_checkpoints:
            raise UsageError("a proof is only meaningful against a signed checkpoint: pass --key")
        if not args.key:
            raise UsageError("pass --key (public key PEM or vkey) to check the proof's checkpoint")
        path = Path(args.proof)
        raw = read_bounded(path, "proof", MAX_JSON_BYTES)
        result = verify_bundle(loads_object(raw, str(path)), _verifiers(args, None))
        if result["type"] == "inclusion":
            text = (
                f"proof OK: entry {result['index']} is leaf {result['leaf_index']} of "
                f"{result['origin']} at signed size {result['tree_size']}"
            )
        else:
            text = (
                f"proof OK: {result['origin']} at size {result['size1']} is a prefix of its "
                f"signed size {result['size2']}"
            )
        _emit(args, {"ok": True, **result}, text)
        return 0
    if args.export:
        return _render_report(
            args, verify_export(Path(args.export), _verifiers(args, None)), f"export {args.export}"
        )
    with _open(args, signing=False) as log:
        report = log.verify(_verifiers(args, log), min_retention=min_retention)
    return _render_report(args, report, "audit log")


def _checkpoint(args: argparse.Namespace) -> int:
    from chainproof.audit.log import describe_checkpoint

    with _open(args) as log:
        note = log.checkpoint()
    _emit(args, {**describe_checkpoint(note), "note": note}, note)
    return 0


def _prune(args: argparse.Namespace) -> int:
    from chainproof.audit.retention import parse_duration

    age = parse_duration(args.older_than)
    with _open(args) as log:
        note, shards = log.prune(age, dry_run=args.dry_run)
    names = [s.origin for s in shards]
    data = {"dry_run": args.dry_run, "pruned": names, "record": note}
    if not names:
        text = f"nothing to prune: no frozen shard has only entries older than {args.older_than}"
    elif args.dry_run:
        text = "would prune: " + ", ".join(names)
    else:
        text = f"pruned {', '.join(names)}; signed prune record:\n{note}"
    _emit(args, data, text)
    return 0


def _export(args: argparse.Namespace) -> int:
    from chainproof._files import open_atomic

    out = Path(args.output)
    count = 0
    # The export appears complete or not at all: a shard that fails half way leaves no file.
    with _open(args, signing=False) as log, open_atomic(out) as handle:
        for record in log.export_lines(args.shard):
            handle.write((json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
            count += 1
    _emit(args, {"output": str(out), "records": count}, f"wrote {count} records to {out}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa

    from chainproof._files import write_new_files
    from chainproof.audit.note import PrivateKey

    out = Path(args.output)
    pub = out.with_name(out.name + ".pub")
    key: PrivateKey
    if args.algorithm == "mldsa-44":
        key = mldsa.MLDSA44PrivateKey.generate()
    elif args.algorithm == "ecdsa-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Both or neither; 0600 from the start: the private key is never readable by others.
    write_new_files(
        {out: (pem, 0o600), pub: (public, 0o644)},
        exists="{path} exists; refusing to overwrite a key",
    )
    data = {"algorithm": args.algorithm, "private_key": str(out), "public_key": str(pub)}
    text = f"wrote {args.algorithm} private key {out} and public key {pub}"
    if args.log:
        from chainproof.audit import init_log

        pq = args.algorithm == "mldsa-44"
        with init_log(
            args.log, key_path=None if pq else str(out), cosign_key_path=str(out) if pq else None
        ) as log:
            signer = log.cosigner if pq else log.signer
            assert signer is not None  # noqa: S101 - init_log just loaded it
            data["vkey"] = signer.verifier.vkey(log.config.origin)
        role = "cosignature" if pq else "checkpoint"
        text += f"\n{log.config.origin} {role} key: {data['vkey']}"
    _emit(args, data, text)
    return 0
