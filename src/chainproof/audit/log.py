"""The audit log: time-sharded RFC 9162 trees over canonical JSON entries.

Entry numbers are global and stable: shard *k* holds entries
``first_index .. first_index + size - 1``; pruning old shards never renumbers the rest.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof._files import creating
from chainproof.audit import merkle
from chainproof.audit.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from chainproof.audit.entries import (
    canonical,
    parse_timestamp,
    shard_start_entry,
    timestamp,
    verdict_entry,
)
from chainproof.audit.note import Signer, Verifier, load_private_key, parse_note, sign_note
from chainproof.audit.retention import (
    PERIODS,
    PrunedShard,
    PruneRecord,
    parse_prune_body,
    period_of,
)
from chainproof.audit.storage import LogStore, is_postgres, open_store
from chainproof.audit.storage.interface import CheckpointRow, ShardRow
from chainproof.errors import IntegrityError, NotFoundError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from chainproof.audit.verify import VerifyReport
    from chainproof.report.verdict import Verdict

DEFAULT_CHECKPOINT_EVERY = 1000


@dataclass(frozen=True)
class LogConfig:
    #: Log name: shard origins are ``<origin>/<period>`` and the key signs as ``<origin>``.
    origin: str
    period: str = "month"
    #: PEM private key used for checkpoints and prune records ("" = none configured).
    key_path: str = ""
    #: PEM ML-DSA-44 private key adding a tlog-cosignature to every checkpoint ("" = none).
    cosign_key_path: str = ""
    #: Sign a checkpoint automatically once this many entries are not yet covered by one.
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    #: ...or once the newest checkpoint is this many seconds old (0 = count only).
    checkpoint_seconds: int = 0

    def to_meta(self) -> dict[str, str]:
        return {
            "origin": self.origin,
            "period": self.period,
            "key_path": self.key_path,
            "cosign_key_path": self.cosign_key_path,
            "checkpoint_every": str(self.checkpoint_every),
            "checkpoint_seconds": str(self.checkpoint_seconds),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, str]) -> LogConfig:
        return cls(
            origin=meta["origin"],
            period=meta.get("period", "month"),
            key_path=meta.get("key_path", ""),
            cosign_key_path=meta.get("cosign_key_path", ""),
            checkpoint_every=int(meta.get("checkpoint_every", DEFAULT_CHECKPOINT_EVERY)),
            checkpoint_seconds=int(meta.get("checkpoint_seconds", 0)),
        )


def _default_origin() -> str:
    # Origins must be globally unique (C2SP); .invalid says it names no reachable host.
    return f"audit.chainproof.invalid/{secrets.token_hex(6)}"


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    # A naive time would be read as the host's local zone: decisions are logged in UTC.
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


class AuditLog:
    """One open log. Not thread-safe; open one per thread or process."""

    def __init__(
        self,
        store: LogStore,
        config: LogConfig,
        signer: Signer | None,
        cosigner: Signer | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.signer = signer
        #: ML-DSA-44 key cosigning each checkpoint the classic key signs.
        self.cosigner = cosigner

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def require_signer(self, why: str) -> Signer:
        if self.signer is None:
            raise UsageError(f"{why} needs a signing key: pass --key PEM or run audit init --key")
        return self.signer

    def trusted_verifiers(self) -> list[Verifier]:
        return [s.verifier for s in (self.signer, self.cosigner) if s is not None]

    # ----------------------------------------------------------------- reading

    def shards(self) -> list[ShardRow]:
        return self.store.shards()

    def prune_records(self) -> list[tuple[str, PruneRecord]]:
        return [(r.note, parse_prune_body(parse_note(r.note).text)) for r in self.store.prunes()]

    def locate(self, index: int) -> tuple[ShardRow, int]:
        """The shard holding global entry ``index`` and the leaf index inside it."""
        for shard in self.store.shards():
            if shard.first_index <= index < shard.first_index + shard.size:
                return shard, index - shard.first_index
        raise NotFoundError(f"entry {index} is not in the log (pruned or not yet written)")

    def shard(self, selector: str | None) -> ShardRow:
        """By origin, by period, or the newest shard when ``selector`` is None."""
        shards = self.store.shards()
        if not shards:
            raise NotFoundError("the audit log has no entries yet")
        if selector is None:
            return shards[-1]
        for s in shards:
            if selector in (s.origin, s.period):
                return s
        raise NotFoundError(f"no shard {selector!r} (have: {', '.join(s.period for s in shards)})")

    def entry(self, index: int) -> tuple[ShardRow, int, bytes]:
        with self.store.reading():
            shard, leaf = self.locate(index)
            body = self.store.get_entry(shard.shard_id, leaf)
        if body is None:
            raise IntegrityError(f"entry {index} is missing from storage; run audit verify")
        return shard, leaf, body

    def node_fetcher(
        self, shard_id: int, extra: Mapping[merkle.Coord, bytes] | None = None
    ) -> Callable[[list[merkle.Coord]], dict[merkle.Coord, bytes]]:
        """Node lookup for :func:`merkle.resolve`; ``extra`` holds nodes not yet committed."""

        def fetch(coords: list[merkle.Coord]) -> dict[merkle.Coord, bytes]:
            got = {c: extra[c] for c in coords if extra and c in extra}
            rest = [c for c in coords if c not in got]
            if rest:
                got.update(self.store.get_nodes(shard_id, rest))
            return got

        return fetch

    def root(self, shard: ShardRow, size: int | None = None) -> bytes:
        size = shard.size if size is None else size
        if size == 0:
            return merkle.EMPTY_ROOT
        return merkle.resolve([(0, size)], self.node_fetcher(shard.shard_id))[0]

    def checkpoints(self, shard: ShardRow) -> list[CheckpointRow]:
        return self.store.checkpoints(shard.shard_id)

    # ----------------------------------------------------------------- writing

    def append(
        self, entries: Sequence[Mapping[str, Any]], now: datetime | None = None
    ) -> list[int]:
        """Append entries atomically (one transaction); return their global indices."""
        now = _now(now)
        bodies = [canonical(dict(e)) for e in entries]
        newest = max((str(e.get("time", "")) for e in entries), default="") or timestamp(now)
        with self.store.writing():
            shard = self._open_shard(now)
            start = shard.size
            new_size, nodes = self._append_leaves(shard, bodies)
            self.store.update_shard(shard.shard_id, new_size, max(shard.newest_time, newest), False)
            shard = replace(shard, size=new_size, newest_time=max(shard.newest_time, newest))
            self._maybe_checkpoint(shard, nodes, now)
        return [shard.first_index + i for i in range(start, start + len(bodies))]

    def record(
        self,
        verdict: Verdict,
        *,
        policy_digest: str = "",
        requester: str = "",
        now: datetime | None = None,
    ) -> int:
        """Append one verdict; for long-lived callers (admission) that keep the log open."""
        now = _now(now)
        entry = verdict_entry(verdict, now, policy_digest=policy_digest, requester=requester)
        return self.append([entry], now)[0]

    def _append_leaves(
        self, shard: ShardRow, bodies: Sequence[bytes]
    ) -> tuple[int, dict[merkle.Coord, bytes]]:
        n = shard.size
        # Only the perfect subtrees of the current tree can be left siblings of new nodes.
        frontier = merkle.perfect_ranges(0, n) if n else []
        known = self.store.get_nodes(shard.shard_id, frontier) if frontier else {}
        new: dict[merkle.Coord, bytes] = {}
        for offset, body in enumerate(bodies):
            i = n + offset
            h = merkle.leaf_hash(body)
            new[(0, i)] = h
            level, j = 0, i
            while j & 1:
                left = new.get((level, j - 1)) or known.get((level, j - 1))
                if left is None:
                    got = self.store.get_nodes(shard.shard_id, [(level, j - 1)])
                    left = got.get((level, j - 1))
                    if left is None:
                        raise IntegrityError(
                            f"stored tree of {shard.origin} lacks node ({level}, {j - 1}); "
                            "run audit verify"
                        )
                h = merkle.node_hash(left, h)
                level += 1
                j >>= 1
                new[(level, j)] = h
        self.store.insert_entries(shard.shard_id, [(n + k, body) for k, body in enumerate(bodies)])
        self.store.insert_nodes(shard.shard_id, [(lv, i, h) for (lv, i), h in new.items()])
        new.update(known)
        return n + len(bodies), new

    def _open_shard(self, now: datetime) -> ShardRow:
        """The shard to append to, freezing an ended period and starting a new one."""
        shards = self.store.shards()
        period = period_of(now, self.config.period)
        last = shards[-1] if shards else None
        if last is not None and not last.frozen:
            # A writer whose clock lags keeps appending to the newest shard; never reopen.
            if last.period >= period:
                return last
            self._freeze(last, now)
            last = replace(last, frozen=True)
        previous: dict[str, Any] | None = None
        first_index, shard_id = 0, 1
        if last is not None:
            previous = {
                "origin": last.origin,
                "first_index": last.first_index,
                "size": last.size,
                "root": _b64(self.root(last)),
            }
            first_index, shard_id = last.first_index + last.size, last.shard_id + 1
        else:
            pruned = self._last_pruned()
            if pruned is not None:
                previous = pruned.link()
                first_index = pruned.first_index + pruned.size
                shard_id = int(self.store.get_meta().get("next_shard_id", "1"))
        if last is not None and last.period >= period:
            # The newest shard is frozen for a period that has not ended (prune or checkpoint
            # --freeze): continue under a distinct origin.
            period = f"{last.period}.{shard_id}"
        shard = ShardRow(
            shard_id, f"{self.config.origin}/{period}", period, first_index, 0, "", False
        )
        self.store.insert_shard(shard)
        self.store.set_meta({"next_shard_id": str(shard_id + 1)})
        start = canonical(shard_start_entry(now, previous))
        size, _ = self._append_leaves(shard, [start])
        self.store.update_shard(shard.shard_id, size, timestamp(now), False)
        return replace(shard, size=size, newest_time=timestamp(now))

    def _last_pruned(self) -> PrunedShard | None:
        records = self.prune_records()
        return records[-1][1].shards[-1] if records else None

    def _freeze(self, shard: ShardRow, now: datetime) -> None:
        self.store.update_shard(shard.shard_id, shard.size, shard.newest_time, True)
        if self.signer is not None:
            self._sign(replace(shard, frozen=True), None, now)

    def _sign(
        self, shard: ShardRow, nodes: Mapping[merkle.Coord, bytes] | None, now: datetime
    ) -> str:
        signer = self.require_signer("signing a checkpoint")
        root = (
            merkle.resolve([(0, shard.size)], self.node_fetcher(shard.shard_id, nodes))[0]
            if shard.size
            else merkle.EMPTY_ROOT
        )
        signers = [signer] if self.cosigner is None else [signer, self.cosigner]
        note = Checkpoint(shard.origin, shard.size, root).sign(signers, int(now.timestamp()))
        self.store.insert_checkpoint(
            CheckpointRow(shard.shard_id, shard.size, note, timestamp(now))
        )
        return note

    def _maybe_checkpoint(
        self, shard: ShardRow, nodes: Mapping[merkle.Coord, bytes], now: datetime
    ) -> None:
        if self.signer is None:
            return
        every, seconds = self.config.checkpoint_every, self.config.checkpoint_seconds
        latest = self.store.checkpoint(shard.shard_id)
        covered = latest.size if latest else 0
        due = every > 0 and shard.size - covered >= every
        if seconds > 0 and shard.size > covered:
            # A quiet log still gets its few entries signed within the interval.
            due = (
                due
                or latest is None
                or (now - parse_timestamp(latest.created)).total_seconds() >= seconds
            )
        if due:
            self._sign(shard, nodes, now)

    def roll(self, now: datetime | None = None) -> list[ShardRow]:
        """Freeze the open shard if its period has ended; sign missing final checkpoints."""
        now = _now(now)
        period = period_of(now, self.config.period)
        changed: list[ShardRow] = []
        with self.store.writing():
            for shard in self.store.shards():
                if not shard.frozen and shard.period.split(".")[0] < period:
                    self._freeze(shard, now)
                    changed.append(replace(shard, frozen=True))
                elif shard.frozen and self.signer is not None:
                    latest = self.store.checkpoint(shard.shard_id)
                    if latest is None or latest.size != shard.size:
                        self._sign(shard, None, now)
                        changed.append(shard)
        return changed

    def checkpoint(self, now: datetime | None = None) -> str:
        """Sign (on demand) and return a checkpoint of the newest shard at its current size."""
        now = _now(now)
        self.require_signer("audit checkpoint")
        self.roll(now)
        with self.store.writing():
            shards = self.store.shards()
            if not shards:
                raise NotFoundError("the audit log has no entries yet")
            shard = shards[-1]
            latest = self.store.checkpoint(shard.shard_id)
            if latest is not None and latest.size == shard.size:
                return latest.note
            return self._sign(shard, None, now)

    # ----------------------------------------------------------------- proofs

    def covering_checkpoint(self, shard: ShardRow, min_size: int) -> CheckpointRow | None:
        return self.store.checkpoint(shard.shard_id, at_least=min_size)

    def inclusion_proof(self, index: int, now: datetime | None = None) -> dict[str, Any]:
        """A self-contained bundle: the entry, its audit path and a signed checkpoint."""
        with self.store.reading():
            shard, leaf = self.locate(index)
            cp = self.covering_checkpoint(shard, leaf + 1)
        if cp is None:
            if self.signer is None:
                raise NotFoundError(
                    f"no checkpoint covers entry {index} yet: run audit checkpoint (needs --key)"
                )
            self.checkpoint(now)
            with self.store.reading():
                shard, leaf = self.locate(index)
                cp = self.covering_checkpoint(shard, leaf + 1)
            if cp is None:
                raise NotFoundError(f"no checkpoint covers entry {index}")
        with self.store.reading():
            body = self.store.get_entry(shard.shard_id, leaf)
            if body is None:
                raise IntegrityError(f"entry {index} is missing from storage; run audit verify")
            path = merkle.resolve(
                merkle.inclusion_ranges(leaf, cp.size), self.node_fetcher(shard.shard_id)
            )
        return {
            "schema": "chainproof.audit.proof/v1",
            "type": "inclusion",
            "origin": shard.origin,
            "index": index,
            "leaf_index": leaf,
            "tree_size": cp.size,
            "entry": body.decode(),
            "hashes": [_b64(h) for h in path],
            "checkpoint": cp.note,
        }

    def consistency_proof(
        self, size1: int, size2: int | None = None, shard_selector: str | None = None
    ) -> dict[str, Any]:
        """Proof that the shard at ``size1`` is a prefix of its checkpoint at ``size2``."""
        with self.store.reading():
            shard = self.shard(shard_selector)
            cp2 = self.store.checkpoint(shard.shard_id, size=size2)
            if cp2 is None:
                at = "yet" if size2 is None else f"at size {size2}"
                raise NotFoundError(f"shard {shard.origin} has no checkpoint {at}")
            if not 0 < size1 <= cp2.size:
                raise UsageError(
                    f"--from {size1} must be between 1 and the checkpoint size {cp2.size}"
                )
            fetch = self.node_fetcher(shard.shard_id)
            hashes = (
                merkle.resolve(merkle.consistency_ranges(size1, cp2.size), fetch)
                if size1 < cp2.size
                else []
            )
            root1 = merkle.resolve([(0, size1)], fetch)[0]
            old = self.store.checkpoint(shard.shard_id, size=size1)
        return {
            "schema": "chainproof.audit.proof/v1",
            "type": "consistency",
            "origin": shard.origin,
            "size1": size1,
            "size2": cp2.size,
            "root1": _b64(root1),
            "hashes": [_b64(h) for h in hashes],
            "checkpoint1": old.note if old else None,
            "checkpoint": cp2.note,
        }

    # ----------------------------------------------------------------- verification

    def verify(
        self, verifiers: list[Verifier], *, min_retention: timedelta | None = None
    ) -> VerifyReport:
        """Recompute every shard, check every checkpoint and prune record, and the shard chain
        (:func:`chainproof.audit.verify.verify_store` on this log's storage)."""
        from chainproof.audit.verify import verify_store

        return verify_store(self.store, self.config.origin, verifiers, min_retention=min_retention)

    # ----------------------------------------------------------------- retention

    def prune(
        self,
        older_than: timedelta,
        now: datetime | None = None,
        *,
        dry_run: bool = False,
    ) -> tuple[str | None, list[ShardRow]]:
        """Delete whole frozen shards whose newest entry is older than ``older_than``.

        Each shard is verified from its entries against its final checkpoint first, so a
        prune never launders tampered data into a signed record.
        """
        from chainproof.audit.verify import verify_shard

        now = _now(now)
        signer = self.require_signer("audit prune") if not dry_run else self.signer
        self.roll(now)
        cutoff = now - older_than
        with self.store.writing():
            candidates: list[ShardRow] = []
            for shard in self.store.shards():
                if not shard.frozen or parse_timestamp(shard.newest_time) >= cutoff:
                    break  # shards are time-ordered: keep this one and everything after it
                candidates.append(shard)
            if dry_run or not candidates:
                return None, candidates
            assert signer is not None  # noqa: S101 - require_signer above
            pruned: list[PrunedShard] = []
            for shard in candidates:
                trusted = self.trusted_verifiers()
                result = verify_shard(self.store, shard, trusted)
                if result.findings:
                    raise IntegrityError(
                        f"refusing to prune {shard.origin}: {result.findings[0].message}"
                    )
                last = self.store.checkpoint(shard.shard_id)
                if last is None or last.size != shard.size:
                    raise IntegrityError(f"refusing to prune {shard.origin}: no final checkpoint")
                final = open_checkpoint(last.note, trusted)
                # verify_shard reported a newest_time column that disagrees with the entries
                # (a rewritten value could get a recent shard deleted), so the age test above
                # held for the entries themselves; the record carries the recomputed time.
                newest = result.newest_time or shard.newest_time
                pruned.append(
                    PrunedShard(shard.origin, shard.first_index, shard.size, final.root, newest)
                )
            record = PruneRecord(
                self.config.origin,
                timestamp(now),
                int(older_than.total_seconds()),
                tuple(pruned),
            )
            note = sign_note(record.body(), [signer])
            self.store.insert_prune(note, timestamp(now))
            for shard in candidates:
                self.store.delete_shard(shard.shard_id)
        return note, candidates

    # ----------------------------------------------------------------- export

    def export_lines(self, selector: str | None) -> Iterator[dict[str, Any]]:
        """JSON-serialisable records of one shard: header, entries, checkpoints (streamed)."""
        with self.store.reading():
            shard = self.shard(selector)
            cps = self.store.checkpoints(shard.shard_id)
            yield {
                "schema": "chainproof.audit.export/v1",
                "log_origin": self.config.origin,
                "origin": shard.origin,
                "first_index": shard.first_index,
                "size": shard.size,
                "frozen": shard.frozen,
                "newest_time": shard.newest_time,
            }
            for _, body, _ in self.store.iter_entries(shard.shard_id):
                yield {"entry": body.decode()}
            for cp in cps:
                yield {"checkpoint": cp.note}


def open_log(
    spec: str,
    *,
    create: bool = False,
    key_path: str | None = None,
    cosign_key_path: str | None = None,
) -> AuditLog:
    """Open (or with ``create`` make) the log at a path or ``postgresql://`` URL.

    ``key_path`` and ``cosign_key_path`` override the keys kept in the log's configuration
    ("" = load none).
    """
    store = open_store(spec, create=create)
    try:
        meta = store.get_meta()
        if "origin" not in meta:
            if not create:
                raise NotFoundError(f"{store.description} has no audit log configuration")
            with store.writing():
                meta = store.get_meta()  # another process may have won the race
                if "origin" not in meta:
                    store.set_meta(LogConfig(_default_origin()).to_meta())
                    meta = store.get_meta()
        config = LogConfig.from_meta(meta)
        path = key_path if key_path is not None else config.key_path
        signer = load_private_key(path, config.origin) if path else None
        pq_path = cosign_key_path if cosign_key_path is not None else config.cosign_key_path
        cosigner = load_private_key(pq_path, config.origin, post_quantum=True) if pq_path else None
    except BaseException:
        store.close()
        raise
    return AuditLog(store, config, signer, cosigner)


def init_log(
    spec: str,
    *,
    origin: str | None = None,
    period: str | None = None,
    key_path: str | None = None,
    cosign_key_path: str | None = None,
    checkpoint_every: int | None = None,
    checkpoint_seconds: int | None = None,
) -> AuditLog:
    """Create a log or change its configuration (origin and period only while empty).

    All or nothing: the configuration is checked and written in one transaction, and a SQLite
    file this call created is removed again when it fails (PostgreSQL keeps only the empty
    tables, which any writer would create), so a failed ``audit init`` can simply be retried.
    """
    if period is not None and period not in PERIODS:
        raise UsageError(f"period must be one of {', '.join(PERIODS)}")
    new_file = not is_postgres(spec)
    with creating(spec) if new_file else contextlib.nullcontext():
        store = open_store(spec, create=True)
        try:
            with store.writing():
                meta = store.get_meta()
                config = (
                    LogConfig.from_meta(meta) if "origin" in meta else LogConfig(_default_origin())
                )
                has_shards = bool(store.shards()) or bool(store.prunes())
                if origin is not None and origin != config.origin:
                    if has_shards:
                        raise UsageError("the origin of a log with entries cannot change")
                    config = replace(config, origin=origin)
                if period is not None and period != config.period:
                    if has_shards:
                        raise UsageError("the shard period of a log with entries cannot change")
                    config = replace(config, period=period)
                if key_path is not None:
                    config = replace(config, key_path=str(Path(key_path).resolve()))
                if cosign_key_path is not None:
                    config = replace(config, cosign_key_path=str(Path(cosign_key_path).resolve()))
                if checkpoint_every is not None:
                    config = replace(config, checkpoint_every=checkpoint_every)
                if checkpoint_seconds is not None:
                    config = replace(config, checkpoint_seconds=checkpoint_seconds)
                # Fail now rather than at the first append, and before anything is committed.
                # (Paths as the user gave them, for the error message.)
                signing_path = key_path or config.key_path
                cosigning_path = cosign_key_path or config.cosign_key_path
                signer = load_private_key(signing_path, config.origin) if signing_path else None
                cosigner = (
                    load_private_key(cosigning_path, config.origin, post_quantum=True)
                    if cosigning_path
                    else None
                )
                if cosigner is not None and signer is None:
                    raise UsageError(
                        "an ML-DSA-44 cosignature key needs a checkpoint key (--key) too"
                    )
                store.set_meta(config.to_meta())
        except BaseException:
            store.close()
            raise
    return AuditLog(store, config, signer, cosigner)


def describe_checkpoint(note: str) -> dict[str, Any]:
    cp, parsed = parse_checkpoint(note)
    return {
        "origin": cp.origin,
        "size": cp.size,
        "root": _b64(cp.root),
        "signers": [s.name for s in parsed.signatures],
    }
