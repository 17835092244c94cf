"""Deny-lists of entities in the U.S. Consolidated Screening List (CSL) format.

The International Trade Administration publishes the CSL (Commerce, State and Treasury lists
merged) at ``https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json``
and ``…/consolidated.csv``. Both shapes are read: JSON ``{"results": [{"name", "alt_names",
"addresses", "source", "type", …}]}`` (or a bare list of such records) and the CSV with its
header row (``_id,source,entity_number,type,programs,name,…,alt_names,…``; CSV ``alt_names`` are
separated by ``;``). Vessels and aircraft are not matched: they do not sign software.

Matching is exact after normalisation (:func:`normalize`): Unicode NFKC, case folded,
punctuation to spaces, company-form words (Ltd, Inc, Co, LLC, GmbH, OOO, …) removed, white
space collapsed. Every name and alias is indexed twice, as normalised and with spaces
removed, so ``Example Tech Ltd.`` matches a certificate's ``O=EXAMPLE-TECH LIMITED`` and an
e-mail domain ``exampletech.com`` (its registrable label compared with the space-less form).
No fuzzy matching: a near miss is not a hit (documented in docs/policy.md with what it means).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainproof.errors import MalformedError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

#: The real consolidated.json is tens of megabytes; leave room, bound memory.
MAX_LIST_BYTES = 256 * 1024 * 1024
MAX_NAME_CHARS = 1024
_SKIPPED_TYPES = frozenset({"vessel", "aircraft"})

#: Legal-form words dropped before comparing (international company suffixes).
_COMPANY_FORMS = frozenset(
    (
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "llc",
        "llp",
        "lp",
        "plc",
        "gmbh",
        "ag",
        "kg",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "asa",
        "aps",
        "pte",
        "pty",
        "kk",
        "jsc",
        "ojsc",
        "pjsc",
        "cjsc",
        "oao",
        "ooo",
        "zao",
        "pao",
        "ao",
        "tov",
        "sro",
        "zrt",
        "kft",
        "doo",
        "dd",
        "ad",
        "sdn",
        "bhd",
        "tbk",
        "pt",
        "cia",
        "ltda",
        "sl",
        "the",
        "of",
    )
)
# Cyrillic spellings of the Russian forms (OOO, OAO, ZAO, PAO, AO, IP) as written natively.
_COMPANY_FORMS |= frozenset(("ооо", "оао", "зао", "пао", "ао", "ип"))  # noqa: RUF001
_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalize(name: str) -> str:
    """The comparison form of an entity or signer name ("" when nothing distinctive is left)."""
    text = unicodedata.normalize("NFKC", name[:MAX_NAME_CHARS]).casefold()
    words = _SPACES.split(_PUNCTUATION.sub(" ", text).strip())
    kept = [w for w in words if w and w not in _COMPANY_FORMS]
    return " ".join(kept)


@dataclass(frozen=True)
class Entry:
    list_name: str  # the screening file as the policy names it
    source: str  # the CSL source list, e.g. "Entity List (EL) - Bureau of Industry and Security"
    name: str
    matched: str  # the name or alias that matched


@dataclass(frozen=True)
class _Record:
    source: str
    name: str
    aliases: tuple[str, ...]


def _records_json(data: Any, where: str) -> Iterator[_Record]:
    rows = data.get("results") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise MalformedError(f"{where}: expected a list of records or {{'results': [...]}}")
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise MalformedError(f"{where}: record {i} has no 'name'")
        if str(row.get("type") or "").casefold() in _SKIPPED_TYPES:
            continue
        aliases = row.get("alt_names") or []
        if isinstance(aliases, str):
            aliases = aliases.split(";")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise MalformedError(f"{where}: record {i}: alt_names must be a list of names")
        yield _Record(str(row.get("source") or ""), row["name"], tuple(aliases))


def _records_csv(text: str, where: str) -> Iterator[_Record]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or "name" not in reader.fieldnames:
        raise MalformedError(f"{where}: CSV without a 'name' column (not the CSL format)")
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise MalformedError(f"{where}: line {line}: more fields than the header has")
            name = row.get("name")
            if not name:
                if all(not v for v in row.values()):
                    continue  # blank line
                raise MalformedError(f"{where}: line {line}: empty name")
            if (row.get("type") or "").casefold() in _SKIPPED_TYPES:
                continue
            aliases = tuple(a for a in (row.get("alt_names") or "").split(";") if a.strip())
            yield _Record(row.get("source") or "", name, aliases)
    except csv.Error as exc:
        raise MalformedError(f"{where}: line {reader.line_num}: {exc}") from None


class ScreeningList:
    """Normalised names → entries; :meth:`find` looks identities up in O(1)."""

    def __init__(self, list_name: str, records: Iterable[_Record]) -> None:
        self.name = list_name
        self._index: dict[str, Entry] = {}
        self.records = 0
        for record in records:
            self.records += 1
            for text in (record.name, *record.aliases):
                key = normalize(text)
                if not key:
                    continue
                entry = Entry(list_name, record.source, record.name, text.strip())
                self._index.setdefault(key, entry)
                self._index.setdefault(key.replace(" ", ""), entry)

    @classmethod
    def parse(cls, data: bytes, list_name: str) -> ScreeningList:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MalformedError(
                f"{list_name}: not UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
        if text.lstrip()[:1] in ("{", "["):
            from chainproof._jsonutil import loads_bounded

            parsed = loads_bounded(text, list_name, max_bytes=MAX_LIST_BYTES, max_depth=16)
            return cls(list_name, list(_records_json(parsed, list_name)))
        return cls(list_name, list(_records_csv(text, list_name)))

    @classmethod
    def load(cls, path: Path, list_name: str) -> ScreeningList:
        from chainproof.policy.document import read_file

        return cls.parse(read_file(path, "screening list", MAX_LIST_BYTES), list_name)

    def find(self, identity: str) -> Entry | None:
        key = normalize(identity)
        if not key:
            return None
        return self._index.get(key) or self._index.get(key.replace(" ", ""))


def identities_of_signer(signer: str) -> list[str]:
    """The names in a verified signer identity worth screening.

    A certificate subject (``CN=…,O=…``) gives its O and CN; an e-mail SAN gives its domain's
    registrable label (``build@example-tech.com`` → ``example-tech``); a URI SAN its host's.
    Key ids (hex) give nothing.
    """
    out: list[str] = []
    if "=" in signer and re.search(r"(?i)(?:^|,)\s*(?:CN|O)=", signer):
        for part in re.split(r"(?<!\\),", signer):
            key, _, value = part.strip().partition("=")
            if key.upper() in ("O", "CN") and value:
                out.append(value.replace("\\,", ","))
        return out
    host = ""
    if "@" in signer and "://" not in signer:
        host = signer.rpartition("@")[2]
    elif "://" in signer:
        host = signer.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2].split(":")[0]
    labels = [label for label in host.lower().split(".") if label]
    if len(labels) >= 2:
        # The label left of the public suffix: example-tech.com, example-tech.co.uk.
        second = labels[-2]
        if second in ("co", "com", "net", "org", "gov", "ac") and len(labels) >= 3:
            second = labels[-3]
        out.append(second)
    return out


def dumps_sample(entries: list[dict[str, Any]]) -> str:
    """A list in the CSL JSON shape (used to write the demo's made-up sample)."""
    return json.dumps({"results": entries}, indent=2)
