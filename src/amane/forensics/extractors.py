"""Feature extractors: a byte pattern that finds candidates plus a validator that confirms them.

Every extractor is registered under a unique short name. The pattern is a ``bytes`` regular
expression over ASCII/UTF-8 text; the scanner also applies it to the ASCII view of UTF-16LE runs.
The validator receives the matched bytes and returns the normalised feature (a ``str``) or
``None`` when the candidate is rejected (bad checksum, invalid octet, implausible prefix...).
A validator may also return extra ``(kind, value)`` pairs derived from the match (for example the
host of a URL as a ``domain`` feature).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban as stdnum_iban

from amane.model.checksums import (
    BECH32_CHARSET,
    BECH32_CONST,
    BECH32M_CONST,
    b58decode_check,
    bech32_hrp_expand,
    bech32_polymod,
    iban_mod97,
)

Validator = Callable[[bytes], "str | None"]
Derived = Callable[[str], "list[tuple[str, str]]"]


@dataclass(frozen=True)
class Extractor:
    """A registered feature extractor.

    ``max_len`` bounds the length in bytes of any match of ``pattern`` (the regex must enforce it):
    the scanner sizes the chunk overlap from it so that no match is lost at a chunk border.
    ``anchor`` is an optional Hyperscan-compatible regex (no look-around, no back-reference) that occurs
    in every match of ``pattern``; the Hyperscan engine finds anchors in one pass for all extractors and
    runs ``pattern`` only in small windows around them. Extractors without an anchor are run in full.
    """

    name: str
    pattern: re.Pattern[bytes]
    validate: Validator
    max_len: int
    derive: Derived | None = None
    description: str = ""
    anchor: bytes | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    context_max: int | None = None
    """Bytes of the match shown in the feature's context (``None``: all); for long binary matches (EXIF)."""


_REGISTRY: dict[str, Extractor] = {}


def register(extractor: Extractor) -> Extractor:
    """Register an extractor; a duplicate name is an error."""
    if extractor.name in _REGISTRY:
        raise ValueError(f"extractor {extractor.name!r} is already registered")
    if extractor.max_len <= 0:
        raise ValueError(f"extractor {extractor.name!r}: max_len must be positive")
    _REGISTRY[extractor.name] = extractor
    return extractor


def registry() -> dict[str, Extractor]:
    """Return a copy of the registry (name -> extractor), including entry-point plug-ins."""
    _load_entry_points()
    return dict(_REGISTRY)


_ENTRY_POINTS_LOADED = False


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="amane.extractors"):
        obj = ep.load()
        if isinstance(obj, Extractor) and obj.name not in _REGISTRY:
            register(obj)


def select(names: Iterable[str] | None) -> list[Extractor]:
    """Resolve extractor names (``None`` = all); an unknown name raises ``KeyError`` naming it."""
    reg = registry()
    if names is None:
        return list(reg.values())
    out = []
    for n in names:
        if n not in reg:
            raise KeyError(f"unknown extractor {n!r}; known: {', '.join(sorted(reg))}")
        out.append(reg[n])
    return out


# --------------------------------------------------------------------------------------------
# Reference data used by validators (public standards, not answers).

# Top-level domains accepted in e-mail addresses and URLs: generic TLDs in common use plus every
# ISO 3166-1 alpha-2 country code TLD. Restricting TLDs keeps false hits in binary data low.
_GENERIC_TLDS = {
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "name",
    "pro",
    "mobi",
    "aero",
    "asia",
    "coop",
    "museum",
    "jobs",
    "travel",
    "tel",
    "cat",
    "xxx",
    "post",
    "app",
    "dev",
    "io",
    "online",
    "site",
    "xyz",
    "top",
    "club",
    "shop",
    "store",
    "tech",
    "cloud",
    "live",
    "email",
    "news",
    "blog",
    "link",
    "onion",
    "arpa",
    "local",
    "africa",
    "arab",
    "bank",
    "art",
    "page",
    "tv",
    "me",
    "ai",
    "vip",
    "work",
    "world",
}
_CC_TLDS = set(
    "ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz "
    "ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj "
    "fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in "
    "iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me "
    "mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf "
    "pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st sv "
    "sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws "
    "ye yt za zm zw".split()
)
TLDS = frozenset(_GENERIC_TLDS | _CC_TLDS)

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def valid_hostname(host: str) -> bool:
    """True for a DNS name with valid labels and a known TLD (lower-case input)."""
    if len(host) > 253 or "." not in host:
        return False
    labels = host.split(".")
    if labels[-1] not in TLDS:
        return False
    return all(_LABEL.match(lb) for lb in labels)


