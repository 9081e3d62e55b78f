"""Selectors in post text, with the forensics extractors (``amane.forensics.extractors``).

The same patterns and validators as the trace scanner (phone numbers to E.164 with
``phonenumbers``, Luhn-checked cards, mod-97 IBANs, Base58/Bech32-checked Bitcoin addresses,
Ethereum, onion v3 checksums, URLs and the domains derived from them and from e-mail addresses),
run on the UTF-8 bytes of the text; offsets are converted back to character offsets in the text.
Arabic-Indic digits are read as ASCII digits first ("٠٦١٢٣٤٥٦٧٨" is a phone number).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from amane.forensics.extractors import Extractor, registry

KIND_NAMES = {"ccn": "card", "bitcoin": "btc", "bech32": "btc", "ethereum": "eth"}
"""Forensics extractor name -> selector kind (other names are kept as they are)."""

_DIGITS = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)}}


@dataclass(frozen=True)
class Selector:
    kind: str  # email, phone, url, domain, onion, ipv4, ipv6, card, iban, btc, eth
    value: str  # normalised (E.164 phones, lower-case hosts...)
    start: int
    end: int


def _char_offsets(text: str) -> list[int] | None:
    """Byte offset -> char offset table for non-ASCII text (None when the text is ASCII)."""
    if text.isascii():
        return None
    starts = []
    pos = 0
    for ch in text:
        starts.append(pos)
        pos += len(ch.encode("utf-8", "surrogatepass"))
    return starts


def extract_selectors(text: str, extractors: list[Extractor] | None = None) -> list[Selector]:
    """Validated selectors in a text, sorted by position; each (kind, value, span) once."""
    if not text:
        return []
    text_ascii_digits = text.translate(_DIGITS)
    data = text_ascii_digits.encode("utf-8", "surrogatepass")
    table = _char_offsets(text_ascii_digits)

    def to_char(b: int) -> int:
        if table is None:
            return b
        return bisect_right(table, b) - 1 if b < len(data) else len(text)

    out: dict[tuple[str, str, int, int], Selector] = {}
    for ex in extractors if extractors is not None else registry().values():
        for m in ex.pattern.finditer(data):
            try:
                value = ex.validate(m.group())
            except (UnicodeDecodeError, ValueError):
                continue
            if value is None:
                continue
            start, end = to_char(m.start()), to_char(m.end())
            kind = KIND_NAMES.get(ex.name, ex.name)
            if kind == "url":  # the validator strips trailing punctuation
                end = min(end, start + len(value)) if text[start:end].lower().startswith(value[:8].lower()) else end
            out.setdefault((kind, value, start, end), Selector(kind, value, start, end))
            if ex.derive is not None:
                for dkind, dvalue in ex.derive(value):
                    span = text[start:end].lower()
                    i = span.find(dvalue.lower())
                    ds, de = (start + i, start + i + len(dvalue)) if i >= 0 else (start, end)
                    out.setdefault((dkind, dvalue, ds, de), Selector(dkind, dvalue, ds, de))
    return sorted(out.values(), key=lambda s: (s.start, s.end, s.kind, s.value))
