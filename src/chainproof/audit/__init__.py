"""Tamper-evident audit log of chainproof's decisions (docs/audit.md).

Public API: :func:`record_verdict` (what ``chainproof verify --audit-log`` calls),
:func:`open_log` / :func:`init_log` for everything else, and the verifiers in
:mod:`chainproof.audit.verify`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.audit.log import AuditLog, LogConfig, init_log, open_log

if TYPE_CHECKING:
    from datetime import datetime

    from chainproof.report.verdict import Verdict


def record_verdict(
    log_spec: str,
    verdict: Verdict,
    *,
    policy_digest: str = "",
    requester: str = "",
    now: datetime | None = None,
) -> int:
    """Append one verdict to the log at ``log_spec`` (path or ``postgresql://`` URL).

    Creates the log on first use. Signs a checkpoint when the log has a key configured
    (``chainproof audit init --key``) and enough entries are uncovered. Returns the entry's
    global index.
    """
    with open_log(log_spec, create=True) as log:
        return log.record(verdict, policy_digest=policy_digest, requester=requester, now=now)


__all__ = ["AuditLog", "LogConfig", "init_log", "open_log", "record_verdict"]
