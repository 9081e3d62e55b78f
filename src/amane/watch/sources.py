"""Readers for collected content: folders of pages, Telegram Desktop exports, JSON Lines, feeds.

Every reader yields ``RawDoc`` (plain text, already extracted from HTML/PDF/markup) or ``Skip``
(where, a stable reason code, a message) and never raises for bad input: one bad file, line or
message is skipped and the rest of the batch is read. ``external_id`` is stable across runs, so
ingesting the same drop twice yields the same ids (idempotent re-ingest).

Formats: ``html`` (``text.html_to_text``), ``text`` (encoding detected), ``pdf`` (``pypdf``, optional),
``telegram`` (``result.json`` of one chat, or the full export with ``chats.list``), ``jsonl`` (one
post per line; a ``.json`` file holding a list of posts is read the same way), ``rss`` (RSS/Atom
with ``feedparser``). ``read_feed`` fetches a feed, but only from configured addresses; the
pipeline itself never reaches out.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .text import TextError, clean_text, decode, html_to_text, looks_like_html, strip_markup

FORMATS = ("auto", "html", "text", "pdf", "telegram", "jsonl", "rss")
MAX_FEED_BYTES = 10_000_000

_SUFFIXES = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".shtml": "html",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".log": "text",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".rss": "rss",
    ".atom": "rss",
    ".xml": "rss",
}

_TEXT_KEYS = ("text", "content", "body", "message", "post", "description", "summary")
_ID_KEYS = ("id", "external_id", "guid", "uid", "post_id", "message_id")
_URL_KEYS = ("url", "link", "permalink")
_AUTHOR_KEYS = ("author", "from", "user", "username", "sender", "channel")
_DATE_KEYS = ("published", "date", "created_at", "timestamp", "time", "datetime")


@dataclass
class RawDoc:
    """One collected item, as plain text. ``published`` is timezone-aware UTC when known."""

    source: str
    external_id: str
    text: str
    media_type: str  # "html" | "text" | "pdf" | "telegram" | "jsonl" | "rss"
    location: str
    url: str | None = None
    author: str | None = None
    title: str | None = None
    published: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    """An input that was not read: where, a stable reason code, and a message for the report."""

    location: str
    reason: str
    message: str


Item = RawDoc | Skip
Progress = Callable[[int, int], None]


# -- helpers --------------------------------------------------------------------------------------


def _sha(text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:32]


def parse_date(value: Any) -> datetime | None:
    """ISO 8601 text, Unix seconds (int, float or digits) or RFC 822 -> aware UTC datetime.
    A naive time is taken as UTC. None when unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            seconds = float(value)
            if seconds > 1e11:  # milliseconds
                seconds /= 1000.0
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str):
            text = value.strip()
            try:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                from email.utils import parsedate_to_datetime

                dt = parsedate_to_datetime(text)
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, OSError):
        return None
    return None


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        v = obj.get(k)
        if v not in (None, "", [], {}):
            return v
    return None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return _as_text(_first(value, ("name", "username", "title", "text", "id")))
    return None


