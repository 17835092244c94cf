"""Verification: the whole stored log, an exported shard, or a single proof bundle.

Every check recomputes from entries (never trusts stored hashes) and reports findings at
the global entry index where the log first diverges from what was signed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof._jsonutil import loads_object
from chainproof.audit import merkle
from chainproof.audit.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from chainproof.audit.entries import KIND_SHARD_START, decode_entry, parse_timestamp
from chainproof.audit.note import (
    MissingSignatureError,
    SignatureError,
    UnknownKeyError,
    Verifier,
    open_note,
    parse_note,
)
from chainproof.audit.retention import PrunedShard, PruneRecord, parse_prune_body
from chainproof.errors import Error, InputError, IntegrityError, MalformedError, NotFoundError

if TYPE_CHECKING:
    from chainproof.audit.storage.interface import LogStore, ShardRow

_NO_START = object()
#: An exported shard line holds one entry (≤ 1 MiB) or one checkpoint, JSON-escaped.
MAX_EXPORT_LINE = 4 << 20


@dataclass(frozen=True)
class Finding:
    kind: str
    origin: str
    #: Global entry index where the divergence starts (None: not tied to one entry).
    index: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "origin": self.origin,
            "index": self.index,
            "message": self.message,
        }


@dataclass
class ShardResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    root: bytes | None = None
    start_previous: Any = _NO_START
    entries: int = 0
    checkpoints: int = 0
    #: Checkpoints whose roots were compared but whose signatures were not checked (no key).
    unsigned_checkpoints: int = 0
    #: Newest ``time`` among the entries read (recomputed, never the stored column).
    newest_time: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]
    shards: int
    entries: int
    checkpoints: int
    prune_records: int
    #: False when no trusted key was given: checkpoints and prune records were compared
    #: with the recomputed tree but their signatures were not checked.
    signatures_checked: bool = True
    unsigned_checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "shards": self.shards,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "prune_records": self.prune_records,
            "signatures_checked": self.signatures_checked,
            "unsigned_checkpoints": self.unsigned_checkpoints,
            "first_divergence": self.first.to_json() if self.first else None,
            "findings": [f.to_json() for f in self.findings],
            "warnings": list(self.warnings),
        }


def _ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: -1 if f.index is None else f.index))


NodeSource = Callable[[list[merkle.Coord]], dict[merkle.Coord, bytes]]


@dataclass(frozen=True)
class _Spec:
    origin: str
    first_index: int
    size: int
    frozen: bool


def _entry_problem(
    spec: _Spec,
    res: ShardResult,
    expected: int,
    idx: int,
    body: bytes,
    *,
    stored: bytes | None,
    leaf: bytes,
) -> Finding | None:
    """What is wrong with the entry at ``idx`` (``expected`` if none was deleted), if anything."""
    origin, first_index = spec.origin, spec.first_index
    g = first_index + idx
    if idx != expected:
        missing = f"{first_index + expected}" + (f"..{g - 1}" if idx - expected > 1 else "")
        return Finding(
            "missing-entry", origin, first_index + expected, f"entry {missing} is missing (deleted)"
        )
    if idx >= spec.size:
        return Finding(
            "extra-entry", origin, g, f"entry {g} lies beyond the shard's recorded size {spec.size}"
        )
    if stored is None:
        return Finding("missing-hash", origin, g, f"stored leaf hash of entry {g} is missing")
    if stored != leaf:
        return Finding(
            "edited-entry",
            origin,
            g,
            f"entry {g} does not match its stored leaf hash (edited or replaced)",
        )
    try:
        obj = decode_entry(body, f"entry {g}")
    except MalformedError as exc:
        return Finding("malformed-entry", origin, g, str(exc))
    if res.newest_time is None or obj["time"] > res.newest_time:
        res.newest_time = obj["time"]
    is_start = obj.get("kind") == KIND_SHARD_START
    if idx == 0:
        if not is_start:
            return Finding(
                "broken-chain",
                origin,
                g,
                f"entry {g} should start shard {origin} but is a {obj.get('kind')}",
            )
        res.start_previous = obj.get("previous")
    elif is_start:
        return Finding(
            "reordered-entry",
            origin,
            g,
            f"entry {g} is a shard-start record in the middle of {origin}",
        )
    return None


def _scan(
    spec: _Spec,
    entries: Iterable[tuple[int, bytes, bytes | None]],
    checkpoints: list[tuple[int, str]],
    verifiers: list[Verifier],
    *,
    node_check: Callable[[int, int, bytes], str | None] | None = None,
    node_source: NodeSource | None = None,
) -> ShardResult:
    """Recompute one shard's tree from its entries and hold checkpoints against it."""
    origin, first_index, size = spec.origin, spec.first_index, spec.size
    res = ShardResult()
    add = res.findings.append
    wanted = {s for s, _ in checkpoints}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    cr = merkle.CompactRange()
    node_problem: list[tuple[int, int, str]] = []

    def on_node(level: int, idx: int, h: bytes) -> None:
        if node_check is not None and level > 0 and not node_problem:
            problem = node_check(level, idx, h)
            if problem:
                node_problem.append((level, idx, problem))

    expected = 0
    for idx, body, stored in entries:
        lh = merkle.leaf_hash(body)
        problem = _entry_problem(spec, res, expected, idx, body, stored=stored, leaf=lh)
        if problem is not None:
            add(problem)
            break
        cr.append(lh, on_node)
        if node_problem:
            level, nidx, what = node_problem[0]
            lo = first_index + (nidx << level)
            hi = lo + (1 << level) - 1
            add(
                Finding(
                    "rewritten-hash",
                    origin,
                    lo,
                    f"stored hash of node (level {level}, index {nidx}) over entries "
                    f"{lo}..{hi} {what}",
                )
            )
            break
        expected += 1
        if cr.size in wanted:
            roots[cr.size] = cr.root()
    res.entries = expected
    intact = not res.findings
    if intact and expected < size:
        add(
            Finding(
                "truncated",
                origin,
                first_index + expected,
                f"entries {first_index + expected}..{first_index + size - 1} are missing "
                "(log truncated)",
            )
        )
        intact = False
    if intact:
        res.root = cr.root()

    _check_checkpoints(spec, res, roots, checkpoints, verifiers, node_source=node_source)
    return res


