"""The attachment blob store: limits, type by content, integrity on read, the sweeper, and crashes.

The crash tests run a real child process and kill it with SIGKILL: once in the middle of writing a
big blob, once between the blob's rename and the commit of the (SQLite) row that references it.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from amane.files import (
    DEFAULT_ALLOWED_TYPES,
    BlobError,
    BlobMissing,
    BlobStore,
    CorruptBlob,
    LocalBlobStore,
    UploadRefused,
    sniff_bytes,
)
from amane.model.errors import ValidationFailed

DAY = 24 * 3600
ROOT = Path(__file__).resolve().parents[2]


class Trickle:
    """A stream that hands out at most ``step`` bytes per read, like a slow network upload."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._buf = io.BytesIO(data)
        self._step = step

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(self._step if n < 0 else min(n, self._step))


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def _leftovers(store: LocalBlobStore) -> tuple[list[str], list[str]]:
    return list(store.iter_blobs()), sorted(p.name for p in store.tmp.iterdir())


@pytest.fixture()
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


# -- samples: the first bytes of real files of each format -------------------------------------

def _zip(entries: list[tuple[str, str]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buf.getvalue()


def _ftyp(brand: bytes, compatible: bytes) -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + compatible + b"\x00" * 200


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 300 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00" + b"\x00" * 400
SAMPLES = {
    "image/jpeg": JPEG,
    "image/png": PNG,
    "image/gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 40,
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40,
    "image/tiff": b"II*\x00\x08\x00\x00\x00" + b"\x00" * 40,
    "image/heic": _ftyp(b"heic", b"mif1heic"),
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00" + b"\x00" * 400,
    "audio/wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00" + b"\x00" * 40,
    "audio/ogg": b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 100,
    "audio/mp4": _ftyp(b"M4A ", b"M4A isom"),
    "video/mp4": _ftyp(b"isom", b"isomiso2"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _zip(
        [("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<r/>"), ("word/document.xml", "<w/>")]),
    "text/plain": "محضر رقم 12/2026\nProcès-verbal d'audition\tligne 2\r\n".encode(),
    "application/x-msdownload": EXE,
    "application/octet-stream": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("media_type", sorted(SAMPLES))
def test_type_is_decided_by_content(store: LocalBlobStore, media_type: str) -> None:
    data = SAMPLES[media_type]
    assert sniff_bytes(data) == media_type
    blob = store.put(io.BytesIO(data), max_bytes=10_000, allowed_types={media_type}, filename="upload.bin")
    assert blob.media_type == media_type
    assert blob.sha256 == hashlib.sha256(data).hexdigest()


def test_put_layout_read_and_idempotence(store: LocalBlobStore) -> None:
    data = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024)  # several chunks
    blob = store.put(io.BytesIO(data), max_bytes=10 * 1024 * 1024, allowed_types=DEFAULT_ALLOWED_TYPES)
    sha = hashlib.sha256(data).hexdigest()
    assert (blob.sha256, blob.size, blob.media_type, blob.created) == (sha, len(data), "application/pdf", True)
    assert blob.path == store.root / sha[:2] / sha[2:4] / sha
    assert blob.path.read_bytes() == data
    assert store.read(sha) == data and store.exists(sha) and store.size(sha) == len(data)
    assert store.verify(sha) == len(data)

    again = store.put(Trickle(data, 65536), max_bytes=10 * 1024 * 1024, allowed_types={"application/pdf"})
    assert (again.sha256, again.created) == (sha, False)
    assert _leftovers(store) == ([sha], [])
    assert isinstance(store, BlobStore)


def test_size_limit_refuses_and_leaves_nothing(store: LocalBlobStore) -> None:
    limit = 64 * 1024
    with pytest.raises(UploadRefused) as caught:
        store.put(Trickle(b"a" * (limit + 1), 4096), max_bytes=limit, allowed_types={"text/plain"},
                  filename="notes.txt")
    err = caught.value
    assert isinstance(err, ValueError) and isinstance(err, ValidationFailed)
    assert (err.field, err.rule) == ("file", "file.too_large")
    assert [(e.field, e.rule) for e in err.errors] == [("file", "file.too_large")]
    assert "'notes.txt' is larger than the limit of 64 KiB (65536 bytes)" in str(err)
    assert err.details == {"max_bytes": limit}
    assert _leftovers(store) == ([], [])
    # Exactly at the limit is accepted.
    assert store.put(io.BytesIO(b"a" * limit), max_bytes=limit, allowed_types={"text/plain"}).size == limit


def test_a_jpg_that_is_an_exe_is_refused(store: LocalBlobStore) -> None:
    with pytest.raises(UploadRefused) as caught:
        store.put(io.BytesIO(EXE), max_bytes=10**6, allowed_types=DEFAULT_ALLOWED_TYPES, filename="photo.jpg")
    assert caught.value.rule == "file.type_not_allowed"
    assert "'photo.jpg' is application/x-msdownload by its content" in str(caught.value)
    assert caught.value.details["media_type"] == "application/x-msdownload"
    assert _leftovers(store) == ([], [])
    # ...and a real PNG called .pdf is stored as what it is.
    assert store.put(io.BytesIO(PNG), max_bytes=10**6, allowed_types={"image/*"}, filename="scan.pdf").media_type \
        == "image/png"


def test_big_binary_refused_early_without_reading_it_all(store: LocalBlobStore) -> None:
    reads = 0

    class Endless:
        def read(self, n: int = -1) -> bytes:
            nonlocal reads
            reads += 1
            return b"\x00\x01\x02" * 100_000

    with pytest.raises(UploadRefused, match="application/octet-stream"):
        store.put(Endless(), max_bytes=10**9, allowed_types={"text/plain", "image/png"})
    assert reads == 1
    assert _leftovers(store) == ([], [])


def test_text_rules(store: LocalBlobStore) -> None:
    arabic = "الشكاية رقم ١٢: سرقة دراجة نارية\n".encode() * 500  # multi-byte letters split across reads
    assert store.put(Trickle(arabic, 4095), max_bytes=10**6, allowed_types={"text/plain"}).media_type == "text/plain"
    latin1 = "Procès-verbal".encode("latin-1")  # not UTF-8
    nul = b"plain text\x00with a NUL"
    for data in (latin1, nul):
        with pytest.raises(UploadRefused, match="application/octet-stream"):
            store.put(io.BytesIO(data), max_bytes=10**6, allowed_types={"text/plain"})
    with pytest.raises(UploadRefused) as caught:
        store.put(io.BytesIO(b""), max_bytes=10**6, allowed_types={"text/plain"})
    assert caught.value.rule == "file.empty"
    assert len(list(store.iter_blobs())) == 1 and _leftovers(store)[1] == []


def test_flipped_byte_is_detected_on_read(store: LocalBlobStore) -> None:
    data = b"%PDF-1.4\n" + os.urandom(2 * 1024 * 1024)
    blob = store.put(io.BytesIO(data), max_bytes=10**7, allowed_types={"application/pdf"})
    assert blob.path is not None
    blob.path.chmod(0o640)
    with open(blob.path, "r+b") as f:
        f.seek(1_500_000)
        byte = f.read(1)
        f.seek(1_500_000)
        f.write(bytes([byte[0] ^ 0x01]))

    with pytest.raises(CorruptBlob) as caught:
        store.read(blob.sha256)
    err = caught.value
    assert isinstance(err, ValueError)
    assert (err.field, err.rule, err.sha256) == ("file", "file.corrupt", blob.sha256)
    assert err.actual != blob.sha256
    with pytest.raises(CorruptBlob):
        store.verify(blob.sha256)
    # Streaming hands out the bytes but fails at the end, so a download is aborted, not completed.
    reader = store.open(blob.sha256)
    got = bytearray()
    with pytest.raises(CorruptBlob):
        for chunk in reader.chunks(256 * 1024):
            got += chunk
    assert len(got) == len(data) and not reader.verified and reader.closed

    # A truncated copy (wrong size) is replaced by the good bytes when the same content comes again.
    with open(blob.path, "r+b") as f:
        f.truncate(100)
    store.put(io.BytesIO(data), max_bytes=10**7, allowed_types={"application/pdf"})
    assert store.read(blob.sha256) == data


def test_missing_and_malformed_hashes(store: LocalBlobStore) -> None:
    with pytest.raises(BlobMissing) as caught:
        store.read("0" * 64)
    assert (caught.value.field, caught.value.rule) == ("file", "file.missing")
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(BlobError) as err:
            store.open(bad)
        assert (err.value.field, err.value.rule) == ("sha256", "file.sha256_format")


def test_sweep_after_crash_between_write_and_commit(store: LocalBlobStore) -> None:
    allowed = {"text/plain"}
    referenced = store.put(io.BytesIO(b"referenced by a committed row"), max_bytes=100, allowed_types=allowed)
    orphan = store.put(io.BytesIO(b"stored, then the process died before COMMIT"), max_bytes=100,
                       allowed_types=allowed)
    young = store.put(io.BytesIO(b"stored a moment ago, row about to commit"), max_bytes=100, allowed_types=allowed)
    for blob in (referenced, orphan):
        assert blob.path is not None
        _age(blob.path, 2 * DAY)

    report = store.sweep({referenced.sha256}, older_than_s=DAY)
    assert report.removed == [orphan.sha256]
    assert (report.referenced, report.kept_young, report.removed_temp) == (1, 1, 0)
    assert store.read(referenced.sha256) == b"referenced by a committed row"
    assert store.exists(young.sha256) and not store.exists(orphan.sha256)

    # Once past the grace period the young orphan goes too; referenced blobs never do.
    assert young.path is not None
    _age(young.path, 2 * DAY)
    assert store.sweep([referenced.sha256], older_than_s=DAY).removed == [young.sha256]
    assert list(store.iter_blobs()) == [referenced.sha256]


def test_putting_again_protects_an_old_orphan_from_the_sweep(store: LocalBlobStore) -> None:
    """An old unreferenced blob uploaded again (its row about to commit) must survive a sweep whose
    snapshot of references predates that row."""
    first = store.put(io.BytesIO(b"same evidence photo"), max_bytes=100, allowed_types={"text/plain"})
    assert first.path is not None
    _age(first.path, 3 * DAY)
    snapshot: set[str] = set()  # read from the database before the new row commits
    again = store.put(io.BytesIO(b"same evidence photo"), max_bytes=100, allowed_types={"text/plain"})
    assert not again.created
    assert store.sweep(snapshot, older_than_s=DAY).removed == []
    assert store.exists(first.sha256)


def test_concurrent_puts_of_the_same_content(store: LocalBlobStore) -> None:
    data = b"RIFF" + b"\x00" * 4 + b"WAVEfmt " + os.urandom(2 * 1024 * 1024)
    barrier = threading.Barrier(12)

    def upload(i: int) -> tuple[str, bool]:
        barrier.wait()
        blob = store.put(Trickle(data, 256 * 1024 + i), max_bytes=10**7, allowed_types={"audio/wav"})
        return blob.sha256, blob.created

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(upload, range(12)))
    sha = hashlib.sha256(data).hexdigest()
    assert {r[0] for r in results} == {sha}
    assert any(created for _, created in results)
    assert _leftovers(store) == ([sha], [])
    assert store.read(sha) == data

    # Meanwhile a sweep that does not know the hash yet must not remove it (it is young).
    assert store.sweep(set(), older_than_s=60).removed == []


# -- crashes: SIGKILL a child process -----------------------------------------------------------

def _child(code: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)


def test_kill_9_while_writing_a_big_blob_leaves_only_a_temp_file(store: LocalBlobStore, tmp_path: Path) -> None:
    child = _child(f"""
        from amane.files import LocalBlobStore

        class Endless:  # a huge upload arriving from the network
            def read(self, n=-1):
                return b"%PDF-1.7 " * 10_000

        LocalBlobStore({str(store.root)!r}).put(Endless(), max_bytes=10**12, allowed_types={{"application/pdf"}})
    """, tmp_path)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            parts = list(store.tmp.glob("*.part"))
            if parts and parts[0].stat().st_size > 8 * 1024 * 1024:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the child never started writing")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    blobs, temps = _leftovers(store)
    assert blobs == [] and len(temps) == 1
    assert store.sweep(set(), older_than_s=DAY).removed_temp == 0  # might still be a live upload
    _age(store.tmp / temps[0], 2 * DAY)
    report = store.sweep(set(), older_than_s=DAY)
    assert (report.removed_temp, report.removed) == (1, [])
    assert _leftovers(store) == ([], [])


def test_kill_9_between_blob_and_commit_leaves_no_row_and_sweep_removes_the_file(
    store: LocalBlobStore, tmp_path: Path,
) -> None:
    db = tmp_path / "workflow.db"
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE attachments (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL)")
        kept = store.put(io.BytesIO(b"attached earlier"), max_bytes=100, allowed_types={"text/plain"})
        con.execute("INSERT INTO attachments (sha256) VALUES (?)", (kept.sha256,))
    con.close()

    child = _child(f"""
        import io, sqlite3, sys, time
        from amane.files import LocalBlobStore

        blob = LocalBlobStore({str(store.root)!r}).put(
            io.BytesIO(b"scan of the complaint"), max_bytes=100, allowed_types={{"text/plain"}})
        con = sqlite3.connect({str(db)!r}, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO attachments (sha256) VALUES (?)", (blob.sha256,))
        print(blob.sha256, flush=True)  # row written, not committed
        time.sleep(60)
        con.execute("COMMIT")
    """, tmp_path)
    try:
        assert child.stdout is not None
        orphan = child.stdout.readline().strip()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert len(orphan) == 64 and store.exists(orphan)

    con = sqlite3.connect(db)
    referenced = {row[0] for row in con.execute("SELECT sha256 FROM attachments")}
    con.close()
    assert referenced == {kept.sha256}  # no dangling row
    assert store.sweep(referenced, older_than_s=DAY).removed == []  # within the grace period
    for sha in (orphan, kept.sha256):
        _age(store.path_of(sha), 2 * DAY)
    assert store.sweep(referenced, older_than_s=DAY).removed == [orphan]
    assert _leftovers(store) == ([kept.sha256], [])
