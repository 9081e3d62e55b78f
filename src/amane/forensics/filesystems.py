"""File systems inside disk images through The Sleuth Kit (TSK) command-line tools.

TSK does the file-system work (partition tables with ``mmls``, file-system detection with ``fsstat``,
listing with ``fls`` including deleted entries, content with ``icat``); this module runs those tools
as subprocesses and parses their output. The Python binding ``pytsk3`` is not used: it has no wheel
and builds TSK from source, whereas the Debian package ``sleuthkit`` installs the same engine as
tools. Written here by hand, because no library does it: the parsing of ``mmls``/``fls`` output,
the streaming decompression of ``.xz``/``.gz``/``.bz2`` sample images into a sparse temporary raw
image, the multi-digest hashing of ``icat`` output, and the MAC(B) timeline (from ``fls -m`` body
records, grouped per timestamp like ``mactime``) with its CSV writer.

Bad input never stops the whole job: a partition whose file system TSK does not recognise, a
listing or a file that cannot be read, a truncated compressed image are recorded in
``Image.skipped`` with the reason, and the rest is processed.
"""

from __future__ import annotations

import bz2
import csv
import dataclasses
import functools
import gzip
import hashlib
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from amane.forensics.scanner import MediaImage, image_type

TOOLS = ("mmls", "fsstat", "fls", "icat")
READ_CHUNK = 1 << 20
DEFAULT_MAX_EXPANDED = 64 << 30
"""Largest raw image written when a compressed image is opened (64 GiB)."""

HashProgress = Callable[[int, int], None]


class SleuthKitMissing(RuntimeError):
    """The Sleuth Kit command-line tools are not installed."""


class ImageError(ValueError):
    """The image cannot be used: unreadable, corrupt, truncated or with no file system TSK knows."""


@dataclass(frozen=True)
class Skip:
    """Something that could not be processed, and why."""

    what: str
    reason: str


@dataclass(frozen=True)
class Partition:
    """A volume of the image (``number`` counts from 1; an image without partition table has one)."""

    number: int
    start: int
    """First sector."""
    length: int
    """Length in sectors."""
    description: str
    sector_size: int = 512
    fs_type: str | None = None
    """File-system type as TSK names it (``ntfs``, ``ext4``, ``exfat``, ``fat32``, ``hfs``, ``iso9660``...)."""
    error: str | None = None
    """Why no file system could be opened in this partition."""

    @property
    def offset(self) -> int:
        """Byte offset of the partition in the image."""
        return self.start * self.sector_size


@dataclass(frozen=True)
class FileEntry:
    """One file-system entry (also deleted ones) with its MAC(B) times in UTC and, once hashed, its digests."""

    partition: int
    path: str
    inode: str
    """Metadata address as TSK gives it (``26`` on ext4, ``69-128-2`` on NTFS: MFT entry, attribute type, id)."""
    type: str
    """``r`` regular file, ``d`` directory, ``l`` symbolic link, ``v``/``V`` virtual, ``-`` unknown..."""
    size: int
    deleted: bool
    reallocated: bool = False
    mtime: datetime | None = None
    atime: datetime | None = None
    ctime: datetime | None = None
    crtime: datetime | None = None
    uid: int | None = None
    gid: int | None = None
    sha256: str | None = None
    md5: str | None = None
    sha1: str | None = None
    read_bytes: int | None = None
    """Bytes recovered when hashed; less than ``size`` for a deleted file whose content is gone."""
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def allocated(self) -> bool:
        return not self.deleted

    @property
    def complete(self) -> bool:
        """Hashed over its whole recorded size."""
        return self.read_bytes is not None and self.read_bytes == self.size and self.error is None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for k in ("mtime", "atime", "ctime", "crtime"):
            v = getattr(self, k)
            out[k] = v.isoformat().replace("+00:00", "Z") if v else None
        return out


@dataclass(frozen=True)
class TimelineEvent:
    """A timestamp of an entry; ``macb`` marks which times it is (``m.c.``: modified and changed)."""

    time: datetime
    macb: str
    path: str
    inode: str
    size: int
    deleted: bool
    partition: int


TIMELINE_COLUMNS = ("time", "macb", "path", "inode", "size", "deleted", "partition")