def _open_checkpoint(note: str, verifiers: list[Verifier], where: Finding) -> Checkpoint | Finding:
    """The checkpoint, or the finding (at ``where``) saying why it cannot be trusted."""
    what = where.message
    try:
        if verifiers:
            return open_checkpoint(note, verifiers, what)
        # No trusted key: the roots are still held against the recomputed tree, which
        # catches tampering by anyone who cannot also rewrite the checkpoints.
        return parse_checkpoint(note, what)[0]
    except UnknownKeyError as exc:
        kind, message = "unknown-key", str(exc)
    except SignatureError as exc:
        kind, message = "forged-checkpoint", str(exc)
    except MissingSignatureError as exc:
        kind = "missing-cosignature" if exc.post_quantum else "missing-signature"
        message = str(exc)
    except MalformedError as exc:
        kind, message = "malformed-checkpoint", str(exc)
    return Finding(kind, where.origin, where.index, message)


def _check_checkpoints(
    spec: _Spec,
    res: ShardResult,
    roots: dict[int, bytes],
    checkpoints: list[tuple[int, str]],
    verifiers: list[Verifier],
    *,
    node_source: NodeSource | None,
) -> None:
    origin, first_index, size, frozen = spec.origin, spec.first_index, spec.size, spec.frozen
    intact = res.root is not None
    add = res.findings.append
    previous: Checkpoint | None = None
    for cp_size, note in checkpoints:
        what = f"checkpoint of {origin} at size {cp_size}"
        at = first_index + max(cp_size - 1, 0)
        cp = _open_checkpoint(note, verifiers, Finding("", origin, at, what))
        if isinstance(cp, Finding):
            add(cp)
            continue
        if verifiers:
            res.checkpoints += 1
        else:
            res.unsigned_checkpoints += 1
        if cp.origin != origin or cp.size != cp_size:
            add(
                Finding(
                    "forged-checkpoint",
                    origin,
                    at,
                    f"{what} is signed for {cp.origin} at size {cp.size}",
                )
            )
            continue
        if cp_size > size:
            add(
                Finding(
                    "truncated",
                    origin,
                    first_index + size,
                    f"{what} covers {cp_size} entries but only {size} are stored: entries "
                    f"{first_index + size}..{first_index + cp_size - 1} were removed",
                )
            )
            continue
        if cp_size in roots:
            if roots[cp_size] != cp.root:
                start = previous.size if previous else 0
                add(
                    Finding(
                        "checkpoint-mismatch",
                        origin,
                        first_index + start,
                        f"{what}: the tree recomputed from entries has a different root; "
                        f"the divergence lies in entries {first_index + start}.."
                        f"{first_index + cp_size - 1}",
                    )
                )
                continue
        elif intact:
            add(Finding("checkpoint-mismatch", origin, at, f"{what} matches no recomputed size"))
            continue
        if previous is not None and node_source is not None and cp_size > previous.size > 0:
            try:
                proof = merkle.resolve(
                    merkle.consistency_ranges(previous.size, cp_size), node_source
                )
                merkle.verify_consistency(previous.size, cp_size, proof, previous.root, cp.root)
            except Error as exc:
                add(
                    Finding(
                        "inconsistent-checkpoints",
                        origin,
                        first_index + previous.size,
                        f"checkpoints at sizes {previous.size} and {cp_size}: {exc}",
                    )
                )
        previous = cp
    if frozen and (not checkpoints or checkpoints[-1][0] != size):
        res.warnings.append(f"frozen shard {origin} has no final checkpoint")
    if not frozen and size and (not checkpoints or checkpoints[-1][0] < size):
        covered = checkpoints[-1][0] if checkpoints else 0
        res.warnings.append(
            f"entries {first_index + covered}..{first_index + size - 1} of {origin} are not yet "
            "covered by a signed checkpoint"
        )


