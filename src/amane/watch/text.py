"""Bytes and markup -> plain text for the watch pipeline.

- ``decode(data)``: byte-order marks first (UTF-8, UTF-16 LE/BE, UTF-32), then strict UTF-8, then
  ``charset-normalizer`` (Windows-1256 Arabic, CP1252 French...). Raises ``TextError`` with a stable
  reason ("binary", "encoding") when the bytes are not text.
- ``looks_binary(data)``: NUL bytes or many control bytes in the head of a file that claims to be text.
- ``html_to_text(html)``: parsed with ``selectolax`` (the lexbor engine: fast and tolerant of
  malformed markup, like a browser); boilerplate removed by tag and role (scripts, styles, nav,
  header, footer, aside, forms, menus, cookie banners) and by link density (blocks that are mostly
  links are menus). The block-level walk and the link-density rule are written here because the
  libraries that do full boilerplate removal (``trafilatura``, ``justext``) are 10-50x slower and
  drop the short posts this unit cares about (a one-line sale offer is "boilerplate" to them).
- ``clean_text(text)``: control characters removed, whitespace collapsed, length capped.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_TEXT_CHARS = 200_000
"""Longest text kept per document; the rest is cut (a post is short; a page rarely longer)."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

LEGACY_ENCODINGS = ("cp1256", "cp1252", "iso8859_6", "iso8859_15")
"""Non-UTF encodings tried first, in order: the ones files collected in Morocco use (Windows
Arabic and Western, their ISO cousins). Short texts are often ambiguous across all of
charset-normalizer's 90 encodings (a French line reads as Central European); restricting the
candidates makes the guess right."""

# Bytes that never occur in text files (tab, LF, FF, CR and ESC excepted).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_HEAD = 8192


class TextError(ValueError):
    """The input cannot be read as text; ``reason`` is a stable code ("binary", "encoding")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def looks_binary(data: bytes) -> bool:
    """Whether bytes that claim to be text are binary (an image, an archive, an executable...).

    NUL bytes (outside UTF-16/32, whose BOM is checked first) or over 10% control bytes in the
    first 8 KiB."""
    head = data[:_HEAD]
    if not head:
        return False
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.10


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def decode(data: bytes) -> Decoded:
    """Decode bytes of unknown encoding; raise ``TextError`` for binary or undecodable data."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(enc), enc)
            except UnicodeDecodeError as exc:
                raise TextError("encoding", f"byte-order mark says {enc} but the bytes are not: {exc}") from exc
    if looks_binary(data):
        raise TextError("binary", "binary content (NUL or control bytes) in a file that should be text")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:  # none of the expected ones: let charset-normalizer try them all
        best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise TextError("encoding", "no text encoding fits these bytes")
    return Decoded(str(best), best.encoding)


_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_NL = re.compile(r"\s*\n\s*")


