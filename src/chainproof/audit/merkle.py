"""RFC 9162 Merkle tree hashing, proof planning and proof verification.

Nodes are addressed as ``(level, index)``: the perfect subtree covering leaves
``[index << level, (index + 1) << level)``. Every such node that lies entirely inside the
tree is stored, so any subtree of an RFC 9162 proof decomposes into a handful of stored
nodes and no entry has to be read again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from chainproof.errors import IntegrityError, MalformedError

HASH_SIZE = 32
#: MTH of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]


class ProofError(IntegrityError):
    """A proof that is well formed but does not lead to the claimed root."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_ranges(lo: int, hi: int) -> list[Coord]:
    """The stored nodes whose concatenation is ``[lo, hi)``, left to right.

    Valid for every range an RFC 9162 proof or root needs: ``lo`` is aligned to a power
    of two at least as large as ``hi - lo``.
    """
    out: list[Coord] = []
    while lo < hi:
        size = hi - lo
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            out.append((level, lo >> level))
            break
        k = _split(size)
        level = k.bit_length() - 1
        out.append((level, lo >> level))
        lo += k
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine the perfect subtrees of :func:`perfect_ranges` into the range's MTH."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtree ranges of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf first."""
    if not 0 <= index < size:
        raise MalformedError(f"leaf index {index} is outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The subtree ranges of PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1)."""
    if not 0 < size1 <= size2:
        raise MalformedError(
            f"no consistency proof from size {size1} to size {size2} (need 0 < from <= to)"
        )
    out: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True
    while True:
        if m == hi - lo:
            if not complete:
                out.append((lo, hi))
            break
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    out.reverse()
    return out


def resolve(
    ranges: Iterable[tuple[int, int]], fetch: Callable[[list[Coord]], Mapping[Coord, bytes]]
) -> list[bytes]:
    """Hash each range from stored nodes, fetching every node needed in one call."""
    plans = [perfect_ranges(lo, hi) for lo, hi in ranges]
    wanted = sorted({c for plan in plans for c in plan})
    got = fetch(wanted) if wanted else {}
    missing = [c for c in wanted if c not in got]
    if missing:
        level, index = missing[0]
        raise IntegrityError(
            f"stored tree is missing node (level {level}, index {index}); run audit verify"
        )
    return [fold([got[c] for c in plan]) for plan in plans]


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, with the compact-range stack (O(log n) memory)."""
    stack = _CompactRange()
    for h in leaves:
        stack.append(h)
    return stack.root()


class _CompactRange:
    """The perfect subtrees of the leaves seen so far, for streaming root computation."""

    __slots__ = ("_hashes", "_levels", "size")

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []
        self._levels: list[int] = []

    def append(self, leaf: bytes, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        h, level, index = leaf, 0, self.size
        if on_node:
            on_node(0, index, h)
        while self._levels and self._levels[-1] == level:
            self._levels.pop()
            h = node_hash(self._hashes.pop(), h)
            level += 1
            index >>= 1
            if on_node:
                on_node(level, index, h)
        self._hashes.append(h)
        self._levels.append(level)
        self.size += 1

    def root(self) -> bytes:
        return fold(self._hashes) if self._hashes else EMPTY_ROOT


CompactRange = _CompactRange


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise MalformedError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root implied by an inclusion proof."""
    if not 0 <= index < size:
        raise MalformedError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    expected = len(inclusion_ranges(index, size))
    if len(proof) != expected:
        raise MalformedError(
            f"inclusion proof has {len(proof)} hashes; "
            f"leaf {index} in a tree of size {size} needs {expected}"
        )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "proof hash")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless ``proof`` shows leaf ``index`` in the tree of ``size`` with ``root``."""
    calculated = root_from_inclusion(index, size, leaf, proof)
    if calculated != root:
        raise ProofError(
            f"inclusion proof for leaf {index} leads to root {calculated.hex()[:16]}…, "
            f"not the checkpoint's {root.hex()[:16]}…"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2, with the transparency-dev edge rules (see docs/audit.md)."""
    if size1 < 0 or size2 < size1:
        raise MalformedError(f"consistency from size {size1} to smaller size {size2}")
    if size1 == size2:
        if proof:
            raise MalformedError("consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError(f"trees of equal size {size1} have different roots")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError("the empty tree's root must be SHA-256 of the empty string")
        return
    if size1 == 0:
        # Nothing to prove from the empty tree; the Go reference refuses it, so do we.
        raise MalformedError("consistency from the empty tree is not provable")
    expected = len(consistency_ranges(size1, size2))
    if len(proof) != expected:
        raise MalformedError(
            f"consistency proof has {len(proof)} hashes; sizes {size1} -> {size2} need {expected}"
        )
    for p in proof:
        _check_hash(p, "proof hash")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree needs")
    if fr != root1:
        raise ProofError(f"consistency proof does not lead to the size-{size1} root")
    if sr != root2:
        raise ProofError(f"consistency proof does not lead to the size-{size2} root")
