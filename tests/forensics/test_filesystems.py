"""File systems through The Sleuth Kit on Debian's real sample images (forensics-samples-*): listing with
deleted files, hashes against the original files, partitions, timeline CSV, extraction, bad images.

Ground truth (package README): every image holds the files of ``original-files`` and then all directories
whose name ends in "2" were deleted; ``fs.multiple`` has four partitions (btrfs at sector 2048, ext4 at
227328, exFAT at 309248, NTFS at 391168), each with ``test.txt`` and a Debian logo from ``original-multiple``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from amane.forensics.filesystems import (
    TIMELINE_COLUMNS,
    FileEntry,
    Image,
    ImageError,
    SleuthKitMissing,
    extract_file,
    find_entry,
    hash_files,
    list_files,
    open_image,
    read_file,
    timeline,
    tools_available,
    write_timeline_csv,
)

SAMPLES = Path("/usr/share/forensics-samples")
ORIGINAL = SAMPLES / "original-files"

pytestmark = [
    pytest.mark.skipif(not tools_available(), reason="The Sleuth Kit is not installed (Debian package sleuthkit)"),
    pytest.mark.skipif(not (SAMPLES / "fs.ntfs.xz").exists() or not ORIGINAL.is_dir(),
                       reason="Debian packages forensics-samples-files and forensics-samples-ntfs are not installed"),
]


def sample(name: str) -> Path:
    p = SAMPLES / name
    if not p.exists():
        pytest.skip(f"{p} missing: install the Debian package forensics-samples-{name.split('.')[1]}")
    return p


def originals(*dirs: str) -> dict[str, Path]:
    """Relative path -> original file, for the given top-level folders of original-files."""
    out = {}
    for d in dirs:
        for p in sorted((ORIGINAL / d).iterdir()):
            out[f"{d}/{p.name}"] = p
    return out


def same_content_expected(rel: str) -> bool:
    """PNG originals are excluded from content checks: Debian's package build normalises PNG files
    (strip-nondeterminism rewrites their time chunk), so the packaged ``debian.png`` and ``debian_logo.png``
    keep their size but no longer equal the copies made inside the images (same in every image)."""
    return not rel.endswith(".png")


def digests(data: bytes) -> tuple[str, str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()


@pytest.fixture(scope="module")
def ntfs() -> Iterator[Image]:
    with open_image(sample("fs.ntfs.xz")) as img:
        yield img


@pytest.fixture(scope="module")
def multiple() -> Iterator[Image]:
    with open_image(sample("fs.multiple.xz")) as img:
        yield img


def test_compressed_image_is_opened_and_its_temporary_copy_removed(ntfs: Image) -> None:
    assert ntfs.raw_path != ntfs.path and ntfs.raw_path.exists()
    assert ntfs.size == 50 << 20  # the README's "dcfldd ... bs=1M count=50"
    assert [(p.number, p.start, p.fs_type) for p in ntfs.partitions] == [(1, 2048, "ntfs")]
    with open_image(sample("fs.multiple.xz")) as img:
        raw = img.raw_path
        assert raw.exists()
    assert not raw.exists()


def test_ntfs_lists_every_original_file_and_the_deleted_ones(ntfs: Image) -> None:
    entries = {e.path: e for e in list_files(ntfs)}
    kept = originals("audio1", "movie1", "pic1", "text1")
    deleted = originals("audio2", "movie2", "pic2", "text2")
    for rel, orig in kept.items():
        e = entries[rel]
        assert e.type == "r" and not e.deleted and e.size == orig.stat().st_size, e
        assert e.mtime is not None and e.mtime.tzinfo is not None
    for rel, orig in deleted.items():
        assert entries[rel].deleted and entries[rel].size == orig.stat().st_size, entries[rel]
    assert entries["audio2"].deleted and entries["audio2"].type == "d"
    only_deleted = list(list_files(ntfs, deleted_only=True))
    assert {e.path for e in only_deleted} >= set(deleted) and all(e.deleted for e in only_deleted)
    assert not any(e.deleted for e in list_files(ntfs, deleted=False))


def test_hashes_of_live_and_deleted_files_equal_the_originals(ntfs: Image) -> None:
    truth = {k: v for k, v in originals("audio1", "pic1", "audio2", "text2").items() if same_content_expected(k)}
    entries = [e for e in list_files(ntfs) if e.path in truth]
    assert len(entries) == len(truth)
    seen: list[tuple[int, int]] = []
    hashed = list(hash_files(ntfs, entries, progress=lambda done, total: seen.append((done, total))))
    for e in hashed:
        assert (e.sha256, e.md5, e.sha1) == digests(truth[e.path].read_bytes()), e.path
        assert e.complete
    total = sum(e.size for e in entries)
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert read_file(ntfs, hashed[0]) == truth[hashed[0].path].read_bytes()


def test_exfat_recovers_a_deleted_file_and_ext4_shows_deleted_folders() -> None:
    with open_image(sample("fs.exfat.xz")) as img:
        assert img.partitions[0].fs_type == "exfat"
        e = next(e for e in list_files(img, deleted_only=True) if e.path == "audio2/deleted.mp3")
        (h,) = hash_files(img, [e])
        assert h.sha256 == hashlib.sha256((ORIGINAL / "audio2/deleted.mp3").read_bytes()).hexdigest()
    with open_image(sample("fs.ext4.xz")) as img:
        assert img.partitions[0].fs_type == "ext4"
        entries = {e.path: e for e in list_files(img)}
        for d in ("audio2", "movie2", "pic2", "text2"):
            assert entries[d].deleted and entries[d].type == "d"
        assert not entries["pic1/IMG_1054.JPG"].deleted


def test_multiple_partitions_and_an_unsupported_file_system(multiple: Image) -> None:
    parts = [(p.number, p.start, p.fs_type) for p in multiple.partitions]
    assert parts == [(1, 2048, None), (2, 227328, "ext4"), (3, 309248, "exfat"), (4, 391168, "ntfs")]
    assert multiple.partitions[0].error and "file system" in multiple.partitions[0].error
    assert any(s.what.startswith("partition 1") for s in multiple.skipped)  # btrfs: TSK has no reader
    tests = [e for e in list_files(multiple) if e.path == "test.txt"]
    assert sorted(e.partition for e in tests) == [2, 3, 4]
    truth = hashlib.sha256((SAMPLES / "original-multiple/test.txt").read_bytes()).hexdigest()
    assert {h.sha256 for h in hash_files(multiple, tests)} == {truth}
    with pytest.raises(ImageError, match="partition"):
        find_entry(multiple, tests[0].inode)  # three file systems: which one?


def test_timeline_csv_agrees_with_the_listing(multiple: Image, tmp_path: Path) -> None:
    events = timeline(multiple)
    assert events == sorted(events, key=lambda e: (e.time, e.partition, e.path, e.macb))
    out = tmp_path / "timeline.csv"
    assert write_timeline_csv(events, out) == len(events)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == TIMELINE_COLUMNS and len(rows) == len(events)
    # every time of every listed entry appears in the timeline with its letter
    # (the listing gives FAT-family access times as dates only, so those are compared by day)
    by_key: dict[tuple[str, str, str], set[str]] = {}
    for r in rows:
        datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
        for c in r["macb"].replace(".", ""):
            when = r["time"][:10] if c == "a" else r["time"]
            by_key.setdefault((r["partition"], r["inode"], when), set()).add(c)
    listed = [e for e in list_files(multiple) if e.path == "debian_logo.jpg"]
    assert len(listed) == 3
    for e in listed:
        for letter, t in (("m", e.mtime), ("a", e.atime), ("c", e.ctime), ("b", e.crtime)):
            if t is not None:
                when = t.strftime("%Y-%m-%d" if letter == "a" else "%Y-%m-%dT%H:%M:%SZ")
                assert letter in by_key[(str(e.partition), e.inode, when)], (e, letter)
    with pytest.raises(FileExistsError):
        write_timeline_csv(events, out)


def test_extract_writes_a_new_file_and_never_overwrites(ntfs: Image, tmp_path: Path) -> None:
    entry = find_entry(ntfs, next(e.inode for e in list_files(ntfs) if e.path == "pic2/d-debian.jpg"))
    assert entry.deleted
    dest = tmp_path / "d-debian.jpg"
    done = extract_file(ntfs, entry, dest)
    original = (ORIGINAL / "pic2/d-debian.jpg").read_bytes()
    assert dest.read_bytes() == original and done.sha256 == hashlib.sha256(original).hexdigest()
    dest.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        extract_file(ntfs, entry, dest)
    assert dest.read_bytes() == b"keep me"
    assert sorted(os.listdir(tmp_path)) == ["d-debian.jpg"]  # no temporary file left behind
    with pytest.raises(KeyError, match="999999"):
        find_entry(ntfs, "999999")


def test_truncated_image_is_read_as_far_as_it_goes(ntfs: Image, tmp_path: Path) -> None:
    cut = tmp_path / "cut.ntfs"
    with open(ntfs.raw_path, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(20_000_000))
    with open_image(cut) as img:
        assert any("past the end of the image" in s.reason for s in img.skipped)
        entries = list(list_files(img))
        assert any(e.path == "pic1/IMG_1054.JPG" for e in entries)
        hashed = [e for e in hash_files(img, entries) if e.type == "r"]
    failed = [e for e in hashed if not e.complete]
    good = [e for e in hashed if e.complete and e.path.startswith(("audio1/", "pic1/", "text1/"))
            and same_content_expected(e.path)]
    assert failed and good  # part of the files lie beyond the cut, part before it
    for e in good:
        assert e.sha256 == hashlib.sha256((ORIGINAL / e.path).read_bytes()).hexdigest()


def test_truncated_compressed_image_keeps_what_was_there(tmp_path: Path) -> None:
    part = tmp_path / "part.ext4.xz"
    with open(sample("fs.ext4.xz"), "rb") as src:
        part.write_bytes(src.read(3_000_000))
    with open_image(part) as img:
        assert any("truncated" in s.reason and s.what == part.name for s in img.skipped)
        assert img.partitions[0].fs_type == "ext4"
        assert any(e.path == "audio1/debian.mp3" for e in list_files(img))


def test_corrupt_empty_and_missing_images_give_clear_errors(tmp_path: Path) -> None:
    noise = tmp_path / "noise.img"
    noise.write_bytes(os.urandom(1 << 20))
    with pytest.raises(ImageError, match="neither a partition table .* nor a file system"):
        open_image(noise)
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        open_image(empty)
    with pytest.raises(FileNotFoundError):
        open_image(tmp_path / "missing.img")


def test_missing_sleuth_kit_names_the_debian_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("fls") is None
    with pytest.raises(SleuthKitMissing, match="sleuthkit"):
        open_image(sample("fs.multiple.xz"))


def test_entries_serialise_with_utc_times(multiple: Image) -> None:
    e: FileEntry = next(e for e in list_files(multiple) if e.path == "test.txt" and e.partition == 4)
    d = e.to_dict()
    assert d["inode"] == e.inode and d["mtime"].endswith("Z") and d["deleted"] is False
