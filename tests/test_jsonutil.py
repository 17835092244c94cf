"""Bounded JSON: the fast depth scan agrees with a plain character scan; limits hold."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainproof import _jsonutil as _json
from chainproof.errors import MalformedError


def _reference_depth(text: str) -> int:
    """The obvious character-by-character scan the regex version replaces."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


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
    assert _json.depth(text) == _reference_depth(text)


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
