"""Evaluate a PowerShell data file (``.psd1``) as data, never as code.

Accepts what ``Import-PowerShellDataFile`` accepts in practice for module manifests: one
hashtable ``@{ ... }`` of keys (barewords or strings) to values, where a value is a string
('single', "double", here-strings ``@' '@``/``@" "@``), a number, ``$true``/``$false``/
``$null``, an array (``@( )`` or comma lists) or a nested hashtable. Comments (``#``,
``<# #>``) and the trailing Authenticode signature block (comment lines) are skipped.
Anything else (a command, a variable, a subexpression) makes the file "not a data file".
"""

from __future__ import annotations

from typing import Any

from chainproof.errors import MalformedError

SIGNATURE_MARKER = "# SIG # Begin signature block"
MAX_DEPTH = 32


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.pos = 0
        self.what = what

    def error(self, message: str) -> MalformedError:
        line = self.text.count("\n", 0, self.pos) + 1
        return MalformedError(f"{self.what}: not a PowerShell data file ({message} at line {line})")

    def skip(self, *, newlines: bool = True) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("<#", self.pos):
                end = text.find("#>", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated block comment")
                self.pos = end + 2
            elif ch in " \t\r\ufeff" or (newlines and ch == "\n"):
                self.pos += 1
            elif ch == "`" and text.startswith("`\n", self.pos):
                self.pos += 2
            else:
                return

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def document(self) -> dict[str, Any]:
        self.skip()
        value = self.value(0)
        self.skip()
        if not isinstance(value, dict):
            raise self.error("top level is not a hashtable")
        if self.pos != len(self.text):
            raise self.error("unexpected text after the hashtable")
        return value

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.error("nested too deeply")
        first = self.single(depth)
        self.skip(newlines=False)
        if self.peek() != ",":
            return first
        items = [first]
        while self.peek() == ",":
            self.pos += 1
            self.skip()
            items.append(self.single(depth))
            self.skip(newlines=False)
        return items

    def single(self, depth: int) -> Any:
        text = self.text
        if text.startswith("@{", self.pos):
            self.pos += 2
            return self.hashtable(depth + 1)
        if text.startswith("@(", self.pos):
            self.pos += 2
            return self.array(depth + 1)
        if text.startswith(("@'", '@"'), self.pos):
            return self.here_string()
        ch = self.peek()
        if ch == "'":
            return self.single_quoted()
        if ch == '"':
            return self.double_quoted()
        if ch == "$":
            for literal, result in (("$true", True), ("$false", False), ("$null", None)):
                end = self.pos + len(literal)
                if text[self.pos : end].casefold() == literal and not (
                    end < len(text) and (text[end].isalnum() or text[end] == "_")
                ):
                    self.pos = end
                    return result
            raise self.error("variable or expression")
        if ch and (ch.isdigit() or ch in "-+."):
            return self.number()
        raise self.error(f"unexpected {ch!r}" if ch else "unexpected end of file")

    def hashtable(self, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self.skip()
            ch = self.peek()
            if ch == "}":
                self.pos += 1
                return result
            if ch == ";":
                self.pos += 1
                continue
            if not ch:
                raise self.error("unterminated hashtable")
            key = self.key()
            self.skip(newlines=False)
            if self.peek() != "=":
                raise self.error(f"expected '=' after key {key!r}")
            self.pos += 1
            self.skip()
            result[key] = self.value(depth)
            self.skip(newlines=False)
            if self.peek() not in ("\n", ";", "}", ""):
                raise self.error("expected end of entry")

    def key(self) -> str:
        ch = self.peek()
        if ch == "'":
            return self.single_quoted()
        if ch == '"':
            return self.double_quoted()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_-."
        ):
            self.pos += 1
        if start == self.pos:
            raise self.error(f"unexpected {ch!r} where a key was expected")
        return self.text[start : self.pos]

    def array(self, depth: int) -> list[Any]:
        items: list[Any] = []
        while True:
            self.skip()
            ch = self.peek()
            if ch == ")":
                self.pos += 1
                return items
            if ch in (",", ";"):
                self.pos += 1
                continue
            if not ch:
                raise self.error("unterminated array")
            value = self.value(depth)
            items.extend(value if isinstance(value, list) else [value])

    def single_quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        text = self.text
        while True:
            end = text.find("'", self.pos)
            if end < 0:
                raise self.error("unterminated string")
            out.append(text[self.pos : end])
            self.pos = end + 1
            if self.peek() == "'":  # '' is an escaped quote
                out.append("'")
                self.pos += 1
                continue
            return "".join(out)

    def double_quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        text = self.text
        escapes = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "`": "`", '"': '"', "$": "$"}
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "`" and self.pos + 1 < len(text):
                out.append(escapes.get(text[self.pos + 1], text[self.pos + 1]))
                self.pos += 2
            elif ch == '"':
                if text.startswith('""', self.pos):
                    out.append('"')
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(out)
            elif ch == "$" and text.startswith(("$(", "${"), self.pos):
                raise self.error("subexpression in a string")
            else:
                out.append(ch)
                self.pos += 1
        raise self.error("unterminated string")

    def here_string(self) -> str:
        quote = self.text[self.pos + 1]
        newline = self.text.find("\n", self.pos)
        if newline < 0:
            raise self.error("unterminated here-string")
        terminator = f"\n{quote}@"
        end = self.text.find(terminator, newline)
        if end < 0:
            raise self.error("unterminated here-string")
        body = self.text[newline + 1 : end]
        self.pos = end + len(terminator)
        return body.rstrip("\r")

    def number(self) -> int | float | str:
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in ".-+"
        ):
            self.pos += 1
        token = self.text[start : self.pos]
        try:
            return int(token, 0)
        except ValueError:
            try:
                return float(token)
            except ValueError:
                raise self.error(f"bad number {token!r}") from None


def parse_psd1(data: bytes, what: str) -> dict[str, Any]:
    """The hashtable of a ``.psd1`` file (UTF-8 with or without BOM, or UTF-16 with BOM)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    return _Parser(text.replace("\r\n", "\n"), what).document()


def is_signed(data: bytes) -> bool:
    """Whether the file carries an Authenticode signature block (not whether it verifies)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return SIGNATURE_MARKER in data.decode("utf-16", errors="replace")
    return SIGNATURE_MARKER.encode() in data