def verify_shard(store: LogStore, shard: ShardRow, verifiers: list[Verifier]) -> ShardResult:
    iters: dict[int, Iterator[tuple[int, bytes]]] = {}

    def node_check(level: int, idx: int, h: bytes) -> str | None:
        it = iters.setdefault(level, store.iter_nodes(shard.shard_id, level))
        got = next(it, None)
        if got is None or got[0] != idx:
            return "is missing"
        if got[1] != h:
            return "was rewritten"
        return None

    def node_source(coords: list[merkle.Coord]) -> dict[merkle.Coord, bytes]:
        return store.get_nodes(shard.shard_id, coords)

    cps = [(c.size, c.note) for c in store.checkpoints(shard.shard_id)]
    res = _scan(
        _Spec(shard.origin, shard.first_index, shard.size, shard.frozen),
        store.iter_entries(shard.shard_id),
        cps,
        verifiers,
        node_check=node_check,
        node_source=node_source,
    )
    if res.root is not None and not res.findings and res.newest_time != shard.newest_time:
        # Prune decides on this column: a rewritten value could get a recent shard deleted.
        # (Other findings come first: deleting or editing entries also changes the time.)
        res.findings.append(
            Finding(
                "rewritten-newest-time",
                shard.origin,
                shard.first_index,
                f"shard {shard.origin} records its newest entry time as "
                f"{shard.newest_time or 'empty'} but its entries' newest time is "
                f"{res.newest_time}",
            )
        )
    return res


def _prune_time_findings(
    seq: int, record: PruneRecord, min_retention: timedelta | None
) -> list[Finding]:
    """Re-check a prune record's age test: each pruned shard's newest entry time must lie
    ``older_than`` (and, when an auditor asks, ``min_retention``) before the prune time."""
    found: list[Finding] = []
    try:
        pruned_at = parse_timestamp(record.time)
    except MalformedError as exc:
        return [Finding("malformed-prune-record", record.log_origin, None, f"{seq}: {exc}")]
    for p in record.shards:
        try:
            newest = parse_timestamp(p.newest_time)
        except MalformedError as exc:
            found.append(Finding("malformed-prune-record", p.origin, p.first_index, str(exc)))
            continue
        age = pruned_at - newest
        if age < timedelta(seconds=record.older_than_seconds):
            found.append(
                Finding(
                    "premature-prune",
                    p.origin,
                    p.first_index,
                    f"prune record {seq} deleted {p.origin}, whose newest entry "
                    f"({p.newest_time}) was younger than its own limit of "
                    f"{record.older_than_seconds}s at {record.time}",
                )
            )
        elif min_retention is not None and age < min_retention:
            found.append(
                Finding(
                    "retention-violation",
                    p.origin,
                    p.first_index,
                    f"prune record {seq} deleted {p.origin} {age.days} days after its newest "
                    f"entry ({p.newest_time}); the required retention is "
                    f"{int(min_retention.total_seconds())}s",
                )
            )
    return found


def _link(origin: str, first_index: int, size: int, root: bytes) -> dict[str, Any]:
    return {
        "origin": origin,
        "first_index": first_index,
        "size": size,
        "root": base64.b64encode(root).decode(),
    }


