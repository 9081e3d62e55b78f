"""EXIF/GPS: real phone and camera photos from forensics-samples-files, photos written with GPS in the
other hemispheres, damaged data, and the ``exif``/``gps`` features of ``scan`` on a real NTFS image.

The package's documentation gives no coordinates; the expected values are the GPS degrees/minutes/seconds
and references stored in the photos (S 15° 50' 7.9944", W 48° 0' 56.8476", altitude 1133.4 m for
IMG_20200827_231612.jpg), converted by hand below: the test checks the conversion and the signs.
"""

from __future__ import annotations

import io
import lzma
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from amane.forensics import Options, scan
from amane.forensics.exif import app1_segments, parse_exif, parse_tiff, validate_exif, validate_gps
from amane.forensics.scanner import HYPERSCAN_AVAILABLE

SAMPLES = Path("/usr/share/forensics-samples")
ORIGINAL = SAMPLES / "original-files"
needs_samples = pytest.mark.skipif(not ORIGINAL.is_dir(),
                                   reason="Debian package forensics-samples-files is not installed")


def dms(d: float, m: float, s: float, negative: bool) -> float:
    v = d + m / 60 + s / 3600
    return -v if negative else v


@needs_samples
def test_phone_photo_with_gps() -> None:
    info = parse_exif((ORIGINAL / "pic1/IMG_20200827_231612.jpg").read_bytes())
    assert info is not None
    assert (info.make, info.model) == ("Xiaomi", "Mi A3")
    assert info.taken == datetime(2020, 8, 27, 23, 16, 12)
    assert info.latitude == pytest.approx(dms(15, 50, 7.9944, True), abs=1e-9)
    assert info.longitude == pytest.approx(dms(48, 0, 56.8476, True), abs=1e-9)
    assert info.gps == "-15.835554,-48.015791"
    assert info.altitude == pytest.approx(1133.4)
    assert info.gps_time is not None and info.gps_time.isoformat() == "2020-08-28T02:16:08+00:00"


@needs_samples
def test_camera_photo_with_jfif_before_exif_and_no_position() -> None:
    data = (ORIGINAL / "pic1/IMG_1054.JPG").read_bytes()
    assert data[2:4] == b"\xff\xe0"  # APP0 (JFIF) comes first, the EXIF APP1 after it
    info = parse_exif(data)
    assert info is not None and (info.make, info.model) == ("Canon", "Canon PowerShot SX530 HS")
    assert info.taken == datetime(2020, 9, 12, 11, 49, 38)
    assert info.gps is None  # its GPS directory holds only a version number
    assert parse_exif((ORIGINAL / "pic1/IMG-20191006-WA0002.jpg").read_bytes()) is None  # WhatsApp strips EXIF
    empty = parse_exif((ORIGINAL / "pic1/empty.jpg").read_bytes())
    assert empty is not None and empty.summary() is None and empty.gps is None


def written(fmt: str, lat: tuple[str, tuple[float, float, float]], lon: tuple[str, tuple[float, float, float]],
            alt_below_sea: bool = False) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Amane Test"
    exif[0x0110] = "Unit 7"
    exif[0x8769] = {0x9003: "2026:03:14 09:26:53", 0x9011: "+01:00"}
    exif[0x8825] = {1: lat[0], 2: lat[1], 3: lon[0], 4: lon[1], 5: b"\x01" if alt_below_sea else b"\x00", 6: 12.5}
    if fmt == "TIFF":  # EXIF is TIFF-structured: the bare TIFF stream (Pillow cannot save this into a .tif)
        raw = exif.tobytes()
        return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, format=fmt, exif=exif)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_north_east_and_south_west_signs(fmt: str) -> None:
    casablanca = parse_exif(written(fmt, ("N", (33.0, 35.0, 22.8)), ("W", (7.0, 36.0, 0.0))))
    assert casablanca is not None and casablanca.gps == f"{dms(33, 35, 22.8, False):.6f},{dms(7, 36, 0, True):.6f}"
    assert casablanca.taken is not None and casablanca.taken.utcoffset() is not None  # OffsetTimeOriginal read
    assert casablanca.summary() == "make=Amane Test;model=Unit 7;datetime=2026-03-14T09:26:53+01:00"
    east = parse_exif(written(fmt, ("S", (33.0, 55.0, 0.0)), ("E", (18.0, 25.0, 0.0)), alt_below_sea=True))
    assert east is not None and east.latitude is not None and east.longitude is not None
    assert east.latitude < 0 < east.longitude and east.altitude == pytest.approx(-12.5)


