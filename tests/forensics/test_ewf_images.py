"""EnCase (EWF/E01) images, the laboratories' most common format: the trace scan reads the media
inside (through The Sleuth Kit's img_cat), so it finds exactly what it finds in the raw image, at the
same media offsets, with one or two processes; the file-system tools list, hash and extract files
from it as from the raw image; a damaged E01 is reported, not crashed on. The E01 is written from
Debian's real NTFS sample by ewfacquire (Debian package ewf-tools)."""

from __future__ import annotations

import hashlib
import lzma
import shutil
import subprocess
from pathlib import Path

import pytest

from amane.forensics.filesystems import ImageError, hash_files, list_files, open_image, tools_available
from amane.forensics.scanner import image_type, scan

SAMPLE = Path("/usr/share/forensics-samples/fs.ntfs.xz")
pytestmark = [
    pytest.mark.skipif(not tools_available() or shutil.which("img_cat") is None,
                       reason="The Sleuth Kit is not installed (Debian package sleuthkit)"),
    pytest.mark.skipif(shutil.which("ewfacquire") is None, reason="ewfacquire is not installed (ewf-tools)"),
    pytest.mark.skipif(not SAMPLE.exists(), reason="Debian package forensics-samples-ntfs is not installed"),
]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("ewf")
    raw = d / "ntfs.raw"
    raw.write_bytes(lzma.decompress(SAMPLE.read_bytes()))
    subprocess.run(["ewfacquire", "-u", "-t", str(d / "ntfs"), "-c", "fast", "-f", "encase6", "-C", "case 1",
                    "-D", "NTFS sample", "-E", "1", "-e", "lab", "-N", "test", "-m", "fixed", "-M", "logical",
                    str(raw)], check=True, capture_output=True, timeout=300)
    e01 = d / "ntfs.E01"
    assert e01.stat().st_size < raw.stat().st_size  # compressed: its own bytes are not the media's
    return raw, e01


def _features(result: object) -> list[tuple[str, str, int, str]]:
    return [(f.kind, f.value, f.offset, f.container) for f in result.features]  # type: ignore[attr-defined]


def test_trace_scan_reads_the_media_inside_the_e01(images: tuple[Path, Path]) -> None:
    raw, e01 = images
    assert image_type(str(e01)) == "ewf" and image_type(str(raw)) is None
    want = scan(raw)
    assert len(want.features) > 50
    for jobs in (1, 2):
        got = scan(e01, jobs=jobs)
        assert got.bytes_scanned == raw.stat().st_size and not got.skipped
        assert _features(got) == _features(want)


def test_file_system_tools_on_the_e01(images: tuple[Path, Path]) -> None:
    raw, e01 = images
    with open_image(raw) as a, open_image(e01) as b:
        assert b.size == a.size and not b.skipped  # the media's size: no false "truncated image"
        assert [(p.number, p.start, p.fs_type) for p in b.partitions] == [(p.number, p.start, p.fs_type)
                                                                        for p in a.partitions]
        files_a = {(f.path, f.sha256) for f in hash_files(a, list_files(a)) if f.type == "r"}
        files_b = {(f.path, f.sha256) for f in hash_files(b, list_files(b)) if f.type == "r"}
    assert files_a == files_b
    mp3 = hashlib.sha256(Path("/usr/share/forensics-samples/original-files/audio2/deleted.mp3").read_bytes())
    assert ("audio2/deleted.mp3", mp3.hexdigest()) in files_b


def test_a_damaged_e01_is_reported(images: tuple[Path, Path], tmp_path: Path) -> None:
    _, e01 = images
    cut = tmp_path / "cut.E01"
    cut.write_bytes(e01.read_bytes()[: e01.stat().st_size // 2])
    with pytest.raises((ImageError, OSError)):
        open_image(cut)
    # the scan reads what it can and names where it could not read (no exception, no silent gap)
    result = scan(cut)
    assert 0 < result.bytes_scanned < 52_428_800
    assert result.skipped and all("img_cat failed" in s.reason for s in result.skipped)
    assert result.skipped[0].offset == result.bytes_scanned