def clean_text(text: str, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """NFC, control/format characters removed (line breaks and ZWNJ kept), spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    if not text.isascii() or any(ord(c) < 32 and c not in "\n\t" for c in text):
        text = "".join(c for c in text if c in "\n\t\u200c" or not unicodedata.category(c).startswith("C") or c == "\r")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _WS.sub(" ", text)
    text = _NL.sub("\n", text).strip()
    return text[:max_chars]


# -- HTML -----------------------------------------------------------------------------------------

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "menu",
    "head",
)
_DROP_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar")
_DROP_CLASS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|footer|header|sidebar|breadcrumbs?|cookies?|share|social|comments?-?form|"
    r"advert|ads|banner|subscribe|newsletter|pagination|related)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    "p div section article main li ul ol dl dt dd table tr td th h1 h2 h3 h4 h5 h6 pre blockquote br hr "
    "figure figcaption address center body".split()
)
_HTML_HINT = re.compile(r"<\s*(?:!doctype|html|body|div|p|br|span|a|table|head)\b", re.IGNORECASE)

LINK_DENSITY = 0.6
"""A block whose text is over 60% link text, with at least 3 links, is a menu and is dropped."""


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:4096]))


@dataclass(frozen=True)
class HtmlText:
    text: str
    title: str | None


def html_to_text(html: str, *, max_chars: int = MAX_TEXT_CHARS) -> HtmlText:
    """Main text of an HTML page (boilerplate removed) and its title. Malformed markup still
    gives its text: the parser recovers like a browser does."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = clean_text(title_node.text(), max_chars=500) if title_node is not None else None
    title = title or None
    root = tree.body or tree.root
    if root is None:
        return HtmlText("", title)
    tree.strip_tags(list(_DROP_TAGS))
    for node in root.css("[role], [class], [id], [hidden], [aria-hidden]"):
        attrs = node.attributes
        role = (attrs.get("role") or "").lower()
        marker = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if (
            role in _DROP_ROLES
            or "hidden" in attrs
            or (attrs.get("aria-hidden") or "").lower() == "true"
            or (_DROP_CLASS.search(marker) and node.tag not in ("body", "main", "article", "html"))
        ):
            node.decompose()
    # Link-dense blocks (menus written as plain lists of links).
    for node in root.css("ul, ol, div, p, table, section"):
        links = node.css("a")
        if len(links) < 3:
            continue
        total = len(node.text(deep=True, strip=True))
        if total and sum(len(a.text(deep=True, strip=True)) for a in links) / total > LINK_DENSITY:
            node.decompose()
    parts: list[str] = []
    _walk_text(root, parts)
    text = clean_text("".join(parts), max_chars=max_chars)
    return HtmlText(text, title)


def _walk_text(root: object, parts: list[str]) -> None:
    """Text of a tree with line breaks at block boundaries (iterative: deep malformed trees)."""
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag  # type: ignore[attr-defined]
        if closing:
            parts.append("\n")
            continue
        if tag == "-text":
            parts.append(node.text_content or "")  # type: ignore[attr-defined]
            continue
        if tag in _BLOCK_TAGS:
            parts.append("\n")
            stack.append((node, True))
        children = []
        child = node.child  # type: ignore[attr-defined]
        while child is not None:
            children.append(child)
            child = child.next
        for c in reversed(children):
            stack.append((c, False))


def strip_markup(text: str) -> str:
    """Plain text of a fragment that may hold markup (feed summaries, JSONL posts)."""
    if "<" in text and looks_like_html(text):
        return html_to_text(text).text
    return clean_text(text)


# -- words and their folded forms ----------------------------------------------------------------

# Letters and digits, with the Arabic and Latin combining marks, tatweel and joiners that live
# inside words (Python's \w leaves the marks out and would cut "مُحَمَّد" apart).
_WORD_RE = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200c\u200d])+")
_ARABIC_RE = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN_LETTER_RE = re.compile(r"[^\W\d_]")

ARABIZI_DIGITS = str.maketrans({"2": "", "3": "a", "5": "kh", "7": "h", "8": "gh", "9": "q"})
"""Digits of Arabic chat alphabet (Arabizi) -> the Latin letters names and dictionaries use:
2 hamza (dropped, as the name folding drops it), 3 ain (a), 5 kha (kh), 7 ha (h), 8 ghain (gh),
9 qaf (q). Applied only inside words that also have Latin letters ("7achich", "m3a"), never to
numbers, and only to a digit alone between letters ("300dh" stays a price)."""
_ARABIZI_RE = re.compile(r"(?<![0-9])[235789](?![0-9])")


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word as written) for every word of a text; offsets in the text."""
    return [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(text)]


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """Comparison form of one word, with the project's name folding (``amane.names.normalize``):
    Arabic hamza/ta marbuta/alef maqsura/diacritics folded; Latin lower-cased without accents;
    Arabizi digits read as letters; numbers kept as they are. Cached: words repeat a lot."""
    from amane.names.errors import NameInputError
    from amane.names.normalize import normalize_arabic, normalize_latin

    if word.isdigit():
        return word.translate(_DIGITS_TO_ASCII)
    try:
        if _ARABIC_RE.search(word):
            folded = normalize_arabic(word).replace(" ", "")
        else:
            low = word.casefold()
            if _LATIN_LETTER_RE.search(low) and any(c.isdigit() for c in low):
                low = _ARABIZI_RE.sub(lambda m: m.group().translate(ARABIZI_DIGITS), low)
            folded = normalize_latin(low).replace(" ", "")
    except NameInputError:
        folded = ""
    return folded or word.casefold()


_DIGITS_TO_ASCII = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)}}


def fold_text(text: str) -> str:
    """Folded words of a text joined by single spaces (punctuation, emojis and symbols dropped)."""
    return " ".join(fold_word(w) for _, _, w in words(text))
