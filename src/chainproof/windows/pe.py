"""PE version resources (``VS_VERSIONINFO`` string tables) with pefile."""

from __future__ import annotations

import struct
from typing import Any

from chainproof.errors import MalformedError

FIELDS = (
    "ProductName",
    "ProductVersion",
    "FileVersion",
    "CompanyName",
    "FileDescription",
    "OriginalFilename",
    "LegalCopyright",
)


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\0 ").strip()
    return str(value).strip("\0 ").strip()


def version_info(data: bytes, what: str) -> dict[str, str]:
    """The string fields of the first version resource; {} when the file has none.

    Raises :class:`MalformedError` when the file is not a PE or its resource section cannot
    be parsed.
    """
    import pefile

    if not data.startswith(b"MZ"):
        raise MalformedError(f"{what}: not a PE file (no MZ header)")
    try:
        # No pe.close(): with data= there is no mmap to release, and close() runs a full
        # gc.collect() (~20 ms per file).
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(
            directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]]
        )
        fields: dict[str, str] = {}
        for info in getattr(pe, "FileInfo", None) or []:
            for block in info if isinstance(info, list) else [info]:
                for table in getattr(block, "StringTable", None) or []:
                    for key, value in table.entries.items():
                        name = _decode(key)
                        if name in FIELDS and name not in fields and _decode(value):
                            fields[name] = _decode(value)
        if "FileVersion" not in fields and getattr(pe, "VS_FIXEDFILEINFO", None):
            fixed = pe.VS_FIXEDFILEINFO[0]
            fields["FileVersion"] = ".".join(
                str(n)
                for n in (
                    fixed.FileVersionMS >> 16,
                    fixed.FileVersionMS & 0xFFFF,
                    fixed.FileVersionLS >> 16,
                    fixed.FileVersionLS & 0xFFFF,
                )
            )
        return fields
    except (
        pefile.PEFormatError,
        struct.error,
        ValueError,
        IndexError,
        KeyError,
        AttributeError,
        TypeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise MalformedError(
            f"{what}: malformed PE ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
