"""SARIF 2.1.0, the one writer: every area that reports findings for code scanning builds these.

An area turns its findings into :class:`Rule` and :class:`Result` values (``lint`` and ``scan``
today; ``verify`` next) and :func:`sarif_log` writes the document. Fields are emitted in one fixed
order, each only when set, so a writer that leaves a field out gets the document it had before it
used this module. Nothing here knows about lint rules or advisories: dependencies point from the
areas to ``report``, never back.

Reference: the OASIS SARIF 2.1.0 standard; GitHub code scanning reads ``security-severity``
from rule and result property bags.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL_NAME = "chainproof"

#: SARIF result levels for chainproof's severity names.
LEVELS: Mapping[str, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}


def level(severity: str, default: str = "note") -> str:
    """The SARIF ``level`` of a severity name (``critical`` … ``info``)."""
    return LEVELS.get(severity, default)


@dataclass(frozen=True)
class Region:
    start_line: int
    end_line: int

    def to_json(self) -> dict[str, Any]:
        return {"startLine": self.start_line, "endLine": self.end_line}


@dataclass(frozen=True)
class Location:
    """Where a result is: a file (``uri``), optionally lines in it, optionally a logical name
    (a package, a component) inside it."""

    uri: str
    region: Region | None = None
    logical_name: str = ""

    def to_json(self) -> dict[str, Any]:
        physical: dict[str, Any] = {"artifactLocation": {"uri": self.uri}}
        if self.region is not None:
            physical["region"] = self.region.to_json()
        location: dict[str, Any] = {"physicalLocation": physical}
        if self.logical_name:
            location["logicalLocations"] = [{"name": self.logical_name}]
        return location


@dataclass(frozen=True)
class Rule:
    """A ``reportingDescriptor``: one rule (a lint rule, an advisory)."""

    id: str
    short_description: str
    name: str = ""
    full_description: str = ""
    help_text: str = ""
    help_markdown: str = ""
    default_level: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"id": self.id}
        if self.name:
            rule["name"] = self.name
        rule["shortDescription"] = {"text": self.short_description}
        if self.full_description:
            rule["fullDescription"] = {"text": self.full_description}
        if self.help_text or self.help_markdown:
            help_: dict[str, str] = {}
            if self.help_text:
                help_["text"] = self.help_text
            if self.help_markdown:
                help_["markdown"] = self.help_markdown
            rule["help"] = help_
        if self.default_level:
            rule["defaultConfiguration"] = {"level": self.default_level}
        if self.properties:
            rule["properties"] = dict(self.properties)
        return rule


@dataclass(frozen=True)
class Result:
    """One finding of one rule."""

    rule_id: str
    level: str
    message: str
    locations: tuple[Location, ...] = ()
    #: Index into the run's rules; written when set (GitHub uses it to find the rule fast).
    rule_index: int | None = None
    partial_fingerprints: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    #: The justification of an in-source suppression; None when the result is not suppressed.
    suppressed: str | None = None

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ruleId": self.rule_id}
        if self.rule_index is not None:
            result["ruleIndex"] = self.rule_index
        result["level"] = self.level
        result["message"] = {"text": self.message}
        result["locations"] = [location.to_json() for location in self.locations]
        if self.partial_fingerprints:
            result["partialFingerprints"] = dict(self.partial_fingerprints)
        if self.properties:
            result["properties"] = dict(self.properties)
        if self.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": self.suppressed}]
        return result


def sarif_log(
    rules: Sequence[Rule], results: Sequence[Result], *, information_uri: str = ""
) -> dict[str, Any]:
    """A SARIF log with one run of chainproof."""
    driver: dict[str, Any] = {"name": TOOL_NAME, "version": __version__}
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = [rule.to_json() for rule in rules]
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{"tool": {"driver": driver}, "results": [r.to_json() for r in results]}],
    }


def dumps(document: Mapping[str, Any]) -> str:
    """The document as chainproof prints it: two-space indented JSON, fields in order."""
    return json.dumps(document, indent=2)