# -- files ----------------------------------------------------------------------------------------


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def read_path(
    path: Path,
    source: str,
    fmt: str = "auto",
    *,
    max_bytes: int = 20_000_000,
    progress: Progress | None = None,
) -> Iterator[RawDoc | Skip]:
    """Read a file or a folder of collected files. ``progress(done, total)`` is called after each
    file. Bad files are yielded as ``Skip``; a missing path or an unknown format raises ValueError."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}: got {fmt!r}")
    if not path.exists():
        raise ValueError(f"path: must exist: {path}")
    if path.is_dir():
        files = list(_walk(path))
        base = path
    else:
        files = [path]
        base = path.parent
    total = len(files)
    for done, file in enumerate(files, 1):
        rel = file.relative_to(base).as_posix()
        try:
            yield from _read_file(file, rel, source, fmt, max_bytes)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            yield Skip(rel, "error", f"{type(exc).__name__}: {exc}")
        if progress is not None:
            progress(done, total)


def _read_file(file: Path, rel: str, source: str, fmt: str, max_bytes: int) -> Iterator[Item]:
    if file.is_symlink() or not file.is_file():
        yield Skip(rel, "not_regular", "not a regular file (links are not followed)")
        return
    size = file.stat().st_size
    if size > max_bytes:
        yield Skip(rel, "too_large", f"{size} bytes; at most {max_bytes} are read")
        return
    if size == 0:
        yield Skip(rel, "empty", "empty file")
        return
    data = file.read_bytes()
    kind = fmt if fmt != "auto" else _SUFFIXES.get(file.suffix.lower()) or _sniff(data)
    if kind == "json":
        kind = "telegram"
    reader = _READERS[kind]
    yield from reader(data, rel, source)


def _sniff(data: bytes) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head):
        return "rss"
    if head.startswith((b"<rss", b"<feed")):
        return "rss"
    if head.startswith(b"<") and looks_like_html(head.decode("latin-1")):
        return "html"
    if head.startswith((b"{", b"[")):
        return "telegram"
    return "text"


def _decode(data: bytes, rel: str) -> tuple[str | None, Skip | None, str]:
    try:
        d = decode(data)
    except TextError as exc:
        return None, Skip(rel, exc.reason, str(exc)), ""
    return d.text, None, d.encoding


def read_html(data: bytes, rel: str, source: str) -> Iterator[Item]:
    raw, skip, enc = _decode(data, rel)
    if raw is None:
        yield skip  # type: ignore[misc]
        return
    page = html_to_text(raw)
    if not page.text:
        yield Skip(rel, "empty", "no text left once markup and boilerplate are removed")
        return
    yield RawDoc(source, rel, page.text, "html", rel, title=page.title, meta={"encoding": enc})


def read_text(data: bytes, rel: str, source: str) -> Iterator[Item]:
    raw, skip, enc = _decode(data, rel)
    if raw is None:
        yield skip  # type: ignore[misc]
        return
    text = clean_text(raw)
    if not text:
        yield Skip(rel, "empty", "only white space")
        return
    yield RawDoc(source, rel, text, "text", rel, meta={"encoding": enc})


def read_pdf(data: bytes, rel: str, source: str) -> Iterator[Item]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:
        yield Skip(rel, "pdf.unsupported", "reading PDFs needs the pypdf package")
        return
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            yield Skip(rel, "pdf.encrypted", "the PDF is encrypted")
            return
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        yield Skip(rel, "pdf.malformed", f"unreadable PDF: {exc}")
        return
    text = clean_text("\n".join(pages))
    if not text:
        yield Skip(rel, "empty", "no text layer (a scanned PDF needs OCR)")
        return
    title = str(info.title) if info is not None and info.title else None
    yield RawDoc(source, rel, text, "pdf", rel, title=title, meta={"pages": len(pages)})


# -- Telegram Desktop export ---------------------------------------------------------------------


def telegram_text(value: Any) -> str:
    """A message's ``text``: a string, or a list of strings and entity objects ({"type", "text"})."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        out = []
        for part in value:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict):
                t = part.get("text")
                if isinstance(t, str):
                    out.append(t)
        return "".join(out)
    return ""


