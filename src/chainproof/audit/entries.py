"""Log entries: one JSON object per decision, stored as RFC 8785 canonical bytes.

The leaf hash covers the canonical bytes, so any auditor re-serialising the JSON with any
JCS implementation gets the same leaf hash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rfc8785

from chainproof._jsonutil import loads_object
from chainproof._version import __version__
from chainproof.errors import MalformedError

if TYPE_CHECKING:
    from chainproof.report.verdict import Verdict

ENTRY_SCHEMA = "chainproof.audit.entry/v1"
KIND_VERIFICATION = "verification"
KIND_ADMISSION = "admission"
KIND_SHARD_START = "shard-start"
#: One decision is small; the cap keeps a hostile log from exhausting memory on verify.
MAX_ENTRY_BYTES = 1 << 20


def canonical(obj: dict[str, Any]) -> bytes:
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"audit entry cannot be canonicalised: {exc}") from None


def timestamp(now: datetime) -> str:
    """RFC 3339 UTC with millisecond precision: sortable and unambiguous."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def parse_timestamp(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise MalformedError(f"audit entry time {value!r} is not RFC 3339 UTC") from None


def verdict_entry(
    verdict: Verdict, now: datetime, *, policy_digest: str = "", requester: str = ""
) -> dict[str, Any]:
    image = verdict.image
    return {
        "schema": ENTRY_SCHEMA,
        "kind": KIND_ADMISSION if requester else KIND_VERIFICATION,
        "time": timestamp(now),
        "image": {
            "reference": image.reference,
            "digest": image.digest,
            "platform": image.platform,
            "os_version": image.os_version,
        },
        "verdict": verdict.verdict,
        "failing": [
            {"id": c.id, "status": str(c.status), "severity": str(c.severity)}
            for c in verdict.failing
        ],
        # The verdict names the policy that decided; an explicit digest (admission records
        # the bundle it serves) takes precedence.
        "policy_digest": policy_digest or (verdict.policy.digest if verdict.policy else ""),
        "requester": requester,
        "chainproof_version": __version__,
    }


def shard_start_entry(now: datetime, previous: dict[str, Any] | None) -> dict[str, Any]:
    """First entry of every shard: binds it to the final state of the shard before it."""
    return {
        "schema": ENTRY_SCHEMA,
        "kind": KIND_SHARD_START,
        "time": timestamp(now),
        "previous": previous,
        "chainproof_version": __version__,
    }


def decode_entry(body: bytes, what: str) -> dict[str, Any]:
    """Parse stored bytes and insist they are exactly their canonical form."""
    obj = loads_object(body, what, max_bytes=MAX_ENTRY_BYTES)
    if canonical(obj) != body:
        raise MalformedError(f"{what}: not in RFC 8785 canonical form")
    if obj.get("schema") != ENTRY_SCHEMA or not isinstance(obj.get("time"), str):
        raise MalformedError(f"{what}: not a {ENTRY_SCHEMA} entry")
    return obj
