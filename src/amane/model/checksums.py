"""Check-digit algorithms shared by the value types (validating what users type) and the forensic
scanners (validating what is found in seized data): IBAN mod-97, base58check, bech32/bech32m.

Written here rather than taken from a package because each is a few lines of a published
specification (ISO 13616, Bitcoin's base58check, BIP-173/BIP-350) and the packages that carry them
pull in whole wallet libraries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(B58_ALPHABET)}
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def iban_mod97(compact: str) -> int:
    """ISO 13616 remainder of an IBAN in compact form (1 for a valid IBAN)."""
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97


def b58decode_check(text: str) -> bytes | None:
    """Decode a base58check string: the payload (version + data), or None when a character or the
    4-byte double-SHA-256 checksum is wrong."""
    n = 0
    for ch in text:
        idx = _B58_INDEX.get(ch)
        if idx is None:
            return None
        n = n * 58 + idx
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    raw = b"\x00" * pad + body
    if len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


def bech32_polymod(values: Iterable[int]) -> int:
    """BIP-173 checksum polynomial: BECH32_CONST for bech32, BECH32M_CONST for bech32m (BIP-350)."""
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
