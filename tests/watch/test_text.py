"""Text extraction: encodings, binary detection, HTML boilerplate, folding."""

from __future__ import annotations

import pytest

from amane.watch.text import (
    TextError,
    clean_text,
    decode,
    fold_text,
    fold_word,
    html_to_text,
    looks_binary,
    strip_markup,
)


def test_decode_windows_1256_arabic() -> None:
    text = "بيع الحشيش في طنجة، التوصيل سريع والثمن مناسب"
    d = decode(text.encode("cp1256"))
    assert d.text == text
    assert d.encoding == "cp1256"


def test_decode_cp1252_french_not_central_european() -> None:
    text = "Élève à l'école, ça coûte très cher. Déjà vu."
    d = decode(text.encode("cp1252"))
    assert d.text == text


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be", "utf-8-sig"])
def test_decode_bom(enc: str) -> None:
    text = "سلام Salut"
    data = text.encode(enc) if enc == "utf-8-sig" else ("\ufeff" + text).encode(enc)
    assert decode(data).text == text


def test_binary_posing_as_text_is_refused() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    assert looks_binary(data)
    with pytest.raises(TextError) as err:
        decode(data)
    assert err.value.reason == "binary"
    assert not looks_binary("نص عادي\n".encode())


def test_html_boilerplate_removed() -> None:
    html = """<html><head><title> Offre </title><style>p{color:red}</style></head><body>
    <nav><a href=/>Accueil</a></nav><header>Logo du site</header>
    <div id="sidebar">Articles populaires</div>
    <ul><li><a>un</a></li><li><a>deux</a></li><li><a>trois</a></li></ul>
    <article><h1>Vente</h1><p>Chira disponible, <b>livraison</b> Tanger.</p></article>
    <script>var secret = 1;</script><footer>Mentions légales</footer></body></html>"""
    page = html_to_text(html)
    assert page.title == "Offre"
    assert page.text == "Vente\nChira disponible, livraison Tanger."


def test_malformed_html_still_gives_text() -> None:
    page = html_to_text("<div><p>un <b>deux<i> trois<div>quatre</p></body><<<>>")
    assert "un deux trois" in page.text
    assert "quatre" in page.text


def test_deeply_nested_html_does_not_recurse() -> None:
    html = "<div>" * 5000 + "profond" + "</div>" * 5000
    assert html_to_text(html).text == "profond"


def test_clean_text_controls_and_spaces() -> None:
    assert clean_text("a\x00b\u200f  c \r\n\r\n d\t") == "ab c\nd"


def test_strip_markup_leaves_plain_text() -> None:
    assert strip_markup("a < b and c > d") == "a < b and c > d"
    assert strip_markup("<p>Armes <b>à vendre</b></p>") == "Armes à vendre"


def test_fold_word_scripts_and_arabizi() -> None:
    assert fold_word("مُحَمَّد") == "محمد"
    assert fold_word("الإسبانية") == fold_word("الاسبانيه")
    assert fold_word("Tétouan") == "tetouan"
    assert fold_word("7achich") == "hachich"
    assert fold_word("300dh") == "300dh"  # a price, not Arabizi
    assert fold_word("٠٦١٢") == "0612"
    assert fold_text("VENTE de Chira!! 🔥 l'élève") == "vente de chira l eleve"
