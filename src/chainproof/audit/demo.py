"""The audit part of ``chainproof demo``: record, checkpoint, prove, tamper, catch.

Called by the demo command with the verdicts it produced; everything happens in a temporary
directory with freshly generated keys: Ed25519 for checkpoints, ML-DSA-44 for their
post-quantum cosignature.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from chainproof.audit import init_log, open_log, record_verdict
from chainproof.audit.verify import verify_bundle

if TYPE_CHECKING:
    from chainproof.report.verdict import Verdict


def demonstrate(verdicts: Sequence[Verdict], write: Callable[[str], None]) -> bool:
    """Walk through the audit log; return True when verify caught the edited entry."""
    if not verdicts:
        return False
    with tempfile.TemporaryDirectory(prefix="chainproof-audit-demo-") as tmp:
        key, pq_key = Path(tmp) / "audit-key.pem", Path(tmp) / "audit-mldsa44.pem"
        for path, private in (
            (key, ed25519.Ed25519PrivateKey.generate()),
            (pq_key, mldsa.MLDSA44PrivateKey.generate()),
        ):
            path.write_bytes(
                private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        db = str(Path(tmp) / "audit.db")
        with init_log(
            db,
            origin="demo.chainproof.invalid/audit",
            key_path=str(key),
            cosign_key_path=str(pq_key),
        ) as log:
            vkey = log.signer.verifier.vkey(log.config.origin) if log.signer else ""
        write(f"audit log {db} (verifier key {vkey}; ML-DSA-44 cosignature key beside it)")
        indices = [record_verdict(db, v) for v in verdicts]
        write(f"recorded {len(indices)} verdict(s) as entries {', '.join(map(str, indices))}")
        with open_log(db) as log:
            note = log.checkpoint()
            write("signed checkpoint (Ed25519 + ML-DSA-44 cosignature):\n" + _short(note))
            bundle = log.inclusion_proof(indices[0])
            checked = verify_bundle(bundle, log.trusted_verifiers())
            write(
                f"inclusion proof of entry {indices[0]}: {len(bundle['hashes'])} hash(es) up to "
                f"signed size {checked['tree_size']} — verified"
            )
            clean = log.verify(log.trusted_verifiers())
            write(f"audit verify: {'OK' if clean.ok else 'FAILED'} ({clean.entries} entries)")
        # Play the attacker: flip the first recorded verdict straight in the database.
        with sqlite3.connect(db) as conn:
            (body,) = conn.execute(
                "SELECT body FROM audit_entries WHERE idx = ?", (bundle["leaf_index"],)
            ).fetchone()
            entry = json.loads(body)
            entry["verdict"] = "pass" if entry["verdict"] == "fail" else "fail"
            edited = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
            conn.execute(
                "UPDATE audit_entries SET body = ? WHERE idx = ?", (edited, bundle["leaf_index"])
            )
        write(f"edited entry {indices[0]} in the database (verdict flipped)")
        with open_log(db) as log:
            report = log.verify(log.trusted_verifiers())
        first = report.first
        if first is None:
            write("audit verify: OK — the edit was NOT caught")
            return False
        write(f"audit verify: FAILED at entry {first.index} ({first.kind}): {first.message}")
        return first.index == indices[0]


def _short(note: str) -> str:
    """The note with long signature lines elided (an ML-DSA-44 line is ~3,300 characters)."""
    return "\n".join(
        f"{line[:80]}… ({len(line)} characters)" if len(line) > 200 else line
        for line in note.rstrip("\n").split("\n")
    )
