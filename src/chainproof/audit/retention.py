"""Time shards and prune records.

A shard holds the entries of one period (a month by default) under its own origin
``<log origin>/<period>``; when the period ends it is frozen with a final checkpoint.
Pruning deletes whole frozen shards and leaves a signed record of their final state, so the
next shard's ``shard-start`` entry still links to something verifiable.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chainproof.errors import MalformedError, UsageError

PERIODS = ("year", "month", "day")
PRUNE_HEADER = "chainproof.audit/prune/v1"
_DURATION = re.compile(r"([1-9][0-9]{0,6})([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def period_of(when: datetime, period: str) -> str:
    when = when.astimezone(UTC)
    if period == "year":
        return f"{when.year:04d}"
    if period == "month":
        return f"{when.year:04d}-{when.month:02d}"
    if period == "day":
        return f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    raise UsageError(f"unknown shard period {period!r} (use one of {', '.join(PERIODS)})")


def parse_duration(text: str) -> timedelta:
    """``180d``, ``26w``, ``12h``, ``30m``, ``90s``."""
    m = _DURATION.fullmatch(text.strip())
    if not m:
        raise UsageError(f"duration {text!r} is not a number followed by s, m, h, d or w")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


@dataclass(frozen=True)
class PrunedShard:
    origin: str
    first_index: int
    size: int
    root: bytes
    newest_time: str

    def line(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"shard {self.origin} {self.first_index} {self.size} {root} {self.newest_time}"

    def link(self) -> dict[str, object]:
        """The ``previous`` object a following shard-start entry must carry."""
        return {
            "origin": self.origin,
            "first_index": self.first_index,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
        }


@dataclass(frozen=True)
class PruneRecord:
    log_origin: str
    time: str
    older_than_seconds: int
    shards: tuple[PrunedShard, ...]

    def body(self) -> str:
        lines = [
            PRUNE_HEADER,
            self.log_origin,
            f"time {self.time}",
            f"older-than {self.older_than_seconds}s",
            *(s.line() for s in self.shards),
        ]
        return "\n".join(lines) + "\n"


def parse_prune_body(text: str) -> PruneRecord:
    lines = text.split("\n")
    if len(lines) < 6 or lines[0] != PRUNE_HEADER or lines[-1] != "":
        raise MalformedError("prune record: not a chainproof.audit/prune/v1 body")
    try:
        time = lines[2].removeprefix("time ")
        older = int(lines[3].removeprefix("older-than ").removesuffix("s"))
        shards = []
        for line in lines[4:-1]:
            tag, origin, first, size, root, newest = line.split(" ")
            if tag != "shard":
                raise ValueError(tag)
            shards.append(
                PrunedShard(origin, int(first), int(size), base64.b64decode(root), newest)
            )
    except (ValueError, binascii.Error):
        raise MalformedError("prune record: malformed shard line") from None
    return PruneRecord(lines[1], time, older, tuple(shards))