def read_telegram(data: bytes, rel: str, source: str) -> Iterator[Item]:
    raw, skip, _ = _decode(data, rel)
    if raw is None:
        yield skip  # type: ignore[misc]
        return
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        yield Skip(rel, "json.malformed", f"line {exc.lineno} column {exc.colno}: {exc.msg}")
        return
    if isinstance(doc, list):  # a JSON array of posts from another collector
        yield from _posts(((f"{rel}#{i}", i, item, None) for i, item in enumerate(doc)), rel, source, "jsonl")
        return
    if not isinstance(doc, dict):
        yield Skip(rel, "json.unknown", "neither a Telegram export nor a list of posts")
        return
    chats: list[Any]
    if isinstance(doc.get("messages"), list):
        chats = [doc]
    else:
        chats = []
        for key in ("chats", "left_chats"):
            block = doc.get(key)
            if isinstance(block, dict) and isinstance(block.get("list"), list):
                chats.extend(block["list"])
        if not chats:
            yield Skip(rel, "json.unknown", "no 'messages' nor 'chats.list': not a Telegram Desktop export")
            return
    for chat in chats:
        if not isinstance(chat, dict) or not isinstance(chat.get("messages"), list):
            yield Skip(rel, "telegram.chat", "a chat without a 'messages' list")
            continue
        yield from _telegram_chat(chat, rel, source, many=len(chats) > 1)


def _telegram_chat(chat: dict[str, Any], rel: str, source: str, *, many: bool = False) -> Iterator[Item]:
    chat_id = chat.get("id")
    chat_name = _as_text(chat.get("name"))
    chat_type = _as_text(chat.get("type"))
    chat_key = str(chat_id) if chat_id is not None else _sha(chat_name or rel)[:12]
    for msg in chat["messages"]:
        if not isinstance(msg, dict):
            yield Skip(f"{rel}#?", "telegram.message", "a message that is not an object")
            continue
        mid = msg.get("id")
        loc = f"{rel}#chat {chat_key} message {mid}" if many else f"{rel}#message {mid}"
        if msg.get("type", "message") != "message":
            continue  # service messages (joined, pinned, title changed): not content
        if mid is None:
            yield Skip(loc, "telegram.message", "a message without an id")
            continue
        text = clean_text(telegram_text(msg.get("text")))
        if not text:
            yield Skip(loc, "empty", "no text (media only or empty)")
            continue
        published = parse_date(msg.get("date_unixtime")) or parse_date(msg.get("date"))
        meta: dict[str, Any] = {"chat_id": chat_id, "chat_name": chat_name, "chat_type": chat_type, "message_id": mid}
        for key in ("from_id", "forwarded_from", "reply_to_message_id", "edited", "media_type", "file", "photo"):
            if msg.get(key) not in (None, ""):
                meta[key] = msg[key]
        links = [
            e.get("href") or e.get("text")
            for e in (msg.get("text_entities") or [])
            if isinstance(e, dict) and e.get("type") in ("link", "text_link")
        ]
        if links:
            meta["links"] = links
        yield RawDoc(
            source,
            f"{chat_key}:{mid}",
            text,
            "telegram",
            loc,
            author=_as_text(msg.get("from")) or chat_name,
            title=chat_name,
            published=published,
            meta=meta,
        )


# -- JSON Lines -----------------------------------------------------------------------------------


def read_jsonl(data: bytes, rel: str, source: str) -> Iterator[Item]:
    raw, skip, _ = _decode(data, rel)
    if raw is None:
        yield skip  # type: ignore[misc]
        return

    def lines() -> Iterator[tuple[str, int, Any, str | None]]:
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield f"{rel}:{n}", n, json.loads(line), line
            except json.JSONDecodeError as exc:
                yield f"{rel}:{n}", n, _Bad(f"column {exc.colno}: {exc.msg}"), line

    yield from _posts(lines(), rel, source, "jsonl")


@dataclass(frozen=True)
class _Bad:
    message: str


