"""Windows build numbers: product and release, and the cumulative update (KB) for a build+UBR.

``ProductName`` in the registry says "Windows Server 2016" on every server release since 2016,
so the product is derived from the build number (and whether the installation is a server).
The build → KB table is package data derived from the vuls project's ``windowsReleases`` map
(see docs/sbom.md); each row is a cumulative update (rollup) that brings a build to a UBR.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

from chainproof.errors import MalformedError

#: build → (server product, release) for the builds Windows container images ship.
_SERVER = {
    14393: ("Windows Server 2016", "1607"),
    16299: ("Windows Server, version 1709", "1709"),
    17134: ("Windows Server, version 1803", "1803"),
    17763: ("Windows Server 2019", "1809"),
    18362: ("Windows Server, version 1903", "1903"),
    18363: ("Windows Server, version 1909", "1909"),
    19041: ("Windows Server, version 2004", "2004"),
    19042: ("Windows Server, version 20H2", "20H2"),
    20348: ("Windows Server 2022", "21H2"),
    25398: ("Windows Server, version 23H2", "23H2"),
    26100: ("Windows Server 2025", "24H2"),
}
_CLIENT = {
    10240: ("Windows 10", "1507"),
    10586: ("Windows 10", "1511"),
    14393: ("Windows 10", "1607"),
    15063: ("Windows 10", "1703"),
    16299: ("Windows 10", "1709"),
    17134: ("Windows 10", "1803"),
    17763: ("Windows 10", "1809"),
    18362: ("Windows 10", "1903"),
    18363: ("Windows 10", "1909"),
    19041: ("Windows 10", "2004"),
    19042: ("Windows 10", "20H2"),
    19043: ("Windows 10", "21H1"),
    19044: ("Windows 10", "21H2"),
    19045: ("Windows 10", "22H2"),
    22000: ("Windows 11", "21H2"),
    22621: ("Windows 11", "22H2"),
    22631: ("Windows 11", "23H2"),
    26100: ("Windows 11", "24H2"),
    26200: ("Windows 11", "25H2"),
}
#: Our product names → the product column of the KB table where they differ.
_TABLE_PRODUCT = {
    "Windows Server, version 23H2": "Windows Server 2022, 23H2 Edition",
    "Windows Server, version 1709": "Windows Server, Version 1709",
    "Windows Server, version 1903": "Windows Server, Version 1903",
    "Windows Server, version 1909": "Windows Server, Version 1909",
    "Windows Server, version 2004": "Windows Server, Version 2004",
    "Windows Server, version 20H2": "Windows Server, Version 20H2",
}


@dataclass(frozen=True)
class WindowsVersion:
    """``10.0.BUILD.UBR`` as in a config's ``os.version``."""

    major: int
    minor: int
    build: int
    ubr: int | None

    @classmethod
    def parse(cls, text: str) -> WindowsVersion:
        parts = text.strip().split(".")
        if len(parts) not in (3, 4) or not all(p.isdigit() and len(p) <= 9 for p in parts):
            raise MalformedError(f"not a Windows version (10.0.BUILD[.UBR]): {text!r}")
        numbers = [int(p) for p in parts]
        return cls(numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) == 4 else None)

    def __str__(self) -> str:
        tail = f".{self.ubr}" if self.ubr is not None else ""
        return f"{self.major}.{self.minor}.{self.build}{tail}"


@dataclass(frozen=True)
class Product:
    name: str  # "Windows Server 2022"
    release: str  # "21H2"
    server: bool


def product_for(build: int, installation_type: str = "") -> Product | None:
    """The product of ``build``; server unless the installation type says client.

    Container images are server editions (Server Core, Nano Server, Server); ``Client``
    only comes from a hive that says so.
    """
    client = installation_type.strip().casefold() == "client"
    table = _CLIENT if client else _SERVER
    found = table.get(build)
    if found is None:
        return None
    return Product(found[0], found[1], not client)


@dataclass(frozen=True)
class KbRow:
    product: str
    build: int
    ubr: int
    kb: str  # "KB5034129", or "" when the source lists a release without a KB


@functools.cache
def _table() -> tuple[KbRow, ...]:
    text = resources.files("chainproof.windows").joinpath("data/build_kb.csv").read_text("utf-8")
    lines = [line for line in io.StringIO(text) if not line.startswith("#")]
    rows = []
    for record in csv.DictReader(lines):
        kb = record["kb"].strip()
        rows.append(
            KbRow(
                record["product"], int(record["build"]), int(record["ubr"]), f"KB{kb}" if kb else ""
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class UpdateLevel:
    """Where a build+UBR stands against the cumulative updates known for its build."""

    product: str  # the table's product rows used
    ubr: int
    applied: KbRow | None  # the latest rollup with revision <= UBR
    missing: tuple[KbRow, ...]  # rollups released after it (revision > UBR)

    @property
    def kb(self) -> str:
        return self.applied.kb if self.applied else ""

    @property
    def exact(self) -> bool:
        """Whether the UBR is exactly the revision of a known update (not a private build)."""
        return self.applied is not None and self.applied.ubr == self.ubr


def update_level(version: WindowsVersion, product: Product | None) -> UpdateLevel | None:
    """The cumulative update an image at ``version`` carries, from the packaged table.

    Rows for the exact product are preferred; a build shared by client and server (17763,
    26100) falls back to any product's rows for that build, as the same cumulative update
    serves both.
    """
    if version.ubr is None:
        return None
    rows = [r for r in _table() if r.build == version.build]
    if product is not None:
        wanted = _TABLE_PRODUCT.get(product.name, product.name)
        own = [r for r in rows if r.product == wanted]
        if own:
            rows = own
    if not rows:
        return None
    chosen_product = rows[0].product
    rows = sorted((r for r in rows if r.product == chosen_product), key=lambda r: r.ubr)
    applied = [r for r in rows if r.ubr <= version.ubr]
    missing = tuple(r for r in rows if r.ubr > version.ubr)
    return UpdateLevel(chosen_product, version.ubr, applied[-1] if applied else None, missing)
