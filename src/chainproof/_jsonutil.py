"""Bounded JSON parsing for untrusted input (manifests, configs, index files, bundles)."""

from __future__ import annotations

import json
from typing import Any

from chainproof.errors import MalformedError

#: Manifests and configs are small; Docker caps manifests at 4 MiB. Configs of big Windows
#: images with long histories stay well under 1 MiB; 16 MiB leaves room and bounds memory.
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64


def _depth(text: str) -> int:
    """Maximum bracket nesting, ignoring brackets inside strings (cheap pre-check)."""
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
    if _depth(text) > max_depth:
        raise MalformedError(f"{what}: JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedError(
            f"{what}: malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def loads_object(data: bytes | str, what: str, **limits: int) -> dict[str, Any]:
    """Like :func:`loads_bounded` but the top level must be a JSON object."""
    value = loads_bounded(data, what, **limits)
    if not isinstance(value, dict):
        raise MalformedError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value
