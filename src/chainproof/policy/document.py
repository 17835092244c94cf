"""Reading a policy file: bounded, strict YAML or JSON, validated against the model.

YAML is read with a loader stricter than ``yaml.safe_load``: anchors and aliases are refused
(they expand exponentially — "billion laughs"), a key given twice is an error (a second
``unmatched: allow`` further down must not silently win) and nesting is bounded. Every
validation error names the file and the path of the offending key
(``policy.yaml: rules[2].signatures.keyz: unknown key``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from chainproof._files import read_bounded
from chainproof.errors import InputError, NotFoundError
from chainproof.policy.model import PolicyDocument

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

#: Real policies are kilobytes; a megabyte is hundreds of rules.
MAX_POLICY_BYTES = 1024 * 1024
MAX_DEPTH = 32


class PolicyError(InputError):
    """A policy (or a file it names) that cannot be used; the message names file and path."""


def read_file(path: Path, what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file (:func:`chainproof._files.read_bounded`), a missing one a
    NotFoundError, any other refusal a PolicyError."""
    try:
        return read_bounded(path, what, max_bytes)
    except NotFoundError:
        raise
    except InputError as exc:
        raise PolicyError(str(exc)) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases or duplicate keys, with bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in a policy", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def parse_text(data: bytes, where: str) -> Any:
    """YAML or JSON (JSON is YAML, but its own parser gives better messages)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if text.lstrip().startswith("{"):
        from chainproof._jsonutil import loads_bounded
        from chainproof.errors import MalformedError

        try:
            return loads_bounded(text, where, max_bytes=MAX_POLICY_BYTES, max_depth=MAX_DEPTH)
        except MalformedError as exc:
            raise PolicyError(str(exc)) from None
    try:
        documents = list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise PolicyError(f"{where}: malformed YAML{at}: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise PolicyError(f"{where}: malformed YAML: {exc}") from None
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        raise PolicyError(f"{where}: expected one YAML document, found {len(documents)}")
    return documents[0]


def error_path(loc: tuple[int | str, ...]) -> str:
    """``('rules', 2, 'signatures', 'keyz')`` → ``rules[2].signatures.keyz``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or part.startswith(("function-", "literal")):
            # pydantic's union-member and validator tags are not keys of the document.
            continue
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message[:1].lower() + message[1:]


def format_validation_error(exc: ValidationError, where: str) -> str:
    errors = exc.errors()
    # Union members each report; keep the most specific (longest path) first.
    errors = sorted(errors, key=lambda e: -len(e["loc"]))
    first = errors[0]
    more = len({error_path(e["loc"]) for e in errors}) - 1
    tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more > 0 else ""
    return f"{where}: {error_path(first['loc'])}: {_describe(first)}{tail}"


def validate(data: Any, where: str) -> PolicyDocument:
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: a policy is a mapping, not {type(data).__name__}")
    if "schema" not in data:
        raise PolicyError(f"{where}: not a chainproof policy (no 'schema: chainproof.policy/v1')")
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(format_validation_error(exc, where)) from None


def load_document(path: Path) -> tuple[PolicyDocument, Any]:
    """The validated document and the raw data it came from."""
    data = parse_text(read_file(path, "policy", MAX_POLICY_BYTES), str(path))
    return validate(data, str(path)), data


def dumps_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)
