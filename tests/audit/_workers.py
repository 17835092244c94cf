"""Process entry points for the concurrency and crash tests (importable under spawn)."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

from chainproof.audit import open_log, record_verdict
from chainproof.audit.entries import verdict_entry
from tests.audit.conftest import T0, make_verdict


def append_many(spec: str, worker: int, count: int, batch: int) -> None:
    """``count`` verdicts from one writer; single appends when ``batch`` is 1."""
    if batch == 1:
        for i in range(count):
            record_verdict(spec, make_verdict(worker * 100_000 + i), now=T0)
        return
    with open_log(spec) as log:
        for start in range(0, count, batch):
            entries = [
                verdict_entry(make_verdict(worker * 100_000 + i), T0)
                for i in range(start, min(start + batch, count))
            ]
            log.append(entries, T0)


def append_forever(spec: str) -> None:
    """Append until killed from outside."""
    with open_log(spec) as log:
        n = 0
        while True:
            log.append([verdict_entry(make_verdict(n + k), T0) for k in range(20)], T0)
            n += 20


def die_inside_append(spec: str) -> None:
    """SIGKILL ourselves after the entries are written but before the tree nodes are."""
    with open_log(spec) as log:
        log.append([verdict_entry(make_verdict(1), T0)], T0)

        def killer(*_args: object) -> None:
            os.kill(os.getpid(), signal.SIGKILL)

        setattr(log.store, "insert_nodes", killer)  # noqa: B010 - patch one instance
        log.append([verdict_entry(make_verdict(2), T0 + timedelta(seconds=1))], T0)
