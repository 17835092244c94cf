"""The AMD SEV-SNP attestation report, parsed per AMD's SEV Secure Nested Paging Firmware ABI
Specification (publication 56860), table "ATTESTATION_REPORT Structure".

Versions 2 and 3 are accepted; both are 1184 bytes and differ only in that version 3 fills
the CPUID family/model/stepping bytes at 0x188 that name the product. The signature covers
bytes 0x000-0x29F; it is ECDSA P-384 with SHA-384, R and S little-endian, 72 bytes each.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from chainproof.errors import MalformedError, UnsupportedError

REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SUPPORTED_VERSIONS = (2, 3)
#: SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384 (ABI spec, "Signature Algorithm Encodings").
ECDSA_P384_SHA384 = 1


class SigningKey(enum.IntEnum):
    """Bits 4:2 of the key-info word at 0x48: which key signed the report."""

    VCEK = 0
    VLEK = 1
    NONE = 7


class Product(enum.StrEnum):
    MILAN = "Milan"
    GENOA = "Genoa"
    TURIN = "Turin"


@dataclass(frozen=True)
class TcbVersion:
    """A TCB_VERSION: the security patch levels of the firmware components.

    Milan and Genoa lay the 64 bits out as boot loader, TEE, 4 reserved, SNP, microcode;
    Turin as FMC, boot loader, TEE, SNP, 3 reserved, microcode (ABI spec, TCB_VERSION).
    """

    boot_loader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    @classmethod
    def decode(cls, raw: bytes, product: Product | None) -> TcbVersion:
        if product is Product.TURIN:
            return cls(boot_loader=raw[1], tee=raw[2], snp=raw[3], microcode=raw[7], fmc=raw[0])
        return cls(boot_loader=raw[0], tee=raw[1], snp=raw[6], microcode=raw[7])

    def to_json(self) -> dict[str, int]:
        values = {
            "boot_loader": self.boot_loader,
            "tee": self.tee,
            "snp": self.snp,
            "microcode": self.microcode,
        }
        if self.fmc is not None:
            values["fmc"] = self.fmc
        return values


@dataclass(frozen=True)
class GuestPolicy:
    """The guest policy (0x08) the owner set at launch; the PSP refuses to violate it."""

    raw: int

    @property
    def abi(self) -> str:
        return f"{(self.raw >> 8) & 0xFF}.{self.raw & 0xFF}"

    @property
    def smt_allowed(self) -> bool:
        return bool(self.raw & (1 << 16))

    @property
    def migration_agent_allowed(self) -> bool:
        return bool(self.raw & (1 << 18))

    @property
    def debug_allowed(self) -> bool:
        return bool(self.raw & (1 << 19))

    @property
    def single_socket(self) -> bool:
        return bool(self.raw & (1 << 20))

    def to_json(self) -> dict[str, object]:
        return {
            "raw": f"0x{self.raw:x}",
            "abi_minimum": self.abi,
            "smt_allowed": self.smt_allowed,
            "migration_agent_allowed": self.migration_agent_allowed,
            "debug_allowed": self.debug_allowed,
            "single_socket": self.single_socket,
        }


@dataclass(frozen=True)
class AttestationReport:
    raw: bytes
    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb_raw: bytes
    platform_info: int
    author_key_en: bool
    mask_chip_id: bool
    signing_key: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb_raw: bytes
    cpuid: tuple[int, int, int] | None
    chip_id: bytes
    committed_tcb_raw: bytes
    launch_tcb_raw: bytes
    signature_r: int
    signature_s: int

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:SIGNED_SIZE]

    @property
    def product(self) -> Product | None:
        """The product from CPUID (version 3 only): family 19h models 0h-Fh Milan, 10h-1Fh
        and A0h-AFh Genoa; family 1Ah models 0h-11h Turin (AMD's processor programming
        references)."""
        if self.cpuid is None:
            return None
        family, model, _ = self.cpuid
        if family == 0x19 and model <= 0x0F:
            return Product.MILAN
        if family == 0x19 and (0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF):
            return Product.GENOA
        if family == 0x1A and model <= 0x11:
            return Product.TURIN
        return None

    def reported_tcb(self, product: Product | None) -> TcbVersion:
        return TcbVersion.decode(self.reported_tcb_raw, product)


def parse_report(data: bytes) -> AttestationReport:
    """Parse a raw report; refuse the wrong size, an unsupported version or algorithm."""
    if len(data) != REPORT_SIZE:
        raise MalformedError(
            f"SEV-SNP report: {len(data)} bytes, expected {REPORT_SIZE} (truncated or not a report)"
        )
    version, guest_svn, policy = struct.unpack_from("<IIQ", data, 0)
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedError(
            f"SEV-SNP report version {version} is not supported (supported: "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))})"
        )
    vmpl, signature_algo = struct.unpack_from("<II", data, 0x30)
    if signature_algo != ECDSA_P384_SHA384:
        raise UnsupportedError(
            f"SEV-SNP report signature algorithm {signature_algo} is not supported "
            "(only 1, ECDSA P-384 with SHA-384)"
        )
    (platform_info,) = struct.unpack_from("<Q", data, 0x40)
    (key_info,) = struct.unpack_from("<I", data, 0x48)
    cpuid = (data[0x188], data[0x189], data[0x18A]) if version >= 3 else None
    return AttestationReport(
        raw=bytes(data),
        version=version,
        guest_svn=guest_svn,
        policy=GuestPolicy(policy),
        family_id=data[0x10:0x20],
        image_id=data[0x20:0x30],
        vmpl=vmpl,
        signature_algo=signature_algo,
        current_tcb_raw=data[0x38:0x40],
        platform_info=platform_info,
        author_key_en=bool(key_info & 1),
        mask_chip_id=bool(key_info & 2),
        signing_key=(key_info >> 2) & 7,
        report_data=data[0x50:0x90],
        measurement=data[0x90:0xC0],
        host_data=data[0xC0:0xE0],
        id_key_digest=data[0xE0:0x110],
        author_key_digest=data[0x110:0x140],
        report_id=data[0x140:0x160],
        report_id_ma=data[0x160:0x180],
        reported_tcb_raw=data[0x180:0x188],
        cpuid=cpuid,
        chip_id=data[0x1A0:0x1E0],
        committed_tcb_raw=data[0x1E0:0x1E8],
        launch_tcb_raw=data[0x1F0:0x1F8],
        signature_r=int.from_bytes(data[0x2A0:0x2E8], "little"),
        signature_s=int.from_bytes(data[0x2E8:0x330], "little"),
    )


def decode_report_file(data: bytes) -> bytes:
    """Evidence files hold the raw report or its hex (as virtee/sev's test data does)."""
    if len(data) == REPORT_SIZE:
        return data
    text = data.strip()
    if len(text) >= 2 * REPORT_SIZE and all(c in b"0123456789abcdefABCDEF \t\r\n" for c in text):
        try:
            return bytes.fromhex("".join(text.decode("ascii").split()))
        except ValueError:
            pass
    return data
