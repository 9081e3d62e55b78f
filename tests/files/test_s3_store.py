"""The S3-compatible back end of the blob store, against a real S3 HTTP server on 127.0.0.1 (moto's
server, which implements the S3 REST protocol: PutObject with Content-MD5, multipart uploads,
CopyObject, ListObjectsV2). Same contract as the local store: content addressing, type by
content, size limit leaving nothing behind, a flipped byte found on read, a crash between the
object and the row swept after the grace period, the settings that choose the back end, and the
service and CLI paths that move a local store into a bucket and check it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amane.files import BlobError, BlobMissing, BlobStore, CorruptBlob, LocalBlobStore, UploadRefused
from amane.files.s3 import S3BlobStore, make_client
from amane.settings import Settings, blob_store
from tests.files.test_store import _child

moto_server = pytest.importorskip("moto.server")

ROOT = Path(__file__).resolve().parents[2]
CREDS = {"region": "us-east-1", "access_key": "amane-test", "secret_key": "amane-test-secret"}
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
#: S3's LastModified has a resolution of one second: ages in these tests are whole seconds.
GRACE = 2


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture()
def bucket(endpoint: str) -> str:
    name = f"amane-{uuid.uuid4().hex[:12]}"
    make_client(endpoint_url=endpoint, **CREDS).create_bucket(Bucket=name)
    return name


@pytest.fixture()
def store(endpoint: str, bucket: str, tmp_path: Path) -> S3BlobStore:
    return S3BlobStore(make_client(endpoint_url=endpoint, **CREDS), bucket, prefix="amane/blobs",
                       spool_dir=tmp_path / "spool")


def _keys(store: S3BlobStore) -> list[str]:
    page = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(obj["Key"] for obj in page.get("Contents", ()))


def test_put_read_layout_and_idempotence(store: S3BlobStore) -> None:
    data = PDF + os.urandom(3 * 1024 * 1024)
    blob = store.put(io.BytesIO(data), max_bytes=10 * 1024 * 1024, allowed_types={"application/pdf"},
                     filename="scan.pdf")
    sha = hashlib.sha256(data).hexdigest()
    assert (blob.sha256, blob.size, blob.media_type, blob.created, blob.path) == (
        sha, len(data), "application/pdf", True, None)
    assert _keys(store) == [f"amane/blobs/{sha[:2]}/{sha[2:4]}/{sha}"]
    head = store.client.head_object(Bucket=store.bucket, Key=store.key_of(sha))
    assert head["ContentType"] == "application/pdf" and head["Metadata"]["sha256"] == sha
    assert store.read(sha) == data and store.exists(sha) and store.size(sha) == len(data)
    assert store.verify(sha) == len(data)
    again = store.put(io.BytesIO(data), max_bytes=10 * 1024 * 1024, allowed_types={"application/pdf"})
    assert (again.sha256, again.created) == (sha, False)
    assert list(store.iter_blobs()) == [sha] and list(store.tmp.iterdir()) == []
    assert isinstance(store, BlobStore)


def test_refusals_send_nothing_and_leave_nothing(store: S3BlobStore) -> None:
    with pytest.raises(UploadRefused) as caught:
        store.put(io.BytesIO(PDF + b"x" * 5000), max_bytes=1000, allowed_types={"application/pdf"})
    assert caught.value.rule == "file.too_large"
    with pytest.raises(UploadRefused) as caught:  # an executable named .pdf, refused by its content
        store.put(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 400), max_bytes=10**6,
                  allowed_types={"application/pdf"}, filename="report.pdf")
    assert caught.value.rule == "file.type_not_allowed"
    with pytest.raises(UploadRefused) as caught:
        store.put(io.BytesIO(b""), max_bytes=10, allowed_types={"text/plain"})
    assert caught.value.rule == "file.empty"
    assert _keys(store) == [] and list(store.tmp.iterdir()) == []


def test_flipped_byte_in_the_bucket_is_detected_on_read(store: S3BlobStore) -> None:
    data = PDF + os.urandom(1024 * 1024)
    blob = store.put(io.BytesIO(data), max_bytes=10**7, allowed_types={"application/pdf"})
    damaged = bytearray(data)
    damaged[700_000] ^= 0x01
    store.client.put_object(Bucket=store.bucket, Key=store.key_of(blob.sha256), Body=bytes(damaged))
    with pytest.raises(CorruptBlob) as caught:
        store.read(blob.sha256)
    assert (caught.value.rule, caught.value.sha256) == ("file.corrupt", blob.sha256)
    reader = store.open(blob.sha256)
    got = bytearray()
    with pytest.raises(CorruptBlob):  # streamed out, then refused at the end: a download is aborted
        for chunk in reader.chunks(256 * 1024):
            got += chunk
    assert len(got) == len(data) and not reader.verified and reader.closed


def test_missing_and_malformed_hashes(store: S3BlobStore) -> None:
    with pytest.raises(BlobMissing) as caught:
        store.read("0" * 64)
    assert (caught.value.field, caught.value.rule) == ("file", "file.missing")
    assert not store.exists("0" * 64) and store.delete("0" * 64) is False
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(BlobError) as err:
            store.open(bad)
        assert err.value.rule == "file.sha256_format"


def test_multipart_upload_of_a_large_file(store: S3BlobStore) -> None:
    store.multipart_bytes = 6 * 1024 * 1024  # parts of 8 MiB: 3 parts
    data = b"RIFF" + b"\x00" * 4 + b"WAVEfmt " + os.urandom(20 * 1024 * 1024)
    blob = store.put(io.BytesIO(data), max_bytes=10**8, allowed_types={"audio/wav"})
    assert blob.created and store.size(blob.sha256) == len(data)
    assert store.read(blob.sha256) == data


def test_sweep_removes_orphans_after_the_grace_period_and_a_reupload_protects(store: S3BlobStore) -> None:
    allowed = {"text/plain"}
    referenced = store.put(io.BytesIO(b"referenced by a committed row"), max_bytes=100, allowed_types=allowed)
    orphan = store.put(io.BytesIO(b"stored, then the process died before COMMIT"), max_bytes=100,
                       allowed_types=allowed)
    reused = store.put(io.BytesIO(b"old orphan, about to be attached again"), max_bytes=100, allowed_types=allowed)
    (store.tmp / "put-abandoned.part").write_bytes(b"half an upload")
    old = time.time() - 10
    os.utime(store.tmp / "put-abandoned.part", (old, old))

    report = store.sweep({referenced.sha256}, older_than_s=GRACE)  # all still young
    assert report.removed == [] and report.kept_young == 2 and report.removed_temp == 1

    time.sleep(GRACE + 1.2)
    snapshot = {referenced.sha256}  # read from the database before the re-upload's row commits
    again = store.put(io.BytesIO(b"old orphan, about to be attached again"), max_bytes=100, allowed_types=allowed)
    assert not again.created
    report = store.sweep(snapshot, older_than_s=GRACE)
    assert report.removed == [orphan.sha256] and report.referenced == 1 and report.kept_young == 1
    assert sorted(store.iter_blobs()) == sorted([referenced.sha256, reused.sha256])
    assert store.read(referenced.sha256) == b"referenced by a committed row"


def test_kill_9_between_object_and_commit_leaves_no_row_and_sweep_removes_it(
    store: S3BlobStore, endpoint: str, tmp_path: Path,
) -> None:
    db = tmp_path / "workflow.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE attachments (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL)")
        kept = store.put(io.BytesIO(b"attached earlier"), max_bytes=100, allowed_types={"text/plain"})
        con.execute("INSERT INTO attachments (sha256) VALUES (?)", (kept.sha256,))
    con.close()
    child = _child(f"""
        import io, sqlite3, time
        from amane.files.s3 import S3BlobStore, make_client

        client = make_client(endpoint_url={endpoint!r}, **{CREDS!r})
        blob = S3BlobStore(client, {store.bucket!r}, prefix="amane/blobs", spool_dir={str(store.tmp)!r}).put(
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
    assert store.sweep(referenced, older_than_s=3600).removed == []  # within the grace period
    time.sleep(GRACE + 1.2)
    assert store.sweep(referenced, older_than_s=GRACE).removed == [orphan]
    assert list(store.iter_blobs()) == [kept.sha256] and list(store.tmp.iterdir()) == []


def test_settings_choose_the_back_end(endpoint: str, bucket: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AMANE_ATTACHMENTS_S3_BUCKET"):
        Settings(attachments_backend="s3", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="attachments_backend"):
        Settings(attachments_backend="ftp", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    local = blob_store(Settings(data_dir=tmp_path, _env_file=None))  # type: ignore[call-arg]
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "blobs"
    s3 = blob_store(Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, _env_file=None, attachments_backend="s3", attachments_s3_bucket=bucket,
        attachments_s3_endpoint=endpoint, attachments_s3_region="us-east-1",
        attachments_s3_access_key="k", attachments_s3_secret_key="s", attachments_s3_prefix="x/"))
    assert isinstance(s3, S3BlobStore) and s3.tmp == tmp_path / "spool"
    blob = s3.put(io.BytesIO(PDF), max_bytes=1000, allowed_types={"application/pdf"})
    assert s3.key_of(blob.sha256).startswith("x/") and s3.read(blob.sha256) == PDF


def _s3_env(endpoint: str, bucket: str) -> dict[str, Any]:
    return {"attachments_backend": "s3", "attachments_s3_bucket": bucket, "attachments_s3_endpoint": endpoint,
            "attachments_s3_region": "us-east-1", "attachments_s3_access_key": "k", "attachments_s3_secret_key": "s"}


def test_moving_a_local_store_into_a_bucket(world: Any, endpoint: str, bucket: str, tmp_path: Path) -> None:
    """Attachments written to the local directory, copied into S3 by the service (what `amane
    attachments copy --from-dir` runs), then served from S3 with every check still on."""
    from amane.services.container import Services
    from tests.conftest import make_settings

    svc = world.svc
    chief = world.actor("REGA", "unit_chief")
    receipt = svc.complaints.take(chief, {"complainant_name": "Amina Tazi", "category": "theft",
                                          "occurred_from": "2026-11-20T21:30", "facts": "Vol de téléphone"})
    cid = receipt.complaint_id
    views = [svc.attachments.upload(chief, "complaint", cid, io.BytesIO(PDF + bytes([i]) * 10),
                                    filename=f"p{i}.pdf") for i in range(3)]
    local_root = svc.attachments.store.root
    moved = Services.create(make_settings(tmp_path, svc.settings.database_url, **_s3_env(endpoint, bucket)))
    try:
        assert isinstance(moved.attachments.store, S3BlobStore)
        report = moved.attachments.check()
        assert report["checked"] == 3 and len(report["missing"]) == 3
        report = moved.attachments.copy_from(LocalBlobStore(local_root))
        assert (report["copied"], report["present"], report["missing"], report["corrupt"]) == (3, 0, [], [])
        assert moved.attachments.copy_from(LocalBlobStore(local_root))["present"] == 3  # idempotent
        assert moved.attachments.check() == {"checked": 3, "bytes": sum(v.size for v in views),
                                             "missing": [], "corrupt": []}
        view, data = moved.attachments.read_all(chief, views[1].id)
        assert data == PDF + b"\x01" * 10 and view.sha256 == views[1].sha256
        more = moved.attachments.upload(chief, "complaint", cid, io.BytesIO(PDF + b"new"),
                                        filename="new.pdf")
        assert moved.attachments.store.exists(more.sha256) and not (local_root / more.sha256[:2]).exists()
        outsider = world.actor("REGB", "unit_chief")
        from amane.services.errors import NotFound

        with pytest.raises(NotFound):  # need-to-know does not depend on where the bytes are
            moved.attachments.download(outsider, more.id)
    finally:
        moved.close()


def test_cli_copy_and_check(endpoint: str, bucket: str, tmp_path: Path) -> None:
    """`amane attachments copy --from-dir` and `amane attachments check` on a real database."""
    from amane.services.container import Services
    from amane.store import migrate
    from tests.conftest import make_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    svc = Services.create(make_settings(tmp_path, url))
    migrate.upgrade(svc.db)
    blob = svc.attachments.store.put(io.BytesIO(PDF), max_bytes=1000, allowed_types={"application/pdf"})
    from amane.store.tables import Attachment
    from amane.store.types import utcnow

    with svc.db.write() as s:
        s.add(Attachment(owner_kind="case", owner_id=1, sha256=blob.sha256, size=blob.size,
                         media_type=blob.media_type, filename="a.pdf", uploaded_at=utcnow(), uploaded_by=None))
    svc.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "AMANE_DATABASE_URL": url,
           "AMANE_DATA_DIR": str(tmp_path / "data"),
           **{f"AMANE_{k.upper()}": v for k, v in _s3_env(endpoint, bucket).items()}}

    def amane(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "amane.cli.main", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    out = amane("attachments", "check", "--json")
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)["missing"] == [blob.sha256]
    out = amane("attachments", "copy", "--from-dir", str(tmp_path / "data" / "blobs"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["copied"] == 1
    out = amane("attachments", "check", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["checked"] == 1
    out = amane("attachments", "copy", "--from-dir", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and "--from-dir" in out.stderr
