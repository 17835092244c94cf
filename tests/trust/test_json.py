"""The fast depth scan agrees with chainproof._jsonutil on every JSON document."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainproof import _jsonutil
from chainproof.errors import MalformedError
from chainproof.trust import _json

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}\n é'),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='k"\\[{', max_size=3), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_depth_matches_reference(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert _json.depth(text) == _jsonutil._depth(text)


def test_limits() -> None:
    with pytest.raises(MalformedError, match="deeper"):
        _json.loads_object("[" * 100 + "]" * 100, "doc")
    with pytest.raises(MalformedError, match="exceeds"):
        _json.loads_object(b"{}" * 10, "doc", max_bytes=4)
    with pytest.raises(MalformedError, match="expected a JSON object"):
        _json.loads_object(b"[]", "doc")
    with pytest.raises(MalformedError, match="not UTF-8"):
        _json.loads_object(b'{"a": "\xff"}', "doc")
    assert _json.loads_object('{"a": "[[[["}', "doc") == {"a": "[[[["}
