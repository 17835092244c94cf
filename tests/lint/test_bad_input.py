"""Bad input: a one-line diagnostic and exit 2, or a finding; never a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chainproof.cli.main import main
from chainproof.errors import MalformedError
from chainproof.lint import lint_bytes, lint_text
from chainproof.lint.parse import MAX_DOCKERFILE_BYTES

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no instructions"),
        (b"   \n# only a comment\n", "no instructions"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "binary"),
        (b"\xff\xfe F\x00R\x00O\x00M\x00", "binary"),
        (b"FROM alpine:3.20\xff\n", "not UTF-8"),
        (b"FROM alpine:3.20\nRUN <<EOF\necho never closed\n", "unterminated heredoc"),
        (b"# escape=x\nFROM alpine:3.20\n", "invalid escape"),
        (b"\\", "no instructions"),
    ],
)
def test_malformed_input_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        lint_bytes(data, "Dockerfile")


def test_ten_megabyte_dockerfile_is_refused_with_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "Dockerfile"
    line = b"RUN echo " + b"a" * 90 + b"\n"
    big.write_bytes(b"FROM alpine:3.20\n" + line * (10 * 1024 * 1024 // len(line)))
    assert big.stat().st_size > MAX_DOCKERFILE_BYTES
    assert main(["lint", str(big)]) == 2


def test_unknown_instruction_is_a_finding() -> None:
    findings = lint_text("FROM alpine:3.20\nFOOBAR something\nUSER app\n")
    assert [(f.rule, f.line) for f in findings if f.rule == "CP900"] == [("CP900", 2)]


def test_continuation_at_end_of_file_is_a_finding() -> None:
    findings = lint_text("FROM alpine:3.20\nUSER app\nRUN echo hi \\\n")
    assert [(f.rule, f.line) for f in findings if f.rule == "CP901"] == [("CP901", 3)]


def test_continuation_with_backtick_escape() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nRUN dir `\n"
    assert "CP901" in {f.rule for f in lint_text(text)}


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02", b"FROM x\nRUN <<EOF\n", b"# escape=?\nFROM x\n"],
)
def test_cli_exit_2_and_one_line(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    assert main(["lint", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("chainproof: error: ")
    assert "Traceback" not in err[0]


def test_missing_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["lint", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


def test_empty_from_and_odd_forms_do_not_crash() -> None:
    text = 'FROM\nFROM alpine:3.20 AS\nRUN ["unterminated", \nCOPY --from= a b\nUSER\nEXPOSE\n'
    findings = lint_text(text)
    assert all(f.line >= 1 for f in findings)
