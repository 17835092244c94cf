"""The lint part of ``chainproof demo``: the sample image's Dockerfile and its history.

The Dockerfile below is what the sample would be built from if it were built for real; it carries
a few typical Windows mistakes so the demo shows what the linter finds. The history comes from the
sample image itself (see :mod:`chainproof.demo.sample`).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainproof.lint import Finding, lint_history, lint_text
from chainproof.oci.open import OpenOptions, open_target

SAMPLE_DOCKERFILE = """\
# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]

# Mistake 1: download and execute a script without looking at it.
RUN iwr https://example.com/bootstrap.ps1 -UseBasicParsing | iex

# Mistake 2: legacy TLS allowed and the installer never hash-checked.
RUN [Net.ServicePointManager]::SecurityProtocol = 'Tls,Tls11,Tls12'; `
    Invoke-WebRequest https://example.com/agent.msi -OutFile C:\\agent.msi; `
    Start-Process msiexec.exe -ArgumentList '/i', 'C:\\agent.msi', '/qn' -Wait

# Mistake 3: a password in the image history.
RUN net user svc Passw0rd! /add

# Hash-verified download: the official shape, stays clean.
RUN Invoke-WebRequest -Uri https://example.com/tool.zip -OutFile tool.zip; `
    if ((Get-FileHash tool.zip -Algorithm SHA256).Hash -ne $env:TOOL_SHA256) { exit 1 }

COPY app C:/app
RUN cmd /S /C del C:\\Windows\\System32\\drivers\\etc\\hosts
USER ContainerUser
"""


@dataclass(frozen=True)
class LintDemo:
    dockerfile: list[Finding]
    history: list[Finding]


def run_lint_demo(image_reference: str) -> LintDemo:
    source, target = open_target(image_reference, OpenOptions())
    try:
        history = [
            f for image in target.images for f in lint_history(image.config, name=image_reference)
        ]
    finally:
        source.close()
    return LintDemo(lint_text(SAMPLE_DOCKERFILE, "sample/Dockerfile"), history)


def lint_sample() -> LintDemo:
    """Build the sample image in a scratch directory and lint it with its Dockerfile."""
    import tempfile
    from pathlib import Path

    from chainproof.demo.sample import SAMPLE_TAG, build_sample

    with tempfile.TemporaryDirectory(prefix="chainproof-demo-lint-") as scratch:
        build_sample(Path(scratch))
        return run_lint_demo(f"oci:{scratch}:{SAMPLE_TAG}")
