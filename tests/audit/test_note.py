"""C2SP signed notes and checkpoints against the Go sumdb and C2SP published vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from chainproof.audit import note
from chainproof.audit.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from chainproof.errors import MalformedError


@pytest.fixture(scope="module")
def vectors(shared_fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_fixtures / "tlog" / "signed-note" / "signed_note_vectors.json").read_text()
    )
    return data


def test_go_sumdb_sign_reproduces_note_byte_for_byte(vectors: dict[str, Any]) -> None:
    g = vectors["golang_sumdb_note"]
    signer = note.parse_skey(g["skey"])
    assert note.sign_note(g["text"], [signer]) == g["signed_note_peter"]
    assert signer.verifier.vkey(signer.name) == g["vkey_peter"]


def test_go_sumdb_open_with_two_signers(vectors: dict[str, Any]) -> None:
    g = vectors["golang_sumdb_note"]
    peter, enoch = note.parse_vkey(g["vkey_peter"]), note.parse_vkey(g["vkey_enoch"])
    both = g["signed_note_peter"] + g["sig_line_enoch"]
    opened = note.open_note(both, [peter, enoch])
    assert [s.name for s in opened.signatures] == ["PeterNeumann", "EnochRoot"]
    assert opened.text == g["text"]
    # Unknown signatures are ignored as long as one trusted key verified.
    assert len(note.open_note(both, [enoch]).signatures) == 1
    with pytest.raises(note.UnknownKeyError, match="unknown keys"):
        note.open_note(g["signed_note_peter"], [enoch])


def test_go_sumdb_tampered_text_fails(vectors: dict[str, Any]) -> None:
    g = vectors["golang_sumdb_note"]
    forged = g["signed_note_peter"].replace("cryptography", "cryptographY")
    with pytest.raises(note.SignatureError):
        note.open_note(forged, [note.parse_vkey(g["vkey_peter"])])


def test_c2sp_example_verifies(vectors: dict[str, Any]) -> None:
    c = vectors["c2sp_signed_note_example"]
    opened = note.open_note(c["signed_note"], [note.parse_vkey(c["vkey"])])
    assert opened.text == "This is an example message.\n"


def test_c2sp_checkpoint_example_parses(vectors: dict[str, Any]) -> None:
    cp, parsed = parse_checkpoint(vectors["c2sp_checkpoint_example_format_only"]["checkpoint"])
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert len(cp.root) == 32
    assert [s.name for s in parsed.signatures] == [
        "example.com/behind-the-sofa",
        "witness.example.com/w1",
    ]


def test_go_tlog_tree_body_is_checkpoint_shaped(vectors: dict[str, Any]) -> None:
    t = vectors["golang_sumdb_tlog_tree_note_body"]
    from chainproof.audit.checkpoint import parse_body
    from chainproof.audit.merkle import leaf_hash

    cp = parse_body(t["body"])
    assert cp.size == t["tree_size"]
    assert cp.root == leaf_hash(t["record"].encode())
    assert cp.body() == t["body"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("origin\n12\nroot\n", "blank line"),
        ("origin\n12\n\n— name AAAA\n", "too short"),
        ("origin\n12\n\n— name !!!\n", "not base64"),
        ("origin\n12\n\nname AAAAAAA=\n", "start with"),
        ("origin\n12\n\n— name AAAAAAA=", "newline"),
        ("origin\n\x0712\n\n— name AAAAAAA=\n", "control"),
    ],
)
def test_malformed_notes(text: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        note.parse_note(text)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("o\n-1\nAAAA\n", "uint64"),
        ("o\n01\n" + "A" * 44 + "\n", "uint64"),
        ("o\n1\nAAAA\n", "not 32"),
        ("o\n1\n", "needs origin"),
        ("\n1\n" + "A" * 43 + "=\n", "empty origin"),
    ],
)
def test_malformed_checkpoint_bodies(body: str, match: str) -> None:
    from chainproof.audit.checkpoint import parse_body

    with pytest.raises(MalformedError, match=match):
        parse_body(body)


def test_ecdsa_checkpoint_round_trip_and_vkey() -> None:
    signer = note.Signer("log.example/a", ec.generate_private_key(ec.SECP256R1()))
    cp = Checkpoint("log.example/a/2026-01", 7, bytes(range(32)))
    signed = cp.sign([signer])
    vkey = signer.verifier.vkey(signer.name)
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x02  # signed-note ECDSA type
    assert open_checkpoint(signed, [note.parse_vkey(vkey)]) == cp
    with pytest.raises(note.SignatureError):
        open_checkpoint(signed.replace("\n7\n", "\n8\n"), [signer.verifier])


def test_unsupported_curve_refused() -> None:
    from chainproof.errors import InputError

    with pytest.raises(InputError, match="curve"):
        note.Signer("x", ec.generate_private_key(ec.SECP256K1()))