def test_positions_without_hemisphere_or_out_of_range_are_dropped() -> None:
    no_ref = parse_exif(written("JPEG", ("", (33.0, 35.0, 0.0)), ("W", (7.0, 36.0, 0.0))))
    assert no_ref is not None and no_ref.gps is None and no_ref.make == "Amane Test"
    too_far = parse_exif(written("JPEG", ("N", (95.0, 0.0, 0.0)), ("W", (7.0, 36.0, 0.0))))
    assert too_far is not None and too_far.gps is None


def test_damaged_exif_gives_nothing_not_an_exception() -> None:
    good = written("JPEG", ("N", (33.0, 35.0, 22.8)), ("W", (7.0, 36.0, 0.0)))
    (payload,) = app1_segments(good)
    for cut in (8, 14, 30, len(payload) // 2):
        info = parse_tiff(payload[:cut])
        assert info is None or info.gps in (None, f"{dms(33, 35, 22.8, False):.6f},{dms(7, 36, 0, True):.6f}")
    assert parse_tiff(b"Exif\x00\x00XX*\x00garbage") is None
    assert parse_exif(b"\xff\xd8\xff\xe1\x00\x02") is None
    marker = good.index(b"\xff\xe1")
    assert validate_gps(good[marker:]) == f"{dms(33, 35, 22.8, False):.6f},{dms(7, 36, 0, True):.6f}"
    assert validate_exif(good[marker:]) is not None and validate_exif(b"\xff\xe1\x00\x10Exif\x00\x00MM") is None


@pytest.fixture(scope="module")
def ntfs_raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    src = SAMPLES / "fs.ntfs.xz"
    if not src.exists() or not ORIGINAL.is_dir():
        pytest.skip("Debian packages forensics-samples-ntfs and forensics-samples-files are not installed")
    raw = tmp_path_factory.mktemp("ntfs") / "fs.ntfs"
    with lzma.open(src) as fin, open(raw, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    yield raw


@pytest.mark.parametrize("engine", ["re", "hyperscan"] if HYPERSCAN_AVAILABLE else ["re"])
def test_scan_finds_exif_and_gps_in_a_real_image(ntfs_raw: Path, tmp_path: Path, engine: str) -> None:
    out = tmp_path / "scan"
    r = scan(ntfs_raw, out, extractors=["exif", "gps"], options=Options(engine=engine))
    image = ntfs_raw.read_bytes()
    phones = ["pic1/IMG_20200827_231612.jpg", "pic2/IMG_20191224_234846.jpg",  # pic2 was deleted
              "pic2/IMG_20200124_231153.jpg", "pic2/IMG_20200608_111614.jpg"]
    gps = {f.value: f.offset for f in r.features if f.kind == "gps"}
    assert len(gps) == 4
    for rel in phones:
        original = (ORIGINAL / rel).read_bytes()
        info = parse_exif(original)
        assert info is not None and info.gps in gps, rel
        offset = gps[info.gps]
        assert image[offset : offset + 4096] == original[:4096], rel  # the offset is the photo's first byte
    exif = {f.offset: f.value for f in r.features if f.kind == "exif"}
    canon = (ORIGINAL / "pic1/IMG_1054.JPG").read_bytes()
    start = image.index(canon[:4096])
    assert exif[start + 20] == "make=Canon;model=Canon PowerShot SX530 HS;datetime=2020-09-12T11:49:38"  # APP1
    assert len(exif) == 5 and r.counts() == {"exif": 5, "gps": 4}
    lines = [ln for ln in (out / "gps.txt").read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    assert f"{gps['-15.835554,-48.015791']}\t-15.835554,-48.015791\t" in "\n".join(lines)
    assert max(len(ln) for ln in lines) < 400  # the context shows the segment's head, not 8 KiB of it
