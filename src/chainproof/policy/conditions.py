"""What an attestation's statement must say: SLSA shortcuts, JMESPath tests, Rego.

The SLSA shortcuts read both provenance versions:

=====================  ===========================================  ==========================
key                    SLSA v1 (``slsa.dev/provenance/v1``)          v0.2
=====================  ===========================================  ==========================
``builder_id``         ``runDetails.builder.id``                    ``builder.id``
``build_type``         ``buildDefinition.buildType``                ``buildType``
``source_repository``  a ``resolvedDependencies[].uri``             a ``materials[].uri``
``source_ref``         that URI's ``@ref``, or ``externalParameters.workflow.ref`` when the
                       workflow repository is that source (GitHub's build type)
=====================  ===========================================  ==========================

A dependency URI compares equal to ``source_repository`` with or without its ``@ref`` suffix
and a trailing ``.git``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jmespath
import jmespath.exceptions

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from chainproof.policy.model import Attestation, Condition
    from chainproof.policy.rego import RegoEngine

_MISSING = object()


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return _MISSING
        data = data[key]
    return data


def _split_ref(uri: str) -> tuple[str, str]:
    """``git+https://github.com/o/r@refs/heads/main`` → (``…/o/r``, ``refs/heads/main``)."""
    base, ref = uri, ""
    scheme_end = uri.find("://")
    # An "@" in the authority (git+ssh://git@host/…) is a user, not a ref.
    path_start = uri.find("/", scheme_end + 3) if scheme_end >= 0 else 0
    at = uri.rfind("@")
    if path_start >= 0 and at > path_start:
        base, ref = uri[:at], uri[at + 1 :]
    return base.removesuffix("/").removesuffix(".git"), ref


def _same_repository(a: str, b: str) -> bool:
    return _split_ref(a)[0] == _split_ref(b)[0]


def _dependencies(predicate: Any) -> list[str]:
    items = _get(predicate, "buildDefinition", "resolvedDependencies")
    if items is _MISSING:
        items = _get(predicate, "materials")
    if not isinstance(items, list):
        return []
    return [str(d["uri"]) for d in items if isinstance(d, dict) and isinstance(d.get("uri"), str)]


def _slsa_problems(attestation: Attestation, predicate: Any) -> list[str]:
    problems: list[str] = []
    if attestation.builder_id is not None:
        builder = _get(predicate, "runDetails", "builder", "id")
        if builder is _MISSING:
            builder = _get(predicate, "builder", "id")
        if builder != attestation.builder_id:
            problems.append(
                f"builder id is {_show(builder)}, the policy requires {attestation.builder_id!r}"
            )
    if attestation.build_type is not None:
        build_type = _get(predicate, "buildDefinition", "buildType")
        if build_type is _MISSING:
            build_type = _get(predicate, "buildType")
        if build_type != attestation.build_type:
            problems.append(
                f"build type is {_show(build_type)}, the policy requires {attestation.build_type!r}"
            )
    if attestation.source_repository is not None:
        wanted = attestation.source_repository
        sources = [u for u in _dependencies(predicate) if _same_repository(u, wanted)]
        if not sources:
            problems.append(f"no resolved dependency is the source repository {wanted!r}")
        elif attestation.source_ref is not None:
            refs = {_split_ref(u)[1] for u in sources} - {""}
            workflow = _get(predicate, "buildDefinition", "externalParameters", "workflow")
            if isinstance(workflow, dict) and _same_repository(
                str(workflow.get("repository", "")), wanted
            ):
                refs.add(str(workflow.get("ref", "")))
            if attestation.source_ref not in refs:
                found = ", ".join(sorted(refs)) or "no ref"
                problems.append(
                    f"source {wanted!r} was built from {found}, the policy requires "
                    f"{attestation.source_ref!r}"
                )
    return problems


def _show(value: Any) -> str:
    return "missing" if value is _MISSING else repr(value)


@dataclass(frozen=True)
class CompiledCondition:
    expression: Any  # jmespath.parser.ParsedResult
    condition: Condition
    pattern: re.Pattern[str] | None

    def problem(self, statement: Mapping[str, Any]) -> str:
        value = self.expression.search(statement)
        c = self.condition
        text = c.jmespath
        if c.exists is not None:
            present = value is not None
            if present != c.exists:
                return f"{text} is {'present' if present else 'missing'}"
            return ""
        if c.equals is not None:
            return "" if value == c.equals else f"{text} is {value!r}, expected {c.equals!r}"
        if c.one_of is not None:
            return "" if value in c.one_of else f"{text} is {value!r}, expected one of {c.one_of!r}"
        if not isinstance(value, str) or self.pattern is None or not self.pattern.fullmatch(value):
            return f"{text} is {value!r}, which does not match {c.matches!r}"
        return ""


def compile_condition(condition: Condition) -> CompiledCondition:
    """Raises ValueError (the loader adds the path) for a JMESPath syntax error."""
    try:
        expression = jmespath.compile(condition.jmespath)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(f"invalid JMESPath expression {condition.jmespath!r}: {exc}") from None
    pattern = re.compile(condition.matches) if condition.matches is not None else None
    return CompiledCondition(expression, condition, pattern)


def statement_test(
    attestation: Attestation, rego: RegoEngine | None
) -> Callable[[Mapping[str, Any]], Sequence[str]]:
    """The reasons a verified statement does not meet ``attestation`` (empty: it does)."""
    conditions = [compile_condition(c) for c in attestation.conditions]

    def problems(statement: Mapping[str, Any]) -> Sequence[str]:
        out = _slsa_problems(attestation, statement.get("predicate"))
        out += [p for c in conditions if (p := c.problem(statement))]
        if rego is not None:
            out += [f.message for f in rego.evaluate(dict(statement)) if f.kind == "deny"]
        return out

    return problems


def is_conditional(attestation: Attestation) -> bool:
    return bool(
        attestation.conditions
        or attestation.rego
        or attestation.builder_id
        or attestation.build_type
        or attestation.source_repository
    )
