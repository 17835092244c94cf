"""Bounded JSON parsing for untrusted input (manifests, configs, index files, bundles)."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from chainproof.errors import MalformedError

#: Manifests and configs are small; Docker caps manifests at 4 MiB. Configs of big Windows
#: images with long histories stay well under 1 MiB; 16 MiB leaves room and bounds memory.
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64


# Strings removed by one regular expression (C speed; the "unrolled loop" form is ~4x faster
# in CPython's engine than "(?:[^"\\]|\\.)*"), then only the brackets left are counted: the
# same depth as a character-by-character scan for any document json accepts.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def depth(text: str) -> int:
    """Maximum bracket nesting of a JSON text, ignoring brackets inside strings."""
    brackets = _BRACKETS.findall(_STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(1 if b in "[{" else -1 for b in brackets))


def loads_bounded(
    data: bytes | str,
    what: str,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse JSON from an untrusted source, refusing oversized or over-deep documents.

    ``what`` names the document in the error message ("manifest sha256:…", "index.json").
    """
    if len(data) > max_bytes:
        raise MalformedError(f"{what}: {len(data)} bytes exceeds the {max_bytes}-byte limit")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{what}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if depth(text) > max_depth:
        raise MalformedError(f"{what}: JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedError(
            f"{what}: malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise MalformedError(f"{what}: JSON nested too deeply") from None


def loads_object(data: bytes | str, what: str, **limits: int) -> dict[str, Any]:
    """Like :func:`loads_bounded` but the top level must be a JSON object."""
    value = loads_bounded(data, what, **limits)
    if not isinstance(value, dict):
        raise MalformedError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value
