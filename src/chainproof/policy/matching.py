"""Which rules apply to an image reference.

Rules are indexed by the exact host of their patterns, so a reference is compared only with
the patterns that can match its host (plus ``*.`` wildcard hosts, local-transport patterns and
``*``). Semantics (``docs/policy.md``, "Matching"): a rule applies when one of its ``images``
patterns matches and none of its ``exclude`` patterns does; with ``matching: all`` every such
rule applies, with ``matching: first`` only the first in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainproof.oci import reference as references
from chainproof.policy.patterns import ImagePattern

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class CompiledRule:
    index: int
    name: str
    include: tuple[ImagePattern, ...]
    exclude: tuple[ImagePattern, ...]

    def applies(self, ref: references.ImageRef) -> bool:
        return any(p.matches(ref) for p in self.include) and not any(
            p.matches(ref) for p in self.exclude
        )


@dataclass
class RuleIndex:
    """Candidate rules per host; :meth:`matching` returns rule indexes in file order."""

    rules: Sequence[CompiledRule]
    first_only: bool
    _by_host: dict[str, list[int]] = field(default_factory=dict)
    _elsewhere: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for rule in self.rules:
            if all(p.kind == "registry" and p.host for p in rule.include):
                for host in {p.host for p in rule.include}:
                    self._by_host.setdefault(host, []).append(rule.index)
            else:
                # Wildcard hosts, local transports and "*": compared with every reference.
                self._elsewhere.append(rule.index)

    def matching(self, ref: references.ImageRef) -> list[int]:
        candidates = list(self._elsewhere)
        if isinstance(ref, references.RegistryRef):
            candidates += self._by_host.get(references.normalize_host(ref.host), ())
        candidates.sort()
        out: list[int] = []
        for index in candidates:
            if self.rules[index].applies(ref):
                out.append(index)
                if self.first_only:
                    break
        return out
