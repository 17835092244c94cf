"""Every fenced shell block of README.md and docs/*.md runs, as written, in order.

Each document gets a fresh directory (its own HOME, XDG directories and Docker config: nothing of
the machine's leaks in) and its blocks run there one after another, each command in bash, the
variables it exports carried to the next. A command must exit 0 unless its line says otherwise
with a comment ``# exits N`` (``lint`` with findings, ``scan --fail-on``), and must never print a
traceback or an internal error. New documents and blocks are picked up by the glob below; a block
that cannot run here (network, a cluster, hardware evidence) goes into ``SKIPPED`` with the reason.

What the machine provides, as a reader's machine would:

* ``registry.local:5000`` and ``registry.example`` (the names the docs use) are a real Debian
  ``docker-registry`` on loopback, over TLS with a test CA that ``SSL_CERT_FILE`` makes trusted
  (chainproof through OpenSSL's default paths, skopeo through Go's); the name is rewritten to
  ``127.0.0.1:PORT`` in each command before it runs;
* ``skopeo`` and ``openssl`` (Debian packages ``make test`` installs) and the ``chainproof`` of
  this checkout first on ``PATH``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from tests.oci.registry import _servers

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = ("sh", "bash", "console", "shell")
FENCE = re.compile(r"^```\s*(\w+)?\s*$")
REGISTRY_NAMES = ("registry.local:5000", "registry.example")
EXPECTED_EXIT = re.compile(r"#.*\bexits? (\d+)\b")
TIMEOUT = 300

#: Blocks that cannot run here, by document and a text unique to the block, with the reason.
SKIPPED: dict[tuple[str, str], str] = {
    ("README.md", "make demo"): (
        "sets up this checkout itself: `make test` is the run this test is part of, and "
        "`make demo` is `pip install -e .` plus `chainproof demo` (tests/cli runs the demo)"
    ),
    ("README.md", "chainproof db update"): (
        "needs the network: Microsoft's registry, Sigstore's public-good trusted root and the "
        "MSRC / OSV feeds (`db update`); the same commands run offline in tests/oci, tests/trust "
        "and tests/vuln against local servers and recorded data"
    ),
    ("README.md", "attestation verify report.bin"): (
        "needs evidence from confidential-computing hardware or a live attestation service; "
        "tests/tee/test_cli.py runs these commands on real recorded evidence"
    ),
    ("docs/signatures.md", "--key 'pkcs11:"): (
        "needs a PKCS#11 token holding a key (an HSM, a smart card); tests/trust/test_pkcs11.py "
        "signs and verifies through a real SoftHSM2 token"
    ),
    ("docs/tee.md", "attestation verify report.bin"): (
        "needs evidence from confidential-computing hardware or a live attestation service; "
        "tests/tee/test_cli.py runs these commands on real recorded evidence"
    ),
}


@dataclass(frozen=True)
class Block:
    document: str  # path relative to the checkout
    line: int  # of the opening fence
    text: str

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced shell blocks of one Markdown file (``console`` blocks: the ``$`` lines)."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and not FENCE.match(lines[index]):
            body.append(lines[index])
            index += 1
        index += 1
        if (opening.group(1) or "") in SHELLS:
            if opening.group(1) == "console":
                body = [line[2:] for line in body if line.startswith("$ ")]
            found.append(Block(str(path.relative_to(ROOT)), start + 1, "\n".join(body)))
    return found


def commands(text: str) -> list[str]:
    """One entry per command: continuation lines joined, here-documents kept whole, comment-only
    and blank lines dropped (a trailing comment stays: it may say ``# exits N``)."""
    out: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command = [line]
        while command[-1].rstrip().endswith("\\") and index < len(lines):
            command.append(lines[index])
            index += 1
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", command[-1])
        if heredoc:
            while index < len(lines):
                command.append(lines[index])
                index += 1
                if command[-1].strip() == heredoc.group(1):
                    break
        out.append("\n".join(command))
    return out


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command.splitlines()[0] if "<<" in command else command)
    return int(found.group(1)) if found else 0


def all_blocks() -> list[Block]:
    return [block for path in DOCUMENTS for block in blocks(path)]


def _skip_reason(block: Block) -> str | None:
    for (document, marker), reason in SKIPPED.items():
        if document == block.document and marker in block.text:
            return reason
    return None


# ----------------------------------------------------------------------------- the harness