def _posts(items: Iterator[tuple[str, int, Any, str | None]], rel: str, source: str, media: str) -> Iterator[Item]:
    for loc, _n, obj, line in items:
        if isinstance(obj, _Bad):
            yield Skip(loc, "json.malformed", obj.message)
            continue
        if not isinstance(obj, dict):
            yield Skip(loc, "json.not_object", "a post must be a JSON object")
            continue
        body = _first(obj, _TEXT_KEYS)
        body_text = body if isinstance(body, str) else telegram_text(body)
        text = strip_markup(body_text) if body_text else ""
        if not text:
            yield Skip(loc, "empty", "no text in the post")
            continue
        ident = _first(obj, _ID_KEYS)
        if ident is None or isinstance(ident, dict | list):
            ident = _sha(line if line is not None else json.dumps(obj, sort_keys=True, ensure_ascii=False))
        meta = {k: v for k, v in obj.items() if k not in _TEXT_KEYS and isinstance(v, str | int | float | bool)}
        url = _first(obj, _URL_KEYS)
        title = obj.get("title")
        yield RawDoc(
            source,
            str(ident),
            text,
            media,
            loc,
            url=url if isinstance(url, str) else None,
            author=_as_text(_first(obj, _AUTHOR_KEYS)),
            title=title if isinstance(title, str) else None,
            published=parse_date(_first(obj, _DATE_KEYS)),
            meta=meta,
        )


# -- feeds ----------------------------------------------------------------------------------------


def read_rss(data: bytes, rel: str, source: str) -> Iterator[Item]:
    import feedparser

    parsed = feedparser.parse(data)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            yield Skip(rel, "feed.malformed", f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        else:
            yield Skip(rel, "empty", "a feed without entries")
        return
    feed_title = parsed.get("feed", {}).get("title")
    for i, entry in enumerate(entries, 1):
        loc = f"{rel}#entry {i}"
        content = entry.get("content") or []
        body = (content[0].get("value") if content else None) or entry.get("summary") or ""
        text = strip_markup(body) if body else ""
        title = entry.get("title")
        if not text and title:
            text = clean_text(title)
        if not text:
            yield Skip(loc, "empty", "an entry without text")
            continue
        guid = entry.get("id") or entry.get("link") or _sha(f"{title}\n{text}")
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None
        yield RawDoc(
            source,
            str(guid),
            text,
            "rss",
            loc,
            url=entry.get("link"),
            author=entry.get("author"),
            title=title,
            published=published,
            meta={"feed_title": feed_title} if feed_title else {},
        )


def read_feed(url: str, source: str, *, allowed: Collection[str], timeout: float = 10.0) -> Iterator[RawDoc | Skip]:
    """Fetch one RSS/Atom feed from a configured address (``url`` must be in ``allowed``, http or
    https). A timeout, a refused connection or an HTTP error yields a ``Skip``, never an exception."""
    if url not in allowed:
        yield Skip(url, "feed.not_allowed", "this address is not in the configured feed list")
        return
    if not url.lower().startswith(("http://", "https://")):
        yield Skip(url, "feed.not_allowed", "only http and https feeds are fetched")
        return
    deadline = time.monotonic() + timeout
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "amane-watch/1", "Accept": "application/rss+xml, */*"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("feed took longer than the timeout")
                chunk = resp.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_FEED_BYTES:
                    yield Skip(url, "too_large", f"feed over {MAX_FEED_BYTES} bytes")
                    return
                chunks.append(chunk)
    except TimeoutError as exc:
        yield Skip(url, "feed.timeout", f"no answer within {timeout:g} s: {exc}")
        return
    except urllib.error.HTTPError as exc:
        yield Skip(url, "feed.http", f"HTTP {exc.code}")
        return
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            yield Skip(url, "feed.timeout", f"no answer within {timeout:g} s")
        else:
            yield Skip(url, "feed.unreachable", str(reason))
        return
    except (OSError, ValueError) as exc:
        yield Skip(url, "feed.unreachable", str(exc))
        return
    yield from read_rss(b"".join(chunks), url, source)


_READERS: dict[str, Callable[[bytes, str, str], Iterator[Item]]] = {
    "html": read_html,
    "text": read_text,
    "pdf": read_pdf,
    "telegram": read_telegram,
    "jsonl": read_jsonl,
    "rss": read_rss,
}
