"""``chainproof policy test DIR``: unit tests for a policy, as ``kyverno test`` has them.

Every YAML file under DIR whose ``schema`` is ``chainproof.policy-test/v1`` is a test file::

    schema: chainproof.policy-test/v1
    policy: ../policy.yaml          # relative to this file
    today: 2026-12-01               # optional: pins waiver expiry, so tests do not rot
    cases:
      - name: the signed sample is admitted
        image: oci:images/signed:1.0   # local paths relative to this file
        expect: pass                   # or fail
        checks:                        # optional: outcomes of individual check ids
          signature.verified: pass
          policy.match: pass

A case passes when the verdict and every listed check id (every result with that id) come out
as expected. Other YAML files (the policies themselves) are ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chainproof.errors import InputError, NotFoundError
from chainproof.policy.document import (
    MAX_POLICY_BYTES,
    PolicyError,
    format_validation_error,
    parse_text,
    read_file,
)

TEST_SCHEMA = "chainproof.policy-test/v1"
MAX_TEST_FILES = 1000
Outcome = Literal["pass", "fail", "warn", "skip", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TestCase(_Model):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    image: Annotated[str, Field(min_length=1, max_length=4096)]
    platform: str = ""
    expect: Literal["pass", "fail"]
    checks: dict[str, Outcome] = {}


class TestFile(_Model):
    schema_id: Literal["chainproof.policy-test/v1"] = Field(alias="schema")
    name: str = ""
    policy: Annotated[str, Field(min_length=1)]
    today: Annotated[dt.date, Field(strict=False)] | None = None
    cases: Annotated[list[TestCase], Field(min_length=1, max_length=1000)]

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


@dataclass(frozen=True)
class CaseResult:
    file: str
    case: str
    passed: bool
    verdict: str
    problems: tuple[str, ...]


def _test_files(directory: Path) -> list[tuple[Path, TestFile]]:
    if not directory.is_dir():
        raise NotFoundError(f"{directory}: not a directory")
    found: list[tuple[Path, TestFile]] = []
    candidates = sorted(
        p for pattern in ("*.yaml", "*.yml") for p in directory.rglob(pattern) if p.is_file()
    )
    for path in candidates[:MAX_TEST_FILES]:
        data = parse_text(read_file(path, "test file", MAX_POLICY_BYTES), str(path))
        if not isinstance(data, dict) or data.get("schema") != TEST_SCHEMA:
            continue
        try:
            found.append((path, TestFile.model_validate(data)))
        except ValidationError as exc:
            raise PolicyError(format_validation_error(exc, str(path))) from None
    if not found:
        raise NotFoundError(f"{directory}: no test files (YAML with 'schema: {TEST_SCHEMA}')")
    return found


def _local(image: str, base: Path) -> str:
    """Local image paths in a test file are relative to it."""
    transport, sep, rest = image.partition(":")
    if sep and transport in ("oci", "oci-archive", "docker-archive") and not rest.startswith("/"):
        return f"{transport}:{base / rest}"
    return image


def run_tests(directory: Path) -> list[CaseResult]:
    from chainproof.oci.open import OpenOptions
    from chainproof.pipeline.run import verify_image
    from chainproof.policy.policy import Policy

    results: list[CaseResult] = []
    for path, spec in _test_files(directory):
        policy_path = path.parent / spec.policy
        try:
            policy = Policy.load(policy_path)
        except InputError as exc:
            raise type(exc)(f"{path}: policy: {exc}") from None
        for case in spec.cases:
            verdict = verify_image(
                _local(case.image, path.parent),
                OpenOptions(platform=case.platform),
                policy=policy,
                today=spec.today,
            )
            problems: list[str] = []
            if verdict.verdict != case.expect:
                failing = ", ".join(sorted({c.id for c in verdict.failing})) or "none"
                problems.append(
                    f"verdict {verdict.verdict}, expected {case.expect} (failing: {failing})"
                )
            for check_id, wanted in case.checks.items():
                statuses = {str(c.status) for c in verdict.checks if c.id == check_id}
                if not statuses:
                    problems.append(f"{check_id}: no such result, expected {wanted}")
                elif statuses != {wanted}:
                    problems.append(f"{check_id}: {', '.join(sorted(statuses))}, expected {wanted}")
            results.append(
                CaseResult(str(path), case.name, not problems, verdict.verdict, tuple(problems))
            )
    return results
