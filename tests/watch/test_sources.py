"""Readers: a folder of collected files, Telegram exports, JSON Lines, feeds, bad input."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from amane.watch.sources import FORMATS, RawDoc, Skip, parse_date, read_feed, read_path, telegram_text

SAMPLES = Path(__file__).parent / "samples" / "drop"


def split(items: list[RawDoc | Skip]) -> tuple[dict[str, RawDoc], list[Skip]]:
    docs = {d.location: d for d in items if isinstance(d, RawDoc)}
    return docs, [s for s in items if isinstance(s, Skip)]


def test_folder_batch_reads_good_and_skips_bad() -> None:
    calls: list[tuple[int, int]] = []
    items = list(read_path(SAMPLES, "cyber", progress=lambda done, total: calls.append((done, total))))
    docs, skips = split(items)
    assert len(docs) == 12
    assert Counter(s.reason for s in skips) == {"empty": 5, "json.malformed": 2, "binary": 1, "json.not_object": 1}
    reasons = {s.location: s.reason for s in skips}
    assert reasons["notes/fake.txt"] == "binary"
    assert reasons["broken.json"] == "json.malformed"
    assert reasons["posts.jsonl:2"] == "json.malformed"
    assert reasons["pages/empty.html"] == "empty"
    assert reasons["telegram/result.json#message 4"] == "empty"
    assert calls[-1] == (11, 11) and len(calls) == 11
    assert {d.source for d in docs.values()} == {"cyber"}


def test_windows_1256_and_utf16_text_files() -> None:
    docs, _ = split(list(read_path(SAMPLES / "notes", "s")))
    ar = docs["ar_cp1256.txt"]
    assert ar.text.startswith("بيع الحشيش في طنجة")
    assert ar.meta["encoding"] == "cp1256"
    assert docs["fr_utf16.txt"].text.startswith("Achat de cartes bancaires volées")


def test_html_pages() -> None:
    docs, _ = split(list(read_path(SAMPLES / "pages", "s")))
    offer = docs["offer.html"]
    assert offer.media_type == "html"
    assert offer.title == "Annonce — livraison Tanger"
    assert offer.text.startswith("Vente de chira, livraison rapide\nBonjour")
    assert "cookies" not in offer.text and "Accueil" not in offer.text and "tracker" not in offer.text
    assert "contact +212 6 61 23 45 67" in docs["malformed.html"].text


def test_telegram_single_chat() -> None:
    docs, skips = split(list(read_path(SAMPLES / "telegram" / "result.json", "tg")))
    assert sorted(d.external_id for d in docs.values()) == ["1734567890:2", "1734567890:3", "1734567890:5"]
    msg = docs["result.json#message 3"]
    assert msg.text == "الحريك لإسبانيا من الناظور بثمن مناسب التفاصيل هنا https://t.me/hrig_nador"
    assert msg.published == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert msg.author == "Souk Noir 🔥"
    assert msg.meta["chat_id"] == 1734567890 and msg.meta["message_id"] == 3
    assert msg.meta["links"] == ["https://t.me/hrig_nador"]
    assert docs["result.json#message 5"].meta["forwarded_from"] == "Autre canal"
    assert [s.reason for s in skips] == ["empty"]  # the photo; the service message is not content


def test_telegram_full_export_chats_list(tmp_path: Path) -> None:
    export = {
        "about": "export",
        "chats": {
            "about": "chats",
            "list": [
                {
                    "name": "A",
                    "type": "private_channel",
                    "id": 11,
                    "messages": [{"id": 7, "type": "message", "date": "2026-01-02T03:04:05", "text": "salam"}],
                },
                {
                    "name": "B",
                    "type": "public_supergroup",
                    "id": 12,
                    "messages": [{"id": 7, "type": "message", "text": [{"type": "mention", "text": "@x"}, " bonjour"]}],
                },
                {"name": "C", "type": "saved_messages"},
            ],
        },
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    docs, skips = split(list(read_path(path, "tg")))
    assert sorted(d.external_id for d in docs.values()) == ["11:7", "12:7"]
    assert [d.text for d in docs.values() if d.external_id == "12:7"] == ["@x bonjour"]
    assert [d.published for d in docs.values() if d.external_id == "11:7"] == [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ]
    assert [s.reason for s in skips] == ["telegram.chat"]


def test_telegram_text_forms() -> None:
    assert telegram_text("a") == "a"
    assert telegram_text(["a ", {"type": "bold", "text": "b"}, {"type": "x"}, 3]) == "a b"
    assert telegram_text(None) == ""


def test_jsonl_posts_and_stable_ids() -> None:
    first, _ = split(list(read_path(SAMPLES / "posts.jsonl", "j")))
    again, _ = split(list(read_path(SAMPLES / "posts.jsonl", "j")))
    assert [d.external_id for d in first.values()] == [d.external_id for d in again.values()]
    p1 = first["posts.jsonl:1"]
    assert (p1.external_id, p1.author, p1.url) == ("p-1", "seller_1", "http://forum.example/t/1")
    assert p1.published == datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    assert first["posts.jsonl:3"].text == "Armes à vendre, pistolet sans papiers"
    assert len(first["posts.jsonl:7"].external_id) == 32  # no id: a hash of the line


def test_rss_file() -> None:
    docs, skips = split(list(read_path(SAMPLES / "feed.rss", "rss")))
    e1 = docs["feed.rss#entry 1"]
    assert e1.external_id == "urn:item:1"
    assert e1.text == "Un réseau de trafic de migrants démantelé à Nador."
    assert e1.published == datetime(2026, 2, 10, 8, 30, tzinfo=UTC)
    assert docs["feed.rss#entry 2"].external_id == "http://feeds.example/2"
    assert [s.reason for s in skips] == ["empty"]


def test_too_large_and_forced_format(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 5000)
    (tmp_path / "small.txt").write_text("petit texte", encoding="utf-8")
    docs, skips = split(list(read_path(tmp_path, "s", max_bytes=1000)))
    assert [s.reason for s in skips] == ["too_large"]
    assert [d.text for d in docs.values()] == ["petit texte"]
    html_as_text = tmp_path / "page.dat"
    html_as_text.write_text("<p>bonjour <b>toi</b></p>", encoding="utf-8")
    forced = [d for d in read_path(html_as_text, "s", "html") if isinstance(d, RawDoc)]
    assert forced[0].text == "bonjour toi"
    with pytest.raises(ValueError, match="format"):
        list(read_path(tmp_path, "s", "docx"))
    with pytest.raises(ValueError, match="path"):
        list(read_path(tmp_path / "missing", "s"))
    assert FORMATS[0] == "auto"


def _pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_pdf(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    (tmp_path / "rapport.pdf").write_bytes(_pdf("Vente de cartes bancaires volees"))
    (tmp_path / "casse.pdf").write_bytes(b"%PDF-1.4\n garbage without objects")
    docs, skips = split(list(read_path(tmp_path, "p")))
    assert docs["rapport.pdf"].text == "Vente de cartes bancaires volees"
    assert docs["rapport.pdf"].media_type == "pdf"
    assert [s.location for s in skips] == ["casse.pdf"]
    assert skips[0].reason in ("pdf.malformed", "empty")


def test_parse_date() -> None:
    assert parse_date("2026-02-10T09:30:00+01:00") == datetime(2026, 2, 10, 8, 30, tzinfo=UTC)
    assert parse_date(1770710400) == datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    assert parse_date("1770710400000") == datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    assert parse_date("Tue, 10 Feb 2026 09:30:00 +0100") == datetime(2026, 2, 10, 8, 30, tzinfo=UTC)
    assert parse_date("hier") is None and parse_date(None) is None


# -- feeds ----------------------------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/feed.xml"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    srv.close()


def test_feed_timeout_is_a_skip(silent_server: str) -> None:
    items = list(read_feed(silent_server, "f", allowed={silent_server}, timeout=0.3))
    assert [(i.location, i.reason) for i in items if isinstance(i, Skip)] == [(silent_server, "feed.timeout")]


def test_feed_not_allowed_never_connects() -> None:
    items = list(read_feed("http://203.0.113.9/feed", "f", allowed={"http://203.0.113.9/other"}))
    assert [i.reason for i in items if isinstance(i, Skip)] == ["feed.not_allowed"]
    items = list(read_feed("file:///etc/passwd", "f", allowed={"file:///etc/passwd"}))
    assert [i.reason for i in items if isinstance(i, Skip)] == ["feed.not_allowed"]


@pytest.fixture
def feed_server() -> Iterator[str]:
    body = (SAMPLES / "feed.rss").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/feed.rss":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_feed_fetched_from_allowed_address(feed_server: str) -> None:
    url = f"{feed_server}/feed.rss"
    items = list(read_feed(url, "f", allowed=[url], timeout=5))
    docs = [i for i in items if isinstance(i, RawDoc)]
    assert [d.external_id for d in docs] == ["urn:item:1", "http://feeds.example/2"]
    assert docs[0].location == f"{url}#entry 1"
    missing = f"{feed_server}/nope.rss"
    assert [i.reason for i in read_feed(missing, "f", allowed=[missing]) if isinstance(i, Skip)] == ["feed.http"]
