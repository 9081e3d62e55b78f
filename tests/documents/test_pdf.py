"""Printable documents: real PDFs laid out by WeasyPrint, read back with pypdf, and page 1 turned
into PNG with poppler's pdftoppm for a person to look at (``test-artifacts/screenshots/``).

Reading Arabic back from a PDF: WeasyPrint (HarfBuzz) maps each shaped glyph back to the characters
it came from, so pypdf returns the base letters (U+0600 block) in logical order. Other producers or
extractors may return Arabic Presentation Forms instead (U+FB50-U+FDFF, U+FE70-U+FEFF: one code
point per contextual shape, and ligatures such as lam-alef U+FEFB). ``_normalise`` applies NFKC,
which folds those back to the base letters (U+FEFB -> U+0644 U+0627), drops the invisible bidi
isolates, and collapses white space (a name may wrap inside a table cell), so the comparisons hold
whichever form the extractor returns. Visual order is a different matter and must not be
normalised away: the tests also assert that the reversed (visual-order) spelling is absent.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from amane.documents import (
    DocumentInputError,
    case_summary_html,
    incident_report_html,
    render_case_summary,
    render_incident_report,
    text_direction,
)
from amane.documents.pdf import html_to_pdf
from amane.model.errors import ValidationFailed

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PRINTED = datetime(2026, 10, 13, 10, 0, tzinfo=UTC)

UNIT: dict[str, Any] = {
    "code": "CASA-ANFA-1",
    "name_ar": "الدائرة الأمنية الأولى أنفا",
    "name_fr": "1er arrondissement de police d'Anfa",
    "name_en": "Anfa 1st police district",
    "parents": [
        {"name_ar": "المديرية العامة للأمن الوطني", "name_fr": "Direction générale de la sûreté nationale",
         "name_en": "General Directorate for National Security"},
        {"name_ar": "ولاية أمن الدار البيضاء", "name_fr": "Préfecture de police de Casablanca",
         "name_en": "Casablanca police prefecture"},
    ],
}
NARRATIVE = (
    "بتاريخ 12 أكتوبر 2026 على الساعة الثانية والنصف زوالا، تقدمت المشتكية إلى مقر الدائرة الأمنية، وصرحت بأن "
    "شخصا مجهولا قام بانتزاع حقيبتها اليدوية بالقوة بشارع محمد الخامس، ثم لاذ بالفرار على متن دراجة نارية."
    "\n\nLa plaignante précise que l'auteur portait un casque noir."
)
REPORT: dict[str, Any] = {
    "reference": "PV-2026-CASA-000123",
    "version": 2,
    "state": "approved",
    "classification": "restricted",
    "date": "2026-10-13",
    "offence": {"ar": "سرقة بالعنف", "fr": "Vol avec violence", "en": "Robbery with violence"},
    "place": {"ar": "شارع محمد الخامس، الدار البيضاء", "fr": "Boulevard Mohammed V, Casablanca"},
    "occurred_from": datetime(2026, 10, 12, 13, 30, tzinfo=UTC),
    "occurred_to": datetime(2026, 10, 12, 14, 0, tzinfo=UTC),
    "reported_at": "2026-10-12T15:10:00+00:00",
    "author": "Youssef Amrani",
    "narrative": NARRATIVE,
    "persons": [
        {"role": "complainant", "name_ar": "فاطمة الزهراء بنعلي", "name_latin": "Fatima Zahra Benali",
         "birth_date": "1990-05-04", "id_number": "BE123456"},
        {"role": "witness", "name_ar": "عبد الله الإدريسي", "name_latin": "Abdellah Idrissi",
         "birth_date": "1984-01-20", "id_number": "BK654321", "notes": "صاحب محل تجاري"},
        {"role": "suspect", "name_ar": "مجهول", "notes": "<script>alert('x')</script> & <b>bold</b>"},
    ],
    "objects": [{"kind": {"ar": "حقيبة يدوية", "fr": "Sac à main"}, "description": "cuir marron",
                 "identifier": "—"}],
    "approvals": [
        {"action": "submitted", "by": "Youssef Amrani", "at": "2026-10-12T16:00:00+00:00"},
        {"action": "returned", "by": "Karim Tazi", "at": "2026-10-12T17:00:00+00:00",
         "reason": "Préciser l'heure des faits"},
        {"action": "approved", "by": "Karim Tazi", "at": "2026-10-13T09:00:00+00:00"},
    ],
}
CASE: dict[str, Any] = {
    "reference": "CAS-2026-CASA-000045",
    "title": "سرقات بالعنف بشارع محمد الخامس",
    "state": "under_investigation",
    "classification": "confidential",
    "opened_at": "2026-10-14T10:00:00+00:00",
    "opened_by": "Karim Tazi",
    "summary": "Série de vols à l'arraché commis par deux individus à moto.",
    "team": [
        {"role": "lead", "name": "Youssef Amrani", "unit": UNIT},
        {"role": "member", "name": "سناء الفاسي", "unit": {"ar": "الشرطة القضائية", "fr": "Police judiciaire"}},
        {"role": "supervisor", "name": "Karim Tazi"},
    ],
    "incidents": [{"reference": "PV-2026-CASA-000123", "offence": REPORT["offence"],
                   "occurred_from": REPORT["occurred_from"], "place": REPORT["place"], "state": "approved"}],
    "tasks": [
        {"title": "Exploiter les caméras du boulevard", "assignee": "سناء الفاسي", "due": "2026-10-20",
         "state": "in_progress"},
        {"title": "الاستماع إلى الضحية الثانية", "assignee": "Youssef Amrani", "due": "2026-10-18", "state": "todo"},
    ],
    "timeline": [
        {"at": "2026-10-14T10:00:00+00:00", "actor": "Karim Tazi", "event": {"fr": "Ouverture", "ar": "فتح الملف"}},
    ],
}


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # bidi isolates and marks
    return re.sub(r"\s+", " ", text)


def _pages(pdf: bytes) -> list[str]:
    return [_normalise(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def _screenshot(pdf: bytes, name: str) -> Path:
    """Page 1 as PNG under test-artifacts/screenshots/ (poppler-utils' pdftoppm)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm is missing: install Debian's poppler-utils (make browser-deps)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    source = SHOTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(SHOTS / name)], check=True, timeout=60)
    return SHOTS / f"{name}.png"


