"""EXIF metadata of photos: camera make and model, original date-time, GPS position and altitude.

The TIFF/EXIF structure is decoded by Pillow (``PIL.Image.Exif``), without decoding the picture, so a
lone APP1 segment found in raw data is enough. Written here by hand: the walk over JPEG markers to find
the APP1 ``Exif`` segment (it is not always the first one: cameras often put a JFIF APP0 before it),
the conversion of GPS degrees/minutes/seconds with their N/S/E/W references to signed decimal degrees,
and the two scanner extractors (``exif``, ``gps``) built on a byte pattern for the APP1 segment.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EXIF_HEADER = b"Exif\x00\x00"
TIFF_HEADERS = (b"II*\x00", b"MM\x00*")
_TAG_MAKE, _TAG_MODEL, _TAG_DATETIME = 0x010F, 0x0110, 0x0132
_TAG_EXIF_IFD, _TAG_GPS_IFD = 0x8769, 0x8825
_TAG_DATETIME_ORIGINAL, _TAG_OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4
_GPS_ALT_REF, _GPS_ALT, _GPS_TIME, _GPS_DATE = 5, 6, 7, 29

# Scanner pattern: an APP1 segment with an EXIF header, optionally right after the JPEG start-of-image
# marker. A segment may hold up to 64 KiB, but the tags read here (IFD0, EXIF and GPS directories) sit
# in its first kilobytes (the thumbnail comes last): the match is bounded to SCAN_BYTES so that the
# scanner's chunk overlap, sized from the longest match, stays small. The pattern starts with a literal
# byte so that the ``re`` engine skips quickly through data.
SCAN_BYTES = 8192
APP1_RE = re.compile(rb"\xff(?:\xd8\xff)?\xe1[\x00-\xff]{2}Exif\x00\x00[\x00-\xff]{0,%d}" % (SCAN_BYTES - 12))
APP1_ANCHOR = rb"\xff\xe1[\x00-\xff]{2}Exif\x00\x00"


@dataclass(frozen=True)
class ExifInfo:
    """What a photo's EXIF says. ``taken`` is the camera's local time (EXIF has no time zone unless
    ``OffsetTimeOriginal`` is present, then ``taken`` is aware); ``gps_time`` is UTC by definition."""

    make: str | None = None
    model: str | None = None
    taken: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    gps_time: datetime | None = None

    @property
    def gps(self) -> str | None:
        """``"lat,lon"`` in decimal degrees with 6 decimals (about 0.1 m), or ``None``."""
        if self.latitude is None or self.longitude is None:
            return None
        return f"{self.latitude:.6f},{self.longitude:.6f}"

    def summary(self) -> str | None:
        """``make=...;model=...;datetime=...`` (the ``exif`` feature), or ``None`` when none is known."""
        parts = []
        if self.make:
            parts.append(f"make={_clean(self.make)}")
        if self.model:
            parts.append(f"model={_clean(self.model)}")
        if self.taken:
            parts.append(f"datetime={self.taken.isoformat()}")
        return ";".join(parts) or None

    def to_dict(self) -> dict[str, Any]:
        return {"make": self.make, "model": self.model, "taken": self.taken.isoformat() if self.taken else None,
                "latitude": self.latitude, "longitude": self.longitude, "altitude": self.altitude,
                "gps_time": self.gps_time.isoformat() if self.gps_time else None, "gps": self.gps}


def _clean(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f;=]+", " ", text).strip()


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _float(value: object) -> float | None:
    try:
        f = float(value)  # type: ignore[arg-type]  # IFDRational, int or float
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if math.isfinite(f) else None


def _dms(value: object, ref: object, positive: str, negative: str, limit: float) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    parts = [_float(v) for v in value]
    if any(p is None or p < 0 for p in parts):
        return None
    d, m, s = (p or 0.0 for p in parts)
    if m >= 60 or s >= 60:
        return None
    deg = d + m / 60 + s / 3600
    r = (_text(ref) or "").upper()[:1]
    if r == negative:
        deg = -deg
    elif r != positive:
        return None  # a position without its hemisphere is not a position
    return deg if abs(deg) <= limit else None


def _exif_datetime(text: str | None, offset: str | None = None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if offset:
        try:
            dt = datetime.strptime(f"{text[:19]}{offset.strip()}", "%Y:%m:%d %H:%M:%S%z")
        except ValueError:
            pass
    return dt


def parse_tiff(data: bytes) -> ExifInfo | None:
    """EXIF from TIFF-structured bytes (``II*\\0``/``MM\\0*``, optionally preceded by ``Exif\\0\\0``)."""
    body = data[len(EXIF_HEADER):] if data.startswith(EXIF_HEADER) else data
    if not body.startswith(TIFF_HEADERS):
        return None
    from PIL import Image

    exif = Image.Exif()
    try:
        with warnings.catch_warnings():  # Pillow warns about truncated tags and still returns the rest
            warnings.simplefilter("ignore")
            exif.load(body)
            ifd0 = dict(exif)
            sub = dict(exif.get_ifd(_TAG_EXIF_IFD)) if _TAG_EXIF_IFD in ifd0 else {}
            gps = dict(exif.get_ifd(_TAG_GPS_IFD)) if _TAG_GPS_IFD in ifd0 else {}
    except Exception:  # Pillow raises many kinds on damaged data; damaged EXIF is simply no EXIF
        return None
    taken = _exif_datetime(_text(sub.get(_TAG_DATETIME_ORIGINAL)), _text(sub.get(_TAG_OFFSET_TIME_ORIGINAL)))
    if taken is None:
        taken = _exif_datetime(_text(ifd0.get(_TAG_DATETIME)))
    lat = _dms(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "N", "S", 90.0)
    lon = _dms(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "E", "W", 180.0)
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):  # 0,0: what cameras write without a fix
        lat = lon = None
    alt = _float(gps.get(_GPS_ALT))
    if alt is not None and gps.get(_GPS_ALT_REF) in (1, b"\x01"):
        alt = -alt
    gps_time = None
    date, hms = _text(gps.get(_GPS_DATE)), gps.get(_GPS_TIME)
    if date and isinstance(hms, tuple | list) and len(hms) == 3:
        secs = [_float(v) for v in hms]
        if all(v is not None for v in secs):
            h, m, s = (int(v or 0) for v in secs)
            try:
                gps_time = datetime.strptime(date[:10], "%Y:%m:%d").replace(hour=h, minute=m, second=s, tzinfo=UTC)
            except ValueError:
                gps_time = None
    return ExifInfo(_text(ifd0.get(_TAG_MAKE)), _text(ifd0.get(_TAG_MODEL)), taken, lat, lon, alt, gps_time)


def app1_segments(jpeg: bytes) -> list[bytes]:
    """Payloads of the APP1 ``Exif`` segments of a JPEG (markers walked up to the start of scan)."""
    out: list[bytes] = []
    if not jpeg.startswith(b"\xff\xd8"):
        return out
    pos = 2
    while pos + 4 <= len(jpeg):
        if jpeg[pos] != 0xFF:
            break
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no more metadata
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        if length < 2:
            break
        payload = jpeg[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and payload.startswith(EXIF_HEADER):
            out.append(payload)
        pos += 2 + length
    return out


def parse_exif(data: bytes) -> ExifInfo | None:
    """EXIF of a JPEG or TIFF file's bytes (or of a bare ``Exif\\0\\0`` payload); ``None`` if it has none."""
    if data.startswith(b"\xff\xd8"):
        for payload in app1_segments(data):
            info = parse_tiff(payload)
            if info is not None:
                return info
        return None
    return parse_tiff(data)


@functools.lru_cache(maxsize=32)
def _from_match(raw: bytes) -> ExifInfo | None:
    """Decode a match of ``APP1_RE``: the segment length field bounds the payload."""
    start = raw.find(b"\xff\xe1")
    if start < 0:
        return None
    length = int.from_bytes(raw[start + 2 : start + 4], "big")
    payload = raw[start + 4 : start + 2 + length]
    return parse_tiff(payload)


def validate_exif(raw: bytes) -> str | None:
    """Scanner validator: the ``exif`` feature (make, model, original date-time)."""
    info = _from_match(raw)
    return info.summary() if info else None


def validate_gps(raw: bytes) -> str | None:
    """Scanner validator: the ``gps`` feature (``lat,lon``)."""
    info = _from_match(raw)
    return info.gps if info else None