# --------------------------------------------------------------------------------------------
# E-mail

_EMAIL_RE = re.compile(
    rb"[A-Za-z0-9._%+-](?<![A-Za-z0-9._%+-][A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{0,63}"
    rb"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)


def validate_email(raw: bytes) -> str | None:
    """Accept ``local@domain`` with a sane local part and a valid host; lower-case the domain.

    One-character local parts and one-character second-level labels are rejected: they are what random
    bytes produce most (measured), and real addresses of that shape are rare.
    """
    text = raw.decode("ascii")
    local, _, domain = text.rpartition("@")
    if len(local) < 2 or local[0] == "." or local[-1] == "." or ".." in local:
        return None
    domain = domain.lower()
    if not valid_hostname(domain) or len(domain.split(".")[-2]) < 2:
        return None
    return f"{local}@{domain}"


def _email_derive(value: str) -> list[tuple[str, str]]:
    return [("domain", value.rpartition("@")[2])]


# --------------------------------------------------------------------------------------------
# Phone numbers (Moroccan national forms and international forms), normalised to E.164.

_INTL_TAIL = rb"[1-9][0-9]{0,2}[ .-]?(?:\(0\)[ .-]?)?(?:[0-9][ .-]?){5,12}[0-9]"
_PHONE_RE = re.compile(
    rb"[+0](?<![0-9A-Za-z+][+0])(?<![ -][0-9]{4}[ -]0)(?:"  # not a group in a run of 4-digit groups (card, IBAN)
    rb"(?<=\+)"
    + _INTL_TAIL  # +CC ...
    + rb"|(?<=0)0"
    + _INTL_TAIL  # 00CC ...
    + rb"|(?<=0)[5-7](?:[ .-]?[0-9]){8}"  # Moroccan national 0[5-7]xxxxxxxx
    rb")(?![0-9])"
)


def _phone_e164(text: str) -> str | None:
    digits = re.sub(r"[ .\-]", "", text.replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        num = phonenumbers.parse(digits, None if digits.startswith("+") else "MA")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(raw: bytes) -> str | None:
    """Parse with ``phonenumbers`` (region MA for national forms); return E.164 for valid numbers.

    The pattern is greedy, so a number followed by another group of digits (``... 36 1GFM``) is retried
    without its trailing separated groups before it is rejected.
    """
    text = raw.decode("ascii")
    while True:
        value = _phone_e164(text)
        if value is not None:
            return value
        cut = max(text.rfind(" "), text.rfind("-"), text.rfind("."))
        if cut < 8:
            return None
        text = text[:cut]


# --------------------------------------------------------------------------------------------
# URLs, domains, onion addresses

_URL_RE = re.compile(
    rb"(?:https?|ftp)://[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{0,1800})?"
)
_TRAILING_PUNCT = ".,;:!?)]'"


def validate_url(raw: bytes) -> str | None:
    """Accept a URL whose host is a valid DNS name, IPv4 address or onion address."""
    text = raw.decode("ascii").rstrip(_TRAILING_PUNCT)
    scheme, _, rest = text.partition("://")
    hostport = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host, _, port = hostport.partition(":")
    host = host.lower()
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return None
    if host.endswith(".onion"):
        ok = _onion_ok(host.rsplit(".", 2)[-2]) if host.count(".") >= 1 else False
    else:
        ok = valid_hostname(host) or _ipv4_ok(host)
    if not ok:
        return None
    return f"{scheme.lower()}://{host}{(':' + port) if port else ''}{rest[len(hostport) :]}"


def _url_derive(value: str) -> list[tuple[str, str]]:
    host = value.partition("://")[2]
    host = re.split(r"[/?#:]", host, maxsplit=1)[0]
    if _ipv4_ok(host):
        return []
    return [("domain", host)]


_ONION_RE = re.compile(rb"[a-z2-7](?<![a-z2-7][a-z2-7])[a-z2-7]{55}\.onion(?![A-Za-z0-9-])")


def _onion_ok(label: str) -> bool:
    if len(label) != 56:
        return False
    try:
        raw = base64.b32decode(label.upper())
    except ValueError:
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != 3:
        return False
    digest = hashlib.sha3_256(b".onion checksum" + pubkey + bytes([version])).digest()
    return digest[:2] == checksum


def validate_onion(raw: bytes) -> str | None:
    """Accept a v3 onion address whose embedded SHA3 checksum and version byte are right."""
    text = raw.decode("ascii")
    return text if _onion_ok(text[:-6]) else None


# --------------------------------------------------------------------------------------------
# IP addresses

_IPV4_RE = re.compile(rb"[0-9](?<![0-9.][0-9])[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![0-9]|\.[0-9])")


def _ipv4_ok(text: str) -> bool:
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p.isdigit() or len(p) > 3 or (len(p) > 1 and p[0] == "0") or int(p) > 255:
            return False
    return parts[0] != "0"


def validate_ipv4(raw: bytes) -> str | None:
    """Dotted quad with octets 0-255, no leading zeros, first octet not 0."""
    text = raw.decode("ascii")
    return text if _ipv4_ok(text) else None


_IPV6_RE = re.compile(
    rb"[0-9A-Fa-f:](?<![0-9A-Za-z:.][0-9A-Fa-f:])[0-9A-Fa-f]{0,3}:[0-9A-Fa-f:]{2,37}(?![0-9A-Za-z:.])"
)


def validate_ipv6(raw: bytes) -> str | None:
    """A valid IPv6 address with at least three non-empty groups (``::1``-style forms are too noisy)."""
    text = raw.decode("ascii")
    if sum(1 for g in text.split(":") if g) < 3:
        return None
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return addr.compressed


# --------------------------------------------------------------------------------------------
# Payment cards

_CARD_RE = re.compile(
    rb"[2-6](?<![0-9][2-6])"
    rb"(?:[0-9]{12,18}"  # contiguous
    rb"|[0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{3})?"  # 4-4-4-4(-3)
    rb"|[0-9]{3}([ -])[0-9]{6}\2[0-9]{5}"  # 4-6-5 (American Express)
    rb")(?![0-9])"
)


def luhn_ok(digits: str) -> bool:
    """Luhn mod-10 check over a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iin_ok(d: str) -> bool:
    n = len(d)
    p2, p3, p4, p6 = int(d[:2]), int(d[:3]), int(d[:4]), int(d[:6])
    if d[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 222100 <= p6 <= 272099:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # American Express
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19  # Discover
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19  # JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39) or p4 == 3095:
        return 14 <= n <= 19  # Diners Club
    if p2 == 62:
        return 16 <= n <= 19  # UnionPay
    if p2 in (50, 56, 57, 58) or p2 == 67:
        return 12 <= n <= 19  # Maestro
    return False


def _card_digits(digits: str) -> str | None:
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return None
    if not _iin_ok(digits) or not luhn_ok(digits):
        return None
    return digits


def validate_card(raw: bytes) -> str | None:
    """13-19 digits (separators removed) with a plausible IIN prefix, a Luhn check and not a single repeated digit.

    A grouped 4-4-4-4 number followed by a separator and three more digits (the start of the next number,
    as in ``4111 1111 1111 1111 215.237.91.213``) is read as 19 digits first; when those fail, the 16
    digits of the four groups are checked on their own."""
    text = raw.decode("ascii")
    found = _card_digits(text.replace(" ", "").replace("-", ""))
    if found is None and len(text) == 23 and text[19] in " -":
        found = _card_digits(text[:19].replace(" ", "").replace("-", ""))
    return found


# --------------------------------------------------------------------------------------------
# IBAN

_IBAN_RE = re.compile(
    rb"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
# Countries that use IBAN-format account numbers but are not (yet) in python-stdnum's registry.
_EXTRA_IBAN_LENGTHS = {"MA": 28}


def validate_iban(raw: bytes) -> str | None:
    """ISO 13616: country length and mod-97 check; returns the compact form."""
    compact = raw.decode("ascii").replace(" ", "")
    if stdnum_iban.is_valid(compact):
        return compact
    length = _EXTRA_IBAN_LENGTHS.get(compact[:2])
    if length and len(compact) == length and iban_mod97(compact) == 1:
        return compact
    return None


# --------------------------------------------------------------------------------------------
# Crypto-currency addresses

_BTC58_RE = re.compile(rb"[13](?<![1-9A-HJ-NP-Za-km-z][13])[1-9A-HJ-NP-Za-km-z]{25,34}(?![1-9A-HJ-NP-Za-km-z])")


def validate_btc_base58(raw: bytes) -> str | None:
    """P2PKH (version 0x00, ``1...``) or P2SH (version 0x05, ``3...``) with a valid checksum."""
    text = raw.decode("ascii")
    payload = b58decode_check(text)
    if payload is None or len(payload) != 21 or payload[0] not in (0x00, 0x05):
        return None
    return text


_BECH32_RE = re.compile(rb"bc1(?<![0-9A-Za-z]bc1)[02-9ac-hj-np-z]{11,71}(?![0-9A-Za-z])")


def validate_bech32(raw: bytes) -> str | None:
    """Segwit address: bech32 (v0) or bech32m (v1+) checksum and witness program length rules."""
    text = raw.decode("ascii")
    hrp, data = "bc", [BECH32_CHARSET.index(c) for c in text[3:]]
    const = bech32_polymod(bech32_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST) or len(data) < 7:
        return None
    version, prog5 = data[0], data[1:-6]
    acc, bits, prog = 0, 0, []
    for v in prog5:
        acc = (acc << 5) | v
        bits += 5
        while bits >= 8:
            bits -= 8
            prog.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc & ((1 << bits) - 1)):
        return None
    if version > 16 or not 2 <= len(prog) <= 40:
        return None
    if version == 0 and (len(prog) not in (20, 32) or const != BECH32_CONST):
        return None
    if version != 0 and const != BECH32M_CONST:
        return None
    return text


_ETH_RE = re.compile(rb"0x(?<![0-9A-Za-z]0x)[0-9a-fA-F]{40}(?![0-9A-Za-z])")


def validate_eth(raw: bytes) -> str | None:
    """0x + 40 hex digits, not degenerate (at least 8 distinct digits); returned in lower case.

    An address written in mixed case carries an EIP-55 checksum (letters upper-cased by Keccak-256 of
    the address): it must match, else the text is a damaged or made-up address. All-lower and
    all-upper addresses carry none and are accepted."""
    original = raw.decode("ascii")
    text = original.lower()
    if len(set(text[2:])) < 8:
        return None
    digits = original[2:]
    if digits != digits.lower() and digits != digits.upper():
        from amane.model.types import eip55_checksum

        if eip55_checksum(text) != original:
            return None
    return text


# --------------------------------------------------------------------------------------------
# Registration of the built-in set

EMAIL = register(
    Extractor(
        "email",
        _EMAIL_RE,
        validate_email,
        64 + 1 + 253,
        _email_derive,
        "e-mail addresses",
        rb"[A-Za-z0-9._%+-]@[A-Za-z0-9][A-Za-z0-9-]{0,62}\.[A-Za-z0-9]",
    )
)
PHONE = register(
    Extractor(
        "phone",
        _PHONE_RE,
        validate_phone,
        40,
        None,
        "phone numbers, E.164",
        rb"\+[1-9][0-9]|00[1-9][0-9]|0[5-7][ .-]?[0-9]",
    )
)
URL = register(Extractor("url", _URL_RE, validate_url, 2100, _url_derive, "http(s)/ftp URLs", rb"(?:https?|ftp)://"))
ONION = register(Extractor("onion", _ONION_RE, validate_onion, 62, None, "Tor v3 onion addresses", rb"\.onion"))
IPV4 = register(Extractor("ipv4", _IPV4_RE, validate_ipv4, 15, None, "IPv4 addresses", rb"[0-9]\.[0-9]{1,3}\.[0-9]"))
IPV6 = register(
    Extractor("ipv6", _IPV6_RE, validate_ipv6, 39, None, "IPv6 addresses", rb"[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:")
)
CARD = register(
    Extractor("ccn", _CARD_RE, validate_card, 23, None, "payment card numbers (Luhn)", rb"[0-9]{4}[ -]?[0-9]{4}")
)
IBAN = register(
    Extractor(
        "iban", _IBAN_RE, validate_iban, 42, None, "IBAN account numbers (mod 97)", rb"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}"
    )
)
BTC = register(
    Extractor("bitcoin", _BTC58_RE, validate_btc_base58, 35, None, "Bitcoin base58check", rb"[1-9A-HJ-NP-Za-km-z]{26}")
)
BECH32 = register(Extractor("bech32", _BECH32_RE, validate_bech32, 74, None, "Bitcoin segwit bech32/bech32m", rb"bc1"))
ETH = register(Extractor("ethereum", _ETH_RE, validate_eth, 42, None, "Ethereum addresses", rb"0x[0-9a-fA-F]{40}"))

# EXIF metadata and GPS positions of photos (JPEG APP1 segments); the decoding lives in ``exif``.
from amane.forensics import exif as _exif  # noqa: E402

EXIF = register(Extractor("exif", _exif.APP1_RE, _exif.validate_exif, _exif.SCAN_BYTES, None,
                          "EXIF camera make, model, date-time", _exif.APP1_ANCHOR, context_max=16))
GPS = register(Extractor("gps", _exif.APP1_RE, _exif.validate_gps, _exif.SCAN_BYTES, None,
                         "EXIF GPS positions (lat,lon)", _exif.APP1_ANCHOR, context_max=16))

#: Kinds that are only derived from other features (not matched directly).
DERIVED_KINDS = ("domain",)