def verify_store(
    store: LogStore,
    origin: str,
    verifiers: list[Verifier],
    *,
    min_retention: timedelta | None = None,
) -> VerifyReport:
    """Recompute every shard, check every checkpoint and prune record, and the shard chain.

    With no ``verifiers`` the tree, stored hashes, checkpoint roots and the shard chain are
    still checked, but no signature is (the report says so: ``signatures_checked``).
    ``min_retention`` additionally requires every pruned shard to have been kept that long.
    """
    findings: list[Finding] = []
    warnings: list[str] = []
    entries = checkpoints = unsigned = 0
    # Prune records are plain signed notes: only classic keys sign them (an ML-DSA-44
    # cosignature signs checkpoint fields, not arbitrary text).
    classic = [v for v in verifiers if not v.post_quantum]
    with store.reading():
        shards = store.shards()
        prunes = store.prunes()
        pruned: list[PrunedShard] = []
        for row in prunes:
            what = f"prune record {row.seq}"
            try:
                if verifiers:
                    text = open_note(row.note, classic, what).text
                else:
                    text = parse_note(row.note, what).text
                record = parse_prune_body(text)
            except Error as exc:
                findings.append(Finding("forged-prune-record", origin, None, str(exc)))
                continue
            pruned.extend(record.shards)
            findings.extend(_prune_time_findings(row.seq, record, min_retention))
        link: dict[str, Any] | None = None
        next_first = 0
        for p in pruned:
            if p.first_index != next_first:
                findings.append(
                    Finding(
                        "broken-chain",
                        p.origin,
                        p.first_index,
                        f"pruned shard {p.origin} starts at entry "
                        f"{p.first_index}, expected {next_first}",
                    )
                )
            link, next_first = p.link(), p.first_index + p.size
        pruned_origins = {p.origin for p in pruned}
        chain_known = True
        for shard in shards:
            res = verify_shard(store, shard, verifiers)
            findings.extend(res.findings)
            warnings.extend(res.warnings)
            entries += res.entries
            checkpoints += res.checkpoints
            unsigned += res.unsigned_checkpoints
            if shard.origin in pruned_origins:
                findings.append(
                    Finding(
                        "broken-chain",
                        shard.origin,
                        shard.first_index,
                        f"shard {shard.origin} is recorded as pruned yet present",
                    )
                )
            if chain_known:
                if shard.first_index != next_first:
                    findings.append(
                        Finding(
                            "missing-entry",
                            shard.origin,
                            next_first,
                            f"shard {shard.origin} starts at entry {shard.first_index} but the "
                            f"previous shard ends at {next_first - 1}: entries "
                            f"{next_first}..{shard.first_index - 1} are missing",
                        )
                    )
                elif res.start_previous is not _NO_START and res.start_previous != link:
                    findings.append(
                        Finding(
                            "broken-chain",
                            shard.origin,
                            shard.first_index,
                            f"shard-start entry {shard.first_index} does not match the final state "
                            "of the shard before it (deleted, replaced or rewritten shard)",
                        )
                    )
            chain_known = res.root is not None
            if res.root is not None:
                link = _link(shard.origin, shard.first_index, shard.size, res.root)
            next_first = shard.first_index + shard.size
    if not verifiers:
        warnings.append(
            "no trusted key: checkpoint and prune-record signatures were NOT checked "
            "(whoever can rewrite the storage can rewrite them too)"
        )
    return VerifyReport(
        _ordered(findings),
        tuple(warnings),
        len(shards),
        entries,
        checkpoints,
        len(prunes),
        signatures_checked=bool(verifiers),
        unsigned_checkpoints=unsigned,
    )


