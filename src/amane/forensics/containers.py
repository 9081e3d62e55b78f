"""ZIP and GZIP members found inside raw data, expanded with limits (depth, bytes per container, total).

The scanner finds signatures (ZIP local file header ``PK\\x03\\x04``, GZIP magic ``1f 8b 08``) anywhere in
the data, not only at file starts, and asks this module to expand them. Nothing here raises on bad
input: a corrupt, truncated, encrypted or oversized member comes back as an :class:`Expansion` with a
``skip_reason`` (and whatever bytes could be recovered before the problem).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

ZIP_SIG = b"PK\x03\x04"
GZIP_SIG = b"\x1f\x8b\x08"

Reader = Callable[[int, int], bytes]
"""``reader(offset, size)`` returns up to ``size`` bytes of the enclosing data at ``offset``."""

_PIECE = 1 << 20
_MIN_REPORTED_GZIP = 64  # a "gzip" that dies before yielding this many bytes is a chance signature


@dataclass
class Limits:
    """Recursion limits (ZIP-bomb defence)."""

    max_depth: int = 3
    max_member_bytes: int = 64 << 20
    max_total_bytes: int = 1 << 30
    max_ratio: int = 1000


@dataclass
class Expansion:
    """One expanded member: ``label`` (e.g. ``zip:docs/a.txt``), its bytes, and why it was cut short if it was."""

    label: str
    data: bytes
    skip_reason: str | None = None
    chance_signature: bool = False


def _inflate(
    reader: Reader, start: int, compressed_size: int | None, wbits: int, budget: int, max_ratio: int
) -> tuple[bytes, str | None, int]:
    """Inflate from ``start``; returns (data, reason it stopped early or None, compressed bytes consumed)."""
    d = zlib.decompressobj(wbits)
    out: list[bytes] = []
    produced = 0
    consumed = 0
    pos = start
    remaining = compressed_size
    while True:
        want = _PIECE if remaining is None else min(_PIECE, remaining)
        if want <= 0:
            return b"".join(out), "truncated: compressed data ended before the end of the stream", consumed
        piece = reader(pos, want)
        if not piece:
            return b"".join(out), "truncated: data ended before the end of the compressed stream", consumed
        pos += len(piece)
        consumed += len(piece)
        if remaining is not None:
            remaining -= len(piece)
        data = piece
        while data:
            try:
                chunk = d.decompress(data, max(1, budget - produced + 1))
            except zlib.error as exc:
                return b"".join(out), f"corrupt compressed data after {produced} bytes: {exc}", consumed
            out.append(chunk)
            produced += len(chunk)
            used = consumed - len(d.unconsumed_tail)
            if produced > budget:
                joined = b"".join(out)[:budget]
                ratio = produced / max(1, used)
                return joined, f"expansion limit reached ({budget} bytes, ratio {ratio:.0f}:1)", used
            if used >= 1 << 12 and produced / used > max_ratio:
                return b"".join(out), f"compression ratio above {max_ratio}:1 (possible ZIP bomb)", used
            if d.eof:
                return b"".join(out), None, consumed - len(d.unused_data)
            data = d.unconsumed_tail


def expand_zip(reader: Reader, offset: int, budget: int, limits: Limits) -> Expansion | None:
    """Expand the ZIP local file entry at ``offset``; None when the header is not plausible."""
    header = reader(offset, 30)
    if len(header) < 30:
        return None
    _sig, version, flags, method, _t, _d, _crc, csize, usize, nlen, xlen = struct.unpack("<4sHHHHHIIIHH", header)
    if version > 63 or not 0 < nlen <= 1024:
        return None
    name_raw = reader(offset + 30, nlen)
    if len(name_raw) < nlen:
        return Expansion("zip:?", b"", "truncated ZIP local header")
    name = name_raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
    label = f"zip:{name}"
    data_start = offset + 30 + nlen + xlen
    if flags & 0x1:
        return Expansion(label, b"", "encrypted ZIP member")
    if name.endswith("/") and csize == 0:
        return Expansion(label, b"")
    if method == 0:
        if flags & 0x8 and csize == 0:
            return Expansion(label, b"", "stored ZIP member with a data descriptor (size unknown)")
        want = min(csize, budget)
        data = reader(data_start, want)
        if len(data) < want:
            return Expansion(label, data, "truncated ZIP member")
        return Expansion(label, data, None if csize <= budget else f"expansion limit reached ({budget} bytes)")
    if method != 8:
        return Expansion(label, b"", f"unsupported ZIP compression method {method}")
    size = None if (flags & 0x8 and csize == 0) else csize
    data, reason, _ = _inflate(reader, data_start, size, -15, budget, limits.max_ratio)
    if reason is None and usize and not flags & 0x8 and len(data) != usize:
        reason = f"size mismatch: header says {usize} bytes, got {len(data)}"
    return Expansion(label, data, reason)


def expand_gzip(reader: Reader, offset: int, budget: int, limits: Limits) -> Expansion | None:
    """Expand the GZIP member at ``offset``; None when the header is not plausible."""
    header = reader(offset, 10)
    if len(header) < 10 or header[3] & 0xE0:
        return None
    flg = header[3]
    name = ""
    if flg & 0x08:  # FNAME: read the zero-terminated original name for the label
        pos = offset + 10
        if flg & 0x04:
            xl = reader(pos, 2)
            if len(xl) < 2:
                return None
            pos += 2 + int.from_bytes(xl, "little")
        raw = reader(pos, 256)
        end = raw.find(b"\x00")
        if end > 0:
            name = raw[:end].decode("latin-1")
    label = f"gzip:{name}" if name else "gzip"
    data, reason, _ = _inflate(reader, offset, None, 31, budget, limits.max_ratio)
    if reason is not None and reason.startswith("corrupt") and len(data) < _MIN_REPORTED_GZIP:
        return Expansion(label, data, reason, chance_signature=True)
    return Expansion(label, data, reason)
