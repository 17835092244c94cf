"""Rego modules in a policy, evaluated with regopy (the OPA Rego language, in-process).

A module's ``deny contains msg`` and ``warn contains msg`` sets become ``policy.rego.<package>``
results (fail and warn). Modules are compiled when the policy is loaded, so a syntax error is
bad input (exit 2) naming the module and line, not a failure met halfway through a
verification. regopy writes its own diagnostics to the process's standard output; while a
module compiles, file descriptor 1 is pointed at a temporary file so nothing reaches a user's
``--format json`` output, and the text is parsed for the position.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainproof.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

MAX_MODULE_BYTES = 1024 * 1024
_PACKAGE = re.compile(
    r"^[ \t]*package[ \t]+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", re.M
)
# "(error 8:bad.rego|32|1 (errormsg 16:this is unclosed)": name, offset, message.
_ERROR = re.compile(r"\(error \d+:([^|]*)\|(\d+)\|\d+\s*\(errormsg \d+:([^)\n]*)")
# Runtime errors carry no position: "(error (errormsg 32:Function not found: f)".
_MESSAGE = re.compile(r"\(errormsg \d+:([^)\n]*)")


class RegoError(InputError):
    """A Rego module that does not compile or fails while evaluating (exit 2)."""


@dataclass(frozen=True)
class RegoModule:
    name: str  # the path as the policy gives it
    source: str
    package: str

    @classmethod
    def parse(cls, name: str, source: str) -> RegoModule:
        match = _PACKAGE.search(source)
        if match is None:
            raise RegoError(f"Rego module {name}: no 'package' declaration")
        return cls(name, source, match.group(1))


@dataclass(frozen=True)
class RegoFinding:
    package: str
    kind: str  # "deny" or "warn"
    message: str


@contextlib.contextmanager
def _stdout_captured() -> Iterator[list[str]]:
    """Capture what native code writes to fd 1 (the text lands in the yielded list)."""
    captured: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(1)
        try:
            os.dup2(sink.fileno(), 1)
            yield captured
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read(64 * 1024).decode("utf-8", "replace"))


def _position(module: RegoModule, offset: int) -> str:
    prefix = module.source[:offset]
    line = prefix.count("\n") + 1
    column = offset - (prefix.rfind("\n") + 1) + 1
    return f"{module.name}:{line}:{column}"


def _describe(text: str, modules: Sequence[RegoModule]) -> str:
    match = _ERROR.search(text)
    if match is None:
        plain = _MESSAGE.search(text)
        if plain is not None:
            return plain.group(1).strip()
        return " ".join(text.split())[:300] or "unknown error"
    name, offset, message = match.group(1), int(match.group(2)), match.group(3).strip()
    for module in modules:
        if module.name == name:
            return f"{_position(module, offset)}: {message}"
    return f"{name}: {message}"


def _locate(message: str, modules: Sequence[RegoModule]) -> str:
    """Add the module and line to a runtime error that names a symbol ("…: name")."""
    if re.search(r"\.rego:\d+:\d+", message):
        return message
    symbol = message.rsplit(":", 1)[-1].strip()
    for module in modules:
        offset = module.source.find(symbol) if symbol else -1
        if offset >= 0:
            return message.replace("Rego: ", f"Rego: {_position(module, offset)}: ", 1)
    names = ", ".join(m.name for m in modules)
    return message.replace("Rego: ", f"Rego: {names}: ", 1)


_INPUT_KEY = re.compile(r"\binput\.([A-Za-z_][A-Za-z0-9_]*)")
_INPUT_WHOLE = re.compile(r"\binput\b(?!\.)")


def input_keys(modules: Sequence[RegoModule]) -> frozenset[str] | None:
    """The top-level input keys the modules can read, or None for "all of them".

    Converting the input into regopy's terms is most of an evaluation's cost (an SBOM of 400
    components is ~15 ms), so parts no module names are left out. A module that uses
    ``input`` other than as ``input.<key>`` (``input[k]``, ``x := input``) gets everything.
    """
    keys: set[str] = set()
    for module in modules:
        if _INPUT_WHOLE.search(module.source):
            return None
        keys.update(_INPUT_KEY.findall(module.source))
    return frozenset(keys)


class RegoEngine:
    """Compiled modules; :meth:`evaluate` runs every module's deny/warn over one input."""

    def __init__(self, modules: Sequence[RegoModule]) -> None:
        from regopy import Interpreter

        self.modules = tuple(modules)
        #: The input keys the modules read (None: all); see :func:`input_keys`.
        self.input_keys = input_keys(self.modules)
        self._lock = threading.Lock()
        self._interpreter = Interpreter()
        packages = sorted({m.package for m in self.modules})
        with _stdout_captured():
            try:
                for module in self.modules:
                    self._interpreter.add_module(module.name, module.source)
            except Exception as exc:
                raise RegoError(f"Rego: {_describe(str(exc), self.modules)}") from None
            # Compilation is lazy: one query per package over an empty input surfaces every
            # error, and tells which modules it came from.
            for package in packages:
                try:
                    self._run(f"data.{package}")
                except RegoError as exc:
                    of_package = [m for m in self.modules if m.package == package]
                    raise RegoError(_locate(str(exc), of_package)) from None
        self._query = (
            "{"
            + ", ".join(
                f'"{p}": {{"deny": object.get(data.{p}, "deny", []), '
                f'"warn": object.get(data.{p}, "warn", [])}}'
                for p in packages
            )
            + "}"
            if packages
            else ""
        )

    def _run(self, query: str) -> dict[str, Any]:
        # regopy's Interpreter.query() parses the output as JSON and raises JSONDecodeError on
        # an error result, losing its message; the same two calls, keeping it.
        from regopy.rego_shared import rego_output_string, rego_query

        text = rego_output_string(rego_query(self._interpreter._impl, query))
        try:
            data = json.loads(text)
        except ValueError:
            raise RegoError(f"Rego: {_describe(text, self.modules)}") from None
        if not isinstance(data, dict):
            raise RegoError(f"Rego: unexpected output {text[:200]!r}")
        return data

    def evaluate(self, document: dict[str, Any]) -> list[RegoFinding]:
        if not self._query:
            return []
        from regopy import Input

        with self._lock:
            self._interpreter.set_input(Input(document))
            data = self._run(self._query)
        expressions = data.get("expressions") or [{}]
        findings: list[RegoFinding] = []
        for package, sets in sorted((expressions[0] or {}).items()):
            for kind in ("deny", "warn"):
                values = sets.get(kind) or []
                if isinstance(values, dict):  # a partial object rule: keys are messages
                    values = list(values)
                for value in values if isinstance(values, list) else [values]:
                    message = value if isinstance(value, str) else json.dumps(value)
                    findings.append(RegoFinding(package, kind, message))
        return findings