@dataclass
class Image:
    """An opened disk image; use as a context manager so a decompressed temporary copy is removed."""

    path: Path
    """The file given by the user."""
    raw_path: Path
    """The raw image TSK reads (a temporary file when ``path`` was compressed)."""
    size: int
    partitions: list[Partition]
    volume_system: str | None
    skipped: list[Skip] = field(default_factory=list)
    _cleanup: Any = None

    @property
    def file_systems(self) -> list[Partition]:
        return [p for p in self.partitions if p.fs_type]

    def partition(self, number: int) -> Partition:
        for p in self.partitions:
            if p.number == number:
                return p
        raise KeyError(f"no partition {number} in {self.path.name} (partitions: "
                       f"{', '.join(str(p.number) for p in self.partitions)})")

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- tools ------------------------------------------------------------------------------------

def tools_available() -> bool:
    return all(shutil.which(t) for t in TOOLS)


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise SleuthKitMissing(
            f"The Sleuth Kit tool {name!r} is not installed; install the Debian package 'sleuthkit' "
            "(apt-get install sleuthkit) to read file systems in disk images"
        )
    return exe


def _run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool(name), *args], capture_output=True, text=True, errors="replace", check=False)


def _tsk_message(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return "; ".join(lines[:3]) or "no message"


# -- opening ----------------------------------------------------------------------------------

_MAGIC = {b"\xfd7zXZ\x00": "xz", b"\x1f\x8b": "gzip", b"BZh": "bzip2"}


def _compression(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(6)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _decompress(path: Path, kind: str, dest: IO[bytes], max_bytes: int) -> tuple[int, str | None]:
    """Stream-decompress into ``dest`` (sparse: zero blocks are skipped); returns (size, problem)."""
    openers: dict[str, Callable[..., Any]] = {"xz": lzma.open, "gzip": gzip.open, "bzip2": bz2.open}
    opener = openers[kind]
    zero = bytes(READ_CHUNK)
    size = 0
    problem = None
    with opener(path, "rb") as src:
        while True:
            try:
                block = src.read(READ_CHUNK)
            except EOFError:
                problem = f"{kind} stream truncated after {size:,} bytes: the rest of the image is missing"
                break
            except (lzma.LZMAError, OSError, zlib.error) as exc:
                problem = f"{kind} data corrupt after {size:,} bytes ({exc}): the rest of the image is missing"
                break
            if not block:
                break
            if size + len(block) > max_bytes:
                raise ImageError(f"{path.name}: expands to more than {max_bytes:,} bytes (the limit); "
                                 "decompress it yourself and open the raw image")
            if block == zero[: len(block)]:
                dest.seek(len(block), os.SEEK_CUR)
            else:
                dest.write(block)
            size += len(block)
    dest.truncate(size)
    dest.flush()
    return size, problem


_MMLS_ROW = re.compile(r"^\d+:\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$")
_UNITS = re.compile(r"Units are in (\d+)-byte sectors")


def _fs_type(raw: Path, offset_sectors: int, sector_size: int) -> tuple[str | None, str | None]:
    args = ["-o", str(offset_sectors)] + (["-b", str(sector_size)] if sector_size != 512 else [])
    proc = _run("fsstat", "-t", *args, str(raw))
    if proc.returncode == 0 and proc.stdout.strip():
        return proc.stdout.strip().splitlines()[0].strip(), None
    return None, f"no file system The Sleuth Kit supports ({_tsk_message(proc.stderr)})"


def open_image(path: str | os.PathLike[str], *, max_expanded: int = DEFAULT_MAX_EXPANDED,
               tmp_dir: str | os.PathLike[str] | None = None) -> Image:
    """Open a raw (or ``.xz``/``.gz``/``.bz2``-compressed raw, or EWF/E01) disk image and find its partitions and
    file systems.

    Raises ``FileNotFoundError``, ``SleuthKitMissing``, or ``ImageError`` when nothing in the image can be
    read; partitions TSK cannot open are listed in ``Image.skipped`` and kept with their ``error``.
    """
    for t in TOOLS:
        _tool(t)
    src = Path(path)
    if not src.is_file():
        raise FileNotFoundError(f"no such image file: {src}")
    skipped: list[Skip] = []
    raw = src
    cleanup = None
    kind = _compression(src)
    if kind is not None:
        fd, name = tempfile.mkstemp(prefix="amane-image-", suffix=".raw", dir=tmp_dir)
        raw = Path(name)
        cleanup = functools.partial(_remove, name)
        try:
            with os.fdopen(fd, "wb") as dest:
                _, problem = _decompress(src, kind, dest, max_expanded)
        except BaseException:
            cleanup()
            raise
        if problem:
            skipped.append(Skip(src.name, problem))
    size = raw.stat().st_size
    media = image_type(str(raw)) if kind is None else None
    if media is not None:  # an EWF (E01) image: the media's size, not the compressed container's
        try:
            size = MediaImage(str(raw), media).size
        except OSError as exc:
            raise ImageError(f"{src.name}: {exc}") from None
    if size == 0:
        if cleanup:
            cleanup()
        raise ImageError(f"{src.name}: the image is empty")
    partitions: list[Partition] = []
    volume_system = None
    mm = _run("mmls", str(raw))
    if mm.returncode == 0:
        lines = mm.stdout.splitlines()
        volume_system = lines[0].strip() if lines else None
        m = _UNITS.search(mm.stdout)
        sector = int(m.group(1)) if m else 512
        for line in lines:
            row = _MMLS_ROW.match(line.strip())
            if not row or row.group(1) in ("Meta", "-------") or "Unallocated" in row.group(5):
                continue
            start, length = int(row.group(2)), int(row.group(4))
            number = len(partitions) + 1
            fs_type, error = _fs_type(raw, start, sector)
            if (start + length) * sector > size:
                note = (f"partition ends at byte {(start + length) * sector:,}, past the end of the image "
                        f"({size:,} bytes): truncated image?")
                error = f"{error}; {note}" if error else None
                skipped.append(Skip(f"partition {number}", note))
            if error:
                skipped.append(Skip(f"partition {number} ({row.group(5).strip()})", error))
            partitions.append(Partition(number, start, length, row.group(5).strip(), sector, fs_type, error))
    if not partitions:  # no partition table: a file system from byte 0?
        fs_type, error = _fs_type(raw, 0, 512)
        if fs_type is None:
            if cleanup:
                cleanup()
            reason = _tsk_message(mm.stderr) if mm.stderr.strip() else "none found"
            raise ImageError(f"{src.name}: neither a partition table ({reason}) nor a file system The Sleuth Kit "
                             f"supports was found ({error}); the image may be corrupt, truncated, encrypted or of "
                             "an unsupported type")
        partitions.append(Partition(1, 0, size // 512, "whole image (no partition table)", 512, fs_type))
    if not any(p.fs_type for p in partitions):
        if cleanup:
            cleanup()
        raise ImageError(f"{src.name}: no partition holds a file system The Sleuth Kit supports ("
                         + "; ".join(f"partition {p.number}: {p.error}" for p in partitions) + ")")
    image = Image(src, raw, size, partitions, volume_system, skipped)
    if cleanup is not None:
        image._cleanup = weakref.finalize(image, _remove, str(raw))
    return image


def _remove(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


# -- listing ----------------------------------------------------------------------------------

_FLS_PREFIX = re.compile(r"^(\S)/(\S+)\s+(\*\s+)?(\S+?)(\(realloc\))?:$")
_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?")


def _parse_time(text: str) -> datetime | None:
    m = _TIME.match(text.strip())
    if not m or m.group(1) == "0000":
        return None
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    try:
        y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
        return datetime(y, mo, d, h, mi, sec, int(frac), tzinfo=UTC)
    except ValueError:
        return None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_fls_line(line: str, partition: int) -> FileEntry | None:
    """Parse one line of ``fls -r -p -l -z UTC`` output; ``None`` for lines that are not entries."""
    parts = line.rstrip("\r\n").split("\t")
    if len(parts) < 9:
        return None
    m = _FLS_PREFIX.match(parts[0].strip())
    if not m:
        return None
    name_type, meta_type = m.group(1), m.group(2)
    path = "\t".join(parts[1:-7])
    mtime, atime, ctime, crtime, size, uid, gid = parts[-7:]
    kind = meta_type if meta_type not in ("-",) else name_type
    return FileEntry(
        partition=partition, path=path, inode=m.group(4), type=kind, size=_int(size) or 0,
        deleted=m.group(3) is not None, reallocated=m.group(5) is not None,
        mtime=_parse_time(mtime), atime=_parse_time(atime), ctime=_parse_time(ctime), crtime=_parse_time(crtime),
        uid=_int(uid), gid=_int(gid),
    )


def _stream(image: Image, tool: str, args: list[str], what: str) -> Iterator[str]:
    """Lines of a TSK tool's output; a failure is recorded in ``image.skipped`` (what was read is kept)."""
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen([_tool(tool), *args], stdout=subprocess.PIPE, stderr=errf)
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                yield raw.decode("utf-8", errors="replace")
        finally:
            proc.stdout.close()
            rc = proc.wait()
        if rc != 0:
            errf.seek(0)
            msg = _tsk_message(errf.read().decode("utf-8", errors="replace"))
            image.skipped.append(Skip(what, f"{tool} failed (exit {rc}): {msg}; the listing may be incomplete"))


def _offset_args(part: Partition) -> list[str]:
    args = ["-o", str(part.start)]
    if part.sector_size != 512:
        args += ["-b", str(part.sector_size)]
    return args


def list_files(image: Image, *, deleted: bool = True, deleted_only: bool = False,
               partition: int | None = None) -> Iterator[FileEntry]:
    """Every entry of every readable file system (allocated and, unless ``deleted=False``, deleted ones)."""
    for part in image.file_systems:
        if partition is not None and part.number != partition:
            continue
        flags = ["-r", "-p", "-l", "-z", "UTC"]
        if deleted_only:
            flags.append("-d")
        elif not deleted:
            flags.append("-u")
        args = [*flags, *_offset_args(part), str(image.raw_path)]
        for line in _stream(image, "fls", args, f"partition {part.number} ({part.fs_type}) listing"):
            entry = parse_fls_line(line, part.number)
            if entry is not None:
                yield entry


def find_entry(image: Image, inode: str, *, partition: int | None = None) -> FileEntry:
    """The entry with this metadata address (in the only file system, or in ``partition``)."""
    parts = [p for p in image.file_systems if partition is None or p.number == partition]
    if partition is None and len(parts) > 1:
        raise ImageError(f"{image.path.name} has {len(parts)} file systems (partitions "
                         f"{', '.join(str(p.number) for p in parts)}): say which partition")
    if not parts:
        raise ImageError(f"no readable file system in partition {partition} of {image.path.name}")
    for entry in list_files(image, partition=parts[0].number):
        if entry.inode == inode:
            return entry
    raise KeyError(f"no entry with address {inode!r} in partition {parts[0].number} of {image.path.name}")


# -- content and hashes -----------------------------------------------------------------------

def iter_content(image: Image, entry: FileEntry, *, chunk: int = READ_CHUNK) -> Iterator[bytes]:
    """Stream an entry's content (``icat``); raises ``ImageError`` if TSK cannot read it."""
    part = image.partition(entry.partition)
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen([_tool("icat"), *_offset_args(part), str(image.raw_path), entry.inode],
                                stdout=subprocess.PIPE, stderr=errf)
        assert proc.stdout is not None
        try:
            while True:
                block = proc.stdout.read(chunk)
                if not block:
                    break
                yield block
        finally:
            proc.stdout.close()
            rc = proc.wait()
        if rc != 0:
            errf.seek(0)
            raise ImageError(f"icat failed: {_tsk_message(errf.read().decode('utf-8', errors='replace'))}")


def read_file(image: Image, entry: FileEntry) -> bytes:
    """The whole content of an entry, in memory (use ``iter_content`` or ``extract_file`` for big files)."""
    return b"".join(iter_content(image, entry))


def _digests(blocks: Iterable[bytes], on_block: Callable[[int], None] | None = None) -> tuple[dict[str, str], int]:
    hs = {"sha256": hashlib.sha256(), "md5": hashlib.md5(usedforsecurity=False),
          "sha1": hashlib.sha1(usedforsecurity=False)}
    n = 0
    for block in blocks:
        for h in hs.values():
            h.update(block)
        n += len(block)
        if on_block:
            on_block(len(block))
    return {k: h.hexdigest() for k, h in hs.items()}, n


def hash_files(image: Image, entries: Iterable[FileEntry], *,
               progress: HashProgress | None = None) -> Iterator[FileEntry]:
    """Hash regular files (SHA-256, MD5 and SHA-1 in one read); other entries pass through unchanged.

    ``progress(done_bytes, total_bytes)`` is called as content is read. A file TSK cannot read comes back
    with ``error`` set (and is listed in ``image.skipped``); ``read_bytes`` says how much content was found.
    """
    items = list(entries)
    total = sum(e.size for e in items if e.type == "r")
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    for e in items:
        if e.type != "r":
            yield e
            continue
        before = done
        try:
            digests, n = _digests(iter_content(image, e), tick)
        except ImageError as exc:
            if e.size:  # an empty entry without data (NTFS orphan) loses nothing
                image.skipped.append(Skip(f"partition {e.partition}: {e.path} ({e.inode})", str(exc)))
            yield dataclasses.replace(e, error=str(exc), read_bytes=done - before)
            continue
        note = None
        if n < e.size:
            note = f"only {n:,} of {e.size:,} bytes read (content gone, sparse, or beyond the end of the image)"
        done = before + e.size
        if progress is not None:
            progress(min(done, total), total)
        yield dataclasses.replace(e, read_bytes=n, error=note, sha256=digests["sha256"], md5=digests["md5"],
                                  sha1=digests["sha1"])


def _write_new(dest: Path, blocks: Iterable[bytes]) -> int:
    """Write to a temporary name, fsync, then link to ``dest``; an existing ``dest`` is never overwritten."""
    if dest.exists():
        raise FileExistsError(f"{dest} already exists; it is not overwritten")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        n = 0
        with os.fdopen(fd, "wb") as fh:
            for block in blocks:
                fh.write(block)
                n += len(block)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, dest)  # fails if dest appeared meanwhile: never overwrites
        return n
    finally:
        os.unlink(tmp)


def extract_file(image: Image, entry: FileEntry, dest: str | os.PathLike[str]) -> FileEntry:
    """Write an entry's content to a new file ``dest``; returns the entry with the content's hashes."""
    hs = {"sha256": hashlib.sha256(), "md5": hashlib.md5(usedforsecurity=False),
          "sha1": hashlib.sha1(usedforsecurity=False)}

    def blocks() -> Iterator[bytes]:
        for block in iter_content(image, entry):
            for h in hs.values():
                h.update(block)
            yield block

    n = _write_new(Path(dest), blocks())
    return dataclasses.replace(entry, read_bytes=n, sha256=hs["sha256"].hexdigest(), md5=hs["md5"].hexdigest(),
                               sha1=hs["sha1"].hexdigest())


# -- timeline ---------------------------------------------------------------------------------

_DELETED_SUFFIX = re.compile(r" \((deleted|deleted-realloc)\)$")


def parse_body_line(line: str, partition: int) -> list[TimelineEvent]:
    """Events of one body-file record (``MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime``)."""
    head, sep, rest = line.rstrip("\r\n").partition("|")
    if not sep:
        return []
    fields = rest.rsplit("|", 9)
    if len(fields) != 10:
        return []
    name, inode, _mode, _uid, _gid, size, atime, mtime, ctime, crtime = fields
    m = _DELETED_SUFFIX.search(name)
    deleted = m is not None
    if m:
        name = name[: m.start()]
    name = name.removeprefix("/")  # fls -m "/" prefixes paths; the listing's paths are relative
    by_time: dict[int, set[str]] = {}
    for letter, value in (("m", mtime), ("a", atime), ("c", ctime), ("b", crtime)):
        t = _int(value)
        if t:
            by_time.setdefault(t, set()).add(letter)
    out = []
    for t, letters in by_time.items():
        macb = "".join(c if c in letters else "." for c in "macb")
        when = datetime.fromtimestamp(t, tz=UTC)
        out.append(TimelineEvent(when, macb, name, inode, _int(size) or 0, deleted, partition))
    return out


def timeline(image: Image, *, partition: int | None = None) -> list[TimelineEvent]:
    """MAC(B) events of every entry (NTFS ``$FILE_NAME`` times too), sorted by time like ``mactime``."""
    events: list[TimelineEvent] = []
    for part in image.file_systems:
        if partition is not None and part.number != partition:
            continue
        args = ["-r", "-p", "-m", "/", *_offset_args(part), str(image.raw_path)]
        for line in _stream(image, "fls", args, f"partition {part.number} ({part.fs_type}) timeline"):
            events += parse_body_line(line, part.number)
    events.sort(key=lambda e: (e.time, e.partition, e.path, e.macb))
    return events


def write_timeline_csv(events: Iterable[TimelineEvent], path: str | os.PathLike[str]) -> int:
    """Write events as CSV (``TIMELINE_COLUMNS``; times ISO 8601 UTC); refuses an existing file. Returns rows."""
    count = 0

    class _Sink:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, s: str) -> None:
            self.parts.append(s)

    def blocks() -> Iterator[bytes]:
        nonlocal count
        sink = _Sink()
        w = csv.writer(sink, lineterminator="\n")
        w.writerow(TIMELINE_COLUMNS)
        for e in events:
            w.writerow([e.time.strftime("%Y-%m-%dT%H:%M:%SZ"), e.macb, e.path, e.inode, e.size,
                        "yes" if e.deleted else "no", e.partition])
            count += 1
            if len(sink.parts) >= 4096:
                yield "".join(sink.parts).encode("utf-8")
                sink.parts.clear()
        yield "".join(sink.parts).encode("utf-8")

    _write_new(Path(path), blocks())
    return count