@pytest.fixture(scope="module")
def report_ar() -> bytes:
    return render_incident_report(REPORT, lang="ar", unit=UNIT, printed_at=PRINTED)


@pytest.fixture(scope="module")
def report_fr() -> bytes:
    return render_incident_report(REPORT, lang="fr", unit=UNIT, printed_at=PRINTED)


def test_arabic_text_layer_has_the_names_in_logical_order(report_ar: bytes) -> None:
    assert report_ar.startswith(b"%PDF-")
    text = " ".join(_pages(report_ar))
    for name in ("فاطمة الزهراء بنعلي", "عبد الله الإدريسي", "الدائرة الأمنية الأولى أنفا",
                 "المديرية العامة للأمن الوطني", "ولاية أمن الدار البيضاء", "محضر واقعة", "سرقة بالعنف",
                 "Fatima Zahra Benali", "PV-2026-CASA-000123"):
        assert name in text, name
        assert name[::-1] not in text, f"{name} is in visual (reversed) order"
    assert "محدود التداول" in text  # classification marking
    # The Arabic was set in an Arabic font (shaping needs its tables), embedded in the file.
    assert "Noto-Naskh-Arabic" in _fonts(report_ar), "no Arabic font: install Debian's fonts-noto-core"


def test_french_pdf_has_reference_header_and_page_numbers(report_fr: bytes) -> None:
    pages = _pages(report_fr)
    n = len(pages)
    assert "PV-2026-CASA-000123" in pages[0]
    assert f"page 1 / {n}" in pages[0]
    for expected in ("Royaume du Maroc", "Direction générale de la sûreté nationale",
                     "Préfecture de police de Casablanca", "1er arrondissement de police d'Anfa",
                     "Rapport d'incident (procès-verbal)", "Vol avec violence",
                     "du 12/10/2026 14:30 au 15:00",  # 13:30 UTC is 14:30 in Casablanca (UTC+1 outside Ramadan)
                     "DIFFUSION RESTREINTE", "Exposé des faits", "Fatima Zahra Benali", "Plaignant(e)", "Approuvé"):
        assert expected in " ".join(pages), expected
    assert "فاطمة الزهراء بنعلي" in " ".join(pages)  # Arabic names in the French document too


def test_long_narrative_gives_several_numbered_pages() -> None:
    paragraph = ("Le requérant déclare avoir constaté, à son retour au domicile, que la porte d'entrée avait été "
                 "forcée et que plusieurs objets de valeur avaient disparu. ") * 4
    long_report = {**REPORT, "narrative": "\n\n".join(f"{i}. {paragraph}" for i in range(1, 41))}
    pages = _pages(render_incident_report(long_report, lang="fr", unit=UNIT, printed_at=PRINTED))
    n = len(pages)
    assert n >= 3
    for i, page in enumerate(pages, start=1):
        assert f"page {i} / {n}" in page
        if i > 1:
            assert "PV-2026-CASA-000123" in page  # running reference on the following pages
    assert "40. Le requérant" in pages[-1] or "40. Le requérant" in pages[-2]


