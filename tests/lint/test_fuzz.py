"""Whatever the text, linting returns findings or raises a chainproof Error: never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chainproof.errors import Error
from chainproof.lint import lint_bytes
from chainproof.lint.lex_cmd import lex as lex_cmd
from chainproof.lint.lex_powershell import lex as lex_ps
from chainproof.lint.lex_sh import lex as lex_sh

FRAGMENTS = st.sampled_from(
    [
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022",
        "FROM debian:12 AS b",
        "FROM b",
        'SHELL ["powershell", "-Command"]',
        "RUN iwr https://x/a | iex",
        "RUN curl -fsSL https://x | sh",
        "RUN <<EOF",
        "EOF",
        "# escape=`",
        "# chainproof ignore=CP001 r",
        "USER ContainerAdministrator",
        "COPY --from=alpine /a /b",
        "ADD https://x/y /z",
        "ENV SA_PASSWORD=x1",
        "ARG A=${B:-c}",
        "RUN if exist C:\\a (echo ^& x) else (",
        "RUN powershell -enc !!!notbase64",
        "\\",
        "`",
        "RUN [",
        '"',
        "(",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=40)), max_size=12))
def test_lint_never_crashes(lines: list[str]) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    try:
        findings = lint_bytes(data, "Dockerfile")
    except Error:
        return
    assert all(f.line >= 1 and f.end_line >= f.line for f in findings)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_lexers_never_crash(text: str) -> None:
    for lexer in (lex_cmd, lex_ps, lex_sh):
        for pipeline in lexer(text):
            assert pipeline.commands
