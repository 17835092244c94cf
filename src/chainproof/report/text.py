"""Render a :class:`~chainproof.report.verdict.Verdict` as text or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chainproof.checks.interface import Status

if TYPE_CHECKING:
    from chainproof.report.verdict import Verdict

_MARK = {
    Status.PASS: "PASS",
    Status.FAIL: "FAIL",
    Status.WARN: "WARN",
    Status.SKIP: "SKIP",
    Status.ERROR: "ERROR",
}


def to_json(verdict: Verdict) -> str:
    return json.dumps(verdict.to_json(), indent=2, sort_keys=False)


def to_text(verdict: Verdict, *, verbose: bool = False) -> str:
    """Failures always; passes only with ``verbose`` (layers of big images are many)."""
    image = verdict.image
    lines = [f"image:    {image.reference}", f"digest:   {image.digest or '(unknown)'}"]
    if image.platform:
        platform = image.platform + (
            f" (os.version {image.os_version})" if image.os_version else ""
        )
        lines.append(f"platform: {platform}")
    lines.append("")
    for check in verdict.checks:
        if check.status == Status.PASS and not verbose:
            continue
        where = check.evidence.get("platform")
        prefix = f"[{where}] " if where else ""
        lines.append(f"  {_MARK[check.status]:5} {check.id:24} {prefix}{check.message}")
    summary = verdict.summary()
    counts = ", ".join(f"{n} {s}" for s, n in summary.items() if n)
    lines.append("")
    lines.append(f"verdict: {verdict.verdict.upper()} ({counts or 'no checks ran'})")
    return "\n".join(lines)