def test_block_extraction() -> None:
    # The extractor is what makes the rest meaningful: check it on a document of its own.
    text = "\n".join(
        [
            "intro",
            "```sh",
            "# a comment",
            "chainproof inspect \\",
            "    oci:./x:t   # exits 1",
            "cat > f <<'EOF'",
            "FROM scratch",
            "EOF",
            "```",
            "```json",
            '{"not": "shell"}',
            "```",
            "```console",
            "$ chainproof --version",
            "chainproof 0.1.0",
            "```",
        ]
    )
    assert commands("# only\n\n") == []
    parsed = commands(text.split("```sh\n")[1].split("```")[0])
    assert parsed == [
        "chainproof inspect \\\n    oci:./x:t   # exits 1",
        "cat > f <<'EOF'\nFROM scratch\nEOF",
    ]
    assert [expected_exit(c) for c in parsed] == [1, 0]


def test_every_skip_names_exactly_one_block() -> None:
    found = all_blocks()
    for (document, marker), reason in SKIPPED.items():
        matches = [b for b in found if b.document == document and marker in b.text]
        assert len(matches) == 1, f"SKIPPED entry {document!r} / {marker!r}: {len(matches)} blocks"
        assert len(reason) > 40, "say why"


def test_documents_have_runnable_blocks() -> None:
    runnable = [b for b in all_blocks() if _skip_reason(b) is None]
    assert any(b.document == "README.md" for b in runnable)
    assert sum(len(commands(b.text)) for b in runnable) >= 30


@dataclass
class Machine:
    """What the documents' reader has: a registry under the docs' names, a trusted CA."""

    registry: str  # 127.0.0.1:PORT
    ca_file: Path


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machine]:
    if not Path(_servers.REGISTRY_BINARY).is_file():
        pytest.skip(f"{_servers.REGISTRY_BINARY} not installed (`make test` installs it)")
    for tool in ("skopeo", "openssl"):
        if not _which(tool):
            pytest.skip(f"{tool} not installed (`make test` installs it)")
    workdir = tmp_path_factory.mktemp("docs-registry")
    ca = trustme.CA()
    ca_file = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ca.issue_cert("127.0.0.1")
    cert, key = workdir / "server.crt", workdir / "server.key"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    registry = _servers.start_registry(workdir / "registry", tls=(cert, key), ca_file=ca_file)
    try:
        yield Machine(registry.host, ca_file)
    finally:
        registry.stop()


def _which(tool: str) -> str | None:
    from shutil import which

    return which(tool)


@dataclass
class Session:
    """One document's directory and shell state, shared by its blocks in order."""

    directory: Path
    env: dict[str, str]
    state: Path
    failed: str = ""


_SESSIONS: dict[str, Session] = {}


def _session(document: str, machine: Machine, base: Path) -> Session:
    if document not in _SESSIONS:
        directory = base / re.sub(r"\W", "_", document)
        home = directory / ".home"
        for sub in ("", ".config", ".local/share", ".cache", ".docker", "tmp"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "DOCKER_CONFIG": str(home / ".docker"),
            "TMPDIR": str(home / "tmp"),
            "SSL_CERT_FILE": str(machine.ca_file),
            "LANG": "C.UTF-8",
        }
        state = home / "exports.sh"
        state.write_text("")
        _SESSIONS[document] = Session(directory, env, state)
    return _SESSIONS[document]


def _run(command: str, session: Session, machine: Machine) -> subprocess.CompletedProcess[str]:
    text = command
    for name in REGISTRY_NAMES:
        text = text.replace(name, machine.registry)
    state = shlex.quote(str(session.state))
    script = f"source {state}\nset -o pipefail\n{text}\nrc=$?\nexport -p > {state}\nexit $rc\n"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=session.directory,
        env=session.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.integration
@pytest.mark.parametrize("block", all_blocks(), ids=lambda b: b.name)
def test_block_runs_as_written(
    block: Block, machine: Machine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reason = _skip_reason(block)
    if reason is not None:
        pytest.skip(reason)
    base = _SESSIONS_BASE.setdefault("base", tmp_path_factory.mktemp("docs"))
    session = _session(block.document, machine, base)
    if session.failed:
        pytest.fail(f"an earlier block of {block.document} failed: {session.failed}")
    for command in commands(block.text):
        done = _run(command, session, machine)
        want = expected_exit(command)
        output = (
            f"$ {command}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
        problems = []
        if done.returncode != want:
            problems.append(f"exit {done.returncode}, the docs say {want}")
        if "Traceback" in done.stderr or "internal error" in done.stderr:
            problems.append("a traceback or an internal error")
        if problems:
            session.failed = f"{block.name}: {command.splitlines()[0]}"
            pytest.fail(f"{block.name}: {'; '.join(problems)}\n{output}")


_SESSIONS_BASE: dict[str, Path] = {}