def test_user_text_is_escaped(report_fr: bytes) -> None:
    html = incident_report_html(REPORT, lang="fr", unit=UNIT, printed_at=PRINTED)
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    text = " ".join(_pages(report_fr))
    assert "<script>alert('x')</script> & <b>bold</b>" in text  # printed as typed, not interpreted

    hostile = {**REPORT, "author": '"><img src="http://192.0.2.1/x.png"><style>@import "file:///etc/passwd";</style>'}
    html = incident_report_html(hostile, lang="fr", unit=UNIT)
    assert "<img" not in html and "<style>@import" not in html


def test_documents_never_fetch_urls(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = html_to_pdf('<p>x</p><img src="http://192.0.2.1/logo.png">'
                          '<link rel="stylesheet" href="file:///etc/hostname">')
    assert pdf.startswith(b"%PDF-")
    assert "documents never fetch URLs" in caplog.text


def test_case_summary_in_arabic_and_french() -> None:
    ar = " ".join(_pages(render_case_summary(CASE, lang="ar", unit=UNIT, printed_at=PRINTED)))
    for expected in ("CAS-2026-CASA-000045", "ملخص ملف القضية", "سرقات بالعنف بشارع محمد الخامس", "سناء الفاسي",
                     "الاستماع إلى الضحية الثانية", "قيد البحث", "المحقق الرئيسي", "سري", "PV-2026-CASA-000123"):
        assert expected in ar, expected
    fr_pages = _pages(render_case_summary(CASE, lang="fr", unit=UNIT, printed_at=PRINTED))
    fr = " ".join(fr_pages)
    for expected in ("CAS-2026-CASA-000045", "Résumé du dossier d'enquête", "En cours d'enquête", "CONFIDENTIEL",
                     "Enquêteur principal", "1er arrondissement de police d'Anfa", "Police judiciaire",
                     "Exploiter les caméras du boulevard", f"page 1 / {len(fr_pages)}", "Ouverture"):
        assert expected in fr, expected


def test_english_and_minimal_input() -> None:
    pages = _pages(render_incident_report({"reference": "PV-2026-X-000001"}, lang="en", unit={"name_en": "Unit X"}))
    assert pages[0].count("None") >= 3  # empty sections say so
    assert "PV-2026-X-000001" in pages[0] and "page 1 / 1" in pages[0] and "Incident report" in pages[0]


def test_draft_is_watermarked_and_unsigned() -> None:
    pages = _pages(render_incident_report({**REPORT, "state": "draft"}, lang="fr", unit=UNIT))
    assert all("Brouillon" in page for page in pages)  # watermark on every page
    assert "Approuvé : Karim Tazi" not in pages[-1] and "Rédacteur : Youssef Amrani" in pages[-1]


def test_missing_weasyprint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from amane.documents import DocumentsUnavailable, pdf

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed
    pdf._weasyprint.cache_clear()
    try:
        with pytest.raises(DocumentsUnavailable, match="weasyprint.*libpango-1.0-0.*fonts-noto-core"):
            render_incident_report(REPORT, lang="fr", unit=UNIT)
    finally:
        monkeypatch.undo()
        pdf._weasyprint.cache_clear()


def test_bad_input_names_the_field_and_rule() -> None:
    with pytest.raises(DocumentInputError) as caught:
        render_incident_report(REPORT, lang="de", unit=UNIT)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ValidationFailed)
    assert (caught.value.field, caught.value.rule) == ("lang", "document.lang")
    with pytest.raises(DocumentInputError) as caught:
        render_case_summary({"title": "x"}, lang="fr", unit=UNIT)
    assert (caught.value.field, caught.value.rule) == ("reference", "document.required")
    with pytest.raises(DocumentInputError) as caught:
        case_summary_html(CASE, lang="fr", unit=UNIT, tz="Mars/Olympus")
    assert caught.value.rule == "document.timezone"


def test_text_direction() -> None:
    assert text_direction("«محمد» Alaoui") == "rtl"
    assert text_direction("12, Mohamed العلوي") == "ltr"
    assert text_direction("123 -", "rtl") == "rtl"


def test_screenshots_of_page_one(report_ar: bytes, report_fr: bytes) -> None:
    shots = [
        _screenshot(report_ar, "document-incident-report-ar"),
        _screenshot(report_fr, "document-incident-report-fr"),
        _screenshot(render_case_summary(CASE, lang="ar", unit=UNIT, printed_at=PRINTED), "document-case-summary-ar"),
    ]
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

