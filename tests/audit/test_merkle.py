"""RFC 9162 hashing, proofs and verifiers against transparency-dev vectors and the RFC 6962 tree."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainproof.audit import merkle
from chainproof.errors import Error, IntegrityError, MalformedError
from tests.conftest import SHARED_FIXTURES

VECTORS = SHARED_FIXTURES / "tlog"
MERKLE_VECTORS = sorted((VECTORS / "transparency-dev-merkle").rglob("*.json"))


def _b(s: str | None) -> bytes:
    return base64.b64decode(s or "")


def test_all_196_vectors_present(shared_fixtures: Path) -> None:
    assert len(list((shared_fixtures / "tlog" / "transparency-dev-merkle").rglob("*.json"))) == 196


@pytest.mark.parametrize(
    "path", MERKLE_VECTORS, ids=[str(p.relative_to(VECTORS)) for p in MERKLE_VECTORS]
)
def test_transparency_dev_vector(path: Path, shared_fixtures: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_b(p) for p in v["proof"] or []]
    try:
        if "leafIdx" in v:
            merkle.verify_inclusion(
                v["leafIdx"], v["treeSize"], _b(v["leafHash"]), proof, _b(v["root"])
            )
        else:
            merkle.verify_consistency(v["size1"], v["size2"], proof, _b(v["root1"]), _b(v["root2"]))
    except Error:
        assert v["wantErr"], f"{v['desc']}: rejected a valid proof"
    else:
        assert not v["wantErr"], f"{v['desc']}: accepted an invalid proof"


@pytest.fixture(scope="module")
def reference() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads((VECTORS / "rfc6962_reference_tree.json").read_text())
    return data


def _stored(leaves: list[bytes]) -> dict[merkle.Coord, bytes]:
    nodes: dict[merkle.Coord, bytes] = {}
    cr = merkle.CompactRange()
    for h in leaves:
        cr.append(h, lambda lv, i, h: nodes.__setitem__((lv, i), h))
    return nodes


def _fetch(nodes: dict[merkle.Coord, bytes]):  # type: ignore[no-untyped-def]
    return lambda coords: {c: nodes[c] for c in coords if c in nodes}


def test_reference_tree_roots_and_proofs(
    reference: dict[str, list[str]], shared_fixtures: Path
) -> None:
    inputs = [bytes.fromhex(x) for x in reference["leaf_inputs_hex"]]
    leaves = [merkle.leaf_hash(d) for d in inputs]
    assert [h.hex() for h in leaves] == reference["leaf_hashes_hex"]
    roots = [bytes.fromhex(x) for x in reference["root_hashes_hex_by_size"]]
    assert roots[0] == merkle.EMPTY_ROOT
    nodes = _stored(leaves)
    for size in range(1, 9):
        assert merkle.root_from_leaves(leaves[:size]) == roots[size]
        assert merkle.resolve([(0, size)], _fetch(nodes))[0] == roots[size]
        for index in range(size):
            path = merkle.resolve(merkle.inclusion_ranges(index, size), _fetch(nodes))
            merkle.verify_inclusion(index, size, leaves[index], path, roots[size])
        for size1 in range(1, size + 1):
            proof = (
                merkle.resolve(merkle.consistency_ranges(size1, size), _fetch(nodes))
                if size1 < size
                else []
            )
            merkle.verify_consistency(size1, size, proof, roots[size1], roots[size])


def _naive_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_naive_mth(leaves[:k]), _naive_mth(leaves[k:]))


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.data())
def test_proofs_from_stored_nodes_match_naive_tree(size: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    nodes = _stored(leaves)
    root = _naive_mth(leaves)
    assert merkle.resolve([(0, size)], _fetch(nodes))[0] == root
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = merkle.resolve(merkle.inclusion_ranges(index, size), _fetch(nodes))
    merkle.verify_inclusion(index, size, leaves[index], path, root)
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    proof = (
        merkle.resolve(merkle.consistency_ranges(size1, size), _fetch(nodes))
        if size1 < size
        else []
    )
    merkle.verify_consistency(size1, size, proof, _naive_mth(leaves[:size1]), root)
    if path:
        tampered = [*path[:-1], bytes(32)]
        with pytest.raises(IntegrityError):
            merkle.verify_inclusion(index, size, leaves[index], tampered, root)


def test_wrong_length_proof_is_malformed_not_mismatch() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(5)]
    nodes = _stored(leaves)
    path = merkle.resolve(merkle.inclusion_ranges(2, 5), _fetch(nodes))
    with pytest.raises(MalformedError, match="needs 3"):
        merkle.verify_inclusion(2, 5, leaves[2], path[:-1], merkle.root_from_leaves(leaves))


def test_missing_stored_node_is_reported() -> None:
    with pytest.raises(IntegrityError, match="missing node"):
        merkle.resolve([(0, 4)], lambda coords: {})
