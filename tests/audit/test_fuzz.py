"""Hostile input never escapes as anything but a chainproof Error (one-line, exit 2 or 1)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainproof.audit import init_log, record_verdict
from chainproof.audit.checkpoint import parse_body
from chainproof.audit.note import Verifier, parse_note, parse_vkey
from chainproof.audit.verify import verify_bundle
from chainproof.errors import Error
from tests.audit.conftest import T0, make_verdict


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_note_and_checkpoint_parsers_only_raise_errors(text: str) -> None:
    for fn in (parse_note, parse_body, parse_vkey):
        with contextlib.suppress(Error):
            fn(text)


@pytest.fixture(scope="module")
def proof_and_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Verifier]:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from tests.audit.conftest import write_key

    tmp = tmp_path_factory.mktemp("fuzz")
    key = write_key(tmp / "k.pem", ed25519.Ed25519PrivateKey.generate())
    spec = str(tmp / "a.db")
    init_log(spec, key_path=str(key)).close()
    for i in range(6):
        record_verdict(spec, make_verdict(i), now=T0)
    from chainproof.audit import open_log

    with open_log(spec) as log:
        return log.inclusion_proof(3), log.trusted_verifiers()[0]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(
        ["schema", "type", "origin", "leaf_index", "tree_size", "entry", "hashes", "checkpoint"]
    ),
    _JSON,
)
def test_mutated_proof_bundles_only_raise_errors(
    proof_and_key: tuple[dict[str, Any], Verifier], field: str, value: Any
) -> None:
    bundle, verifier = proof_and_key
    mutated = json.loads(json.dumps(bundle))
    mutated[field] = value
    try:
        verify_bundle(mutated, [verifier])
    except Error:
        return
    # Accepted only if the mutation changed nothing that matters.
    assert mutated[field] == bundle[field] or (field == "origin" and value == bundle["origin"])


def test_unmodified_bundle_verifies(proof_and_key: tuple[dict[str, Any], Verifier]) -> None:
    bundle, verifier = proof_and_key
    assert verify_bundle(bundle, [verifier])["leaf_index"] == 3


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=1, max_size=80), st.text(alphabet="abcdef0123456789", min_size=8, max_size=8)
)
def test_vkey_with_arbitrary_key_bytes_only_raises_errors(blob: bytes, key_id: str) -> None:
    import base64

    from chainproof.audit.note import parse_skey

    b64 = base64.b64encode(blob).decode()
    for fn, text in (
        (parse_vkey, f"name+{key_id}+{b64}"),
        (parse_skey, f"PRIVATE+KEY+n+{key_id}+{b64}"),
    ):
        with contextlib.suppress(Error):
            fn(text)