def _export_records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise NotFoundError(f"export file {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if len(line) > MAX_EXPORT_LINE:
                raise MalformedError(f"{path}:{number}: line exceeds {MAX_EXPORT_LINE} bytes")
            if line.strip():
                yield loads_object(line, f"{path}:{number}")


def verify_export(path: Path, verifiers: list[Verifier]) -> VerifyReport:
    """Verify an exported shard offline: entries against its signed checkpoints."""
    records = _export_records(path)
    header = next(records, None)
    if header is None or header.get("schema") != "chainproof.audit.export/v1":
        raise MalformedError(f"{path}: not a chainproof.audit.export/v1 file")
    try:
        origin = str(header["origin"])
        first_index = int(header["first_index"])
        size = int(header["size"])
        frozen = bool(header["frozen"])
    except (KeyError, TypeError, ValueError):
        raise MalformedError(f"{path}: export header lacks origin, first_index, size") from None
    notes: list[tuple[int, str]] = []
    bodies: list[bytes] = []
    for rec in records:
        if isinstance(rec.get("entry"), str):
            bodies.append(rec["entry"].encode())
        elif isinstance(rec.get("checkpoint"), str):
            note = rec["checkpoint"]
            try:
                cp_size = int(note.split("\n")[1])
            except (IndexError, ValueError):
                raise MalformedError(f"{path}: malformed checkpoint record") from None
            notes.append((cp_size, note))
        else:
            raise MalformedError(f"{path}: record is neither an entry nor a checkpoint")
    notes.sort(key=lambda n: n[0])
    stream = ((i, b, merkle.leaf_hash(b)) for i, b in enumerate(bodies))
    res = _scan(_Spec(origin, first_index, size, frozen), stream, notes, verifiers)
    findings = list(res.findings)
    newest = header.get("newest_time")
    if isinstance(newest, str) and res.root and not findings and newest != res.newest_time:
        findings.append(
            Finding(
                "rewritten-newest-time",
                origin,
                first_index,
                f"the export header gives the newest entry time as {newest} but its entries' "
                f"newest time is {res.newest_time}",
            )
        )
    warnings = list(res.warnings)
    if not verifiers:
        warnings.append("no trusted key: checkpoint signatures were NOT checked")
    elif res.checkpoints == 0 and not findings:
        findings.append(
            Finding(
                "unsigned", origin, None, "the export holds no checkpoint signed by a trusted key"
            )
        )
    return VerifyReport(
        _ordered(findings),
        tuple(warnings),
        1,
        res.entries,
        res.checkpoints,
        0,
        signatures_checked=bool(verifiers),
        unsigned_checkpoints=res.unsigned_checkpoints,
    )


def _hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedError(f"proof: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError(f"proof: {what} is not base64") from None


def _int(bundle: dict[str, Any], key: str) -> int:
    value = bundle.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedError(f"proof: {key} is not a non-negative integer")
    return value


def verify_bundle(bundle: dict[str, Any], verifiers: list[Verifier]) -> dict[str, Any]:
    """Verify a proof made by ``audit proof``: needs only the bundle and a trusted key."""
    if bundle.get("schema") != "chainproof.audit.proof/v1":
        raise MalformedError("proof: not a chainproof.audit.proof/v1 document")
    hashes_raw = bundle.get("hashes")
    if not isinstance(hashes_raw, list):
        raise MalformedError("proof: hashes is not a list")
    hashes = [_hash(h, f"hashes[{i}]") for i, h in enumerate(hashes_raw)]
    note = bundle.get("checkpoint")
    if not isinstance(note, str):
        raise MalformedError("proof: checkpoint is missing")
    cp = open_checkpoint(note, verifiers)
    if cp.origin != bundle.get("origin"):
        raise IntegrityError(
            f"proof is for {bundle.get('origin')} but the checkpoint for {cp.origin}"
        )
    kind = bundle.get("type")
    if kind == "inclusion":
        leaf_index, tree_size = _int(bundle, "leaf_index"), _int(bundle, "tree_size")
        if tree_size != cp.size:
            raise IntegrityError(f"proof is for size {tree_size}, the checkpoint for {cp.size}")
        entry = bundle.get("entry")
        if not isinstance(entry, str):
            raise MalformedError("proof: entry is missing")
        body = entry.encode()
        decode_entry(body, "proof entry")
        merkle.verify_inclusion(leaf_index, tree_size, merkle.leaf_hash(body), hashes, cp.root)
        return {
            "type": "inclusion",
            "origin": cp.origin,
            "index": bundle.get("index"),
            "leaf_index": leaf_index,
            "tree_size": cp.size,
            "entry": json.loads(entry),
        }
    if kind == "consistency":
        size1, size2 = _int(bundle, "size1"), _int(bundle, "size2")
        if size2 != cp.size:
            raise IntegrityError(f"proof is for size {size2}, the checkpoint for {cp.size}")
        old = bundle.get("checkpoint1")
        if isinstance(old, str):
            cp1 = open_checkpoint(old, verifiers, "old checkpoint")
            if cp1.size != size1 or cp1.origin != cp.origin:
                raise IntegrityError("old checkpoint does not match size1 and origin")
            root1, signed = cp1.root, True
        else:
            root1, signed = _hash(bundle.get("root1"), "root1"), False
        merkle.verify_consistency(size1, size2, hashes, root1, cp.root)
        return {
            "type": "consistency",
            "origin": cp.origin,
            "size1": size1,
            "size2": size2,
            "root1": base64.b64encode(root1).decode(),
            "old_checkpoint_signed": signed,
        }
    raise MalformedError(f"proof: unknown type {kind!r}")
