"""Streaming feature scanner over files, raw images and directories.

Chunking rule: the source is read in chunks of ``chunk_size`` bytes. Each chunk is scanned inside a
window that adds ``overlap`` bytes of context before and after it, and a match is kept only if it
*starts* inside the chunk. ``overlap`` is larger than twice the longest possible match (twice for the
UTF-16LE view), so every match that starts in a chunk is complete inside its window (no match lost at a
border) and every match is owned by exactly one chunk (none reported twice). The leading context lets
boundary assertions (``no digit before a card number``) see the real preceding byte. ``jobs=N`` splits
the source into N byte ranges with the same ownership rule, so merged results equal a single pass.

UTF-16LE: runs of at least ``UTF16_MIN_CHARS`` printable ASCII characters each followed by a NUL byte
are located with one regex, their ASCII view (every other byte) is scanned with the same extractors,
and offsets are mapped back to raw bytes (``run_start + 2 * index``).
"""

from __future__ import annotations

import bisect
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from amane.forensics import containers
from amane.forensics.containers import Limits
from amane.forensics.extractors import Extractor, select

DEFAULT_CHUNK = 16 << 20
UTF16_MIN_CHARS = 6
CONTEXT_BYTES = 16
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00){%d,}" % UTF16_MIN_CHARS)
_UTF16_ANCHOR = rb"(?:[\x20-\x7e]\x00){%d}" % UTF16_MIN_CHARS

_hs: Any
try:  # optional accelerator
    import hyperscan as _hs
except ImportError:  # pragma: no cover - depends on the platform
    _hs = None

HYPERSCAN_AVAILABLE = _hs is not None
_HS_CACHE: dict[tuple[str, ...], Any] = {}


def _hs_database(extractors: list[Extractor]) -> Any:
    """Compile (once per process) one Hyperscan database with the anchors of all extractors + UTF-16 runs."""
    key = tuple(e.name for e in extractors)
    db = _HS_CACHE.get(key)
    if db is None:
        assert _hs is not None
        n = len(extractors)
        exprs = [e.anchor for e in extractors if e.anchor is not None]
        exprs += [_UTF16_ANCHOR, rb"PK\x03\x04", rb"\x1f\x8b\x08"]
        ids = [i for i, e in enumerate(extractors) if e.anchor is not None] + [n, n + 1, n + 2]
        db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=0)
        _HS_CACHE[key] = db
    return db


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    intervals.sort()
    merged: list[tuple[int, int]] = []
    for a, b in intervals:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _find_all(buf: bytes, needle: bytes, start: int, stop: int) -> Iterator[int]:
    i = buf.find(needle, start, stop + len(needle) - 1)
    while i != -1:
        yield i
        i = buf.find(needle, i + 1, stop + len(needle) - 1)


Progress = Callable[[int, int], None]
"""``progress(bytes_done, bytes_total)``."""


@dataclass(frozen=True)
class Feature:
    """One extracted feature.

    ``offset`` is the byte offset in the innermost data: in the source file for top-level features, in the
    expanded member for features inside a container; ``container`` is then the chain of containers, e.g.
    ``1048576/zip:docs/a.txt`` (a ZIP entry whose local header is at byte 1048576 of the source).
    """

    kind: str
    value: str
    offset: int
    container: str = ""
    encoding: str = "utf-8"
    file: str = ""
    context: str = field(default="", compare=False)

    @property
    def location(self) -> str:
        """Offset as written in feature files: ``1234`` or ``1048576/zip:docs/a.txt/1234``."""
        return f"{self.container}/{self.offset}" if self.container else str(self.offset)

    def key(self) -> tuple[str, str, int, str, str, str]:
        """Identity used to merge and deduplicate results."""
        return (self.file, self.container, self.offset, self.kind, self.value, self.encoding)


@dataclass
class Skipped:
    """A region or member that was not (fully) scanned, and why."""

    reason: str
    offset: int
    container: str = ""
    file: str = ""


@dataclass
class ScanResult:
    """Features and bookkeeping of one scan."""

    source: str
    features: list[Feature] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    bytes_scanned: int = 0
    bytes_expanded: int = 0
    files: int = 0
    seconds: float = 0.0
    jobs: int = 1
    engine: str = "re"

    def counts(self) -> dict[str, int]:
        """Number of features per kind."""
        return dict(sorted(Counter(f.kind for f in self.features).items()))

    @property
    def mb_per_s(self) -> float:
        """Throughput over the source bytes (10^6 bytes per second)."""
        return self.bytes_scanned / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self, with_features: bool = False) -> dict[str, Any]:
        """JSON-ready summary (features included on request)."""
        out: dict[str, Any] = {
            "source": self.source,
            "engine": self.engine,
            "jobs": self.jobs,
            "files": self.files,
            "bytes_scanned": self.bytes_scanned,
            "bytes_expanded": self.bytes_expanded,
            "seconds": round(self.seconds, 3),
            "mb_per_s": round(self.mb_per_s, 2),
            "counts": self.counts(),
            "skipped": [asdict(s) for s in self.skipped],
        }
        if with_features:
            out["features"] = [asdict(f) for f in self.features]
        return out


@dataclass
class Options:
    """Scanner settings."""

    chunk_size: int = DEFAULT_CHUNK
    limits: Limits = field(default_factory=Limits)
    recurse: bool = True
    utf16: bool = True
    engine: str = "auto"
    """``auto`` (Hyperscan when installed), ``hyperscan`` or ``re``."""


def _escape(raw: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02X}" for b in raw)


class _Engine:
    """Scans windows of bytes with a set of extractors; collects features and skips."""

    def __init__(self, extractors: list[Extractor], options: Options, file: str = "") -> None:
        self.extractors = extractors
        self.options = options
        self.file = file
        longest = max((e.max_len for e in extractors), default=1)
        self.overlap = 2 * longest + 2 * CONTEXT_BYTES + 16
        self.features: list[Feature] = []
        self.skipped: list[Skipped] = []
        self.expanded = 0
        if options.engine not in ("auto", "hyperscan", "re"):
            raise ValueError(f"engine must be auto, hyperscan or re, not {options.engine!r}")
        if options.engine == "hyperscan" and _hs is None:
            raise RuntimeError("engine 'hyperscan' requested but the hyperscan package is not installed")
        self.engine = "hyperscan" if options.engine != "re" and _hs is not None else "re"
        self._db = _hs_database(extractors) if self.engine == "hyperscan" else None
        self._sig_hits: list[tuple[int, bytes]] | None = None

    # -- matching ---------------------------------------------------------------------------
    def _emit(
        self, ex: Extractor, m: re.Match[bytes], offset: int, container: str, enc: str, ctx_src: bytes, cs: int
    ) -> bool:
        try:
            value = ex.validate(m.group())
        except Exception as exc:  # a faulty plug-in must not stop the scan
            self.skipped.append(Skipped(f"extractor {ex.name} failed: {exc}", offset, container, self.file))
            return False
        if value is None:
            return False
        width = len(m.group()) * (2 if enc == "utf-16le" else 1)
        if ex.context_max is not None:
            width = min(width, ex.context_max)
        context = _escape(ctx_src[max(0, cs - CONTEXT_BYTES) : cs + width + CONTEXT_BYTES])
        self.features.append(Feature(ex.name, value, offset, container, enc, self.file, context))
        if ex.derive is not None:
            for kind, derived in ex.derive(value):
                self.features.append(Feature(kind, derived, offset, container, enc, self.file, context))
        return True

    def scan_window(self, buf: bytes, base: int, lo: int, hi: int, container: str) -> None:
        """Scan ``buf`` (whose byte 0 is at ``base``) and keep matches starting in ``[lo, hi)``."""
        if self._db is not None:
            self._scan_window_hs(buf, base, lo, hi, container)
            return
        start, stop = lo - base, hi - base
        for ex in self.extractors:
            self._run(ex, buf, base, start, stop, container, 0, len(buf))
        if self.options.utf16:
            runs = [run.span() for run in _UTF16_RUN.finditer(buf)]
            self._scan_utf16(runs, buf, base, start, stop, container)

    def _run(self, ex: Extractor, buf: bytes, base: int, start: int, stop: int, container: str, a: int, b: int) -> None:
        # A rejected candidate is retried one byte further (not after its end): the regex may have started
        # too early, e.g. on the last digits of a hex string just before a card number.
        search = ex.pattern.search
        pos = max(a, start)
        while True:
            m = search(buf, pos, b)
            if m is None or m.start() >= stop:
                break
            s = m.start()
            pos = m.end() if self._emit(ex, m, base + s, container, "utf-8", buf, s) else s + 1

    def _scan_utf16(
        self, runs: list[tuple[int, int]], buf: bytes, base: int, start: int, stop: int, container: str
    ) -> None:
        for rs, rend in runs:
            if rend <= start:
                continue
            if rs >= stop:
                break
            text = buf[rs:rend:2]
            for ex in self.extractors:
                pos = 0
                while True:
                    m = ex.pattern.search(text, pos)
                    if m is None:
                        break
                    raw = rs + 2 * m.start()
                    if raw >= stop:
                        break
                    ok = raw >= start and self._emit(ex, m, base + raw, container, "utf-16le", buf, raw)
                    pos = m.end() if ok else m.start() + 1

    def _scan_window_hs(self, buf: bytes, base: int, lo: int, hi: int, container: str) -> None:
        """Hyperscan pass: one scan finds anchors of every extractor; regexes then run around anchors only."""
        start, stop = lo - base, hi - base
        n = len(self.extractors)
        ends: list[list[int]] = [[] for _ in range(n + 3)]

        def on_match(ident: int, _frm: int, to: int, _flags: int, _ctx: object) -> None:
            ends[ident].append(to)

        assert self._db is not None
        self._db.scan(buf, match_event_handler=on_match)
        size = len(buf)
        for i, ex in enumerate(self.extractors):
            if ex.anchor is None:
                self._run(ex, buf, base, start, stop, container, 0, size)
                continue
            if not ends[i]:
                continue
            reach = ex.max_len + 2
            windows = _merge([(max(0, e - 2 * reach), min(size, e + reach)) for e in ends[i]])
            for a, b in windows:
                if b > start and a < stop:
                    self._run(ex, buf, base, start, stop, container, a, b)
        if self.options.utf16 and ends[n]:
            width = 2 * UTF16_MIN_CHARS
            runs = _merge([(e - width, e) for e in ends[n]])
            self._scan_utf16(runs, buf, base, start, stop, container)
        sigs = [(e - 4, containers.ZIP_SIG) for e in ends[n + 1]] + [(e - 3, containers.GZIP_SIG) for e in ends[n + 2]]
        self._sig_hits = sorted(p for p in sigs if start <= p[0] < stop)

    # -- containers -------------------------------------------------------------------------
    def scan_containers(
        self, buf: bytes, base: int, lo: int, hi: int, container: str, depth: int, reader: containers.Reader
    ) -> None:
        """Expand ZIP/GZIP members whose signature starts in ``[lo, hi)`` and scan them (depth-limited)."""
        if not self.options.recurse:
            return
        limits = self.options.limits
        if self._sig_hits is not None:  # found by the Hyperscan pass over this very window
            hits, self._sig_hits = self._sig_hits, None
        else:
            hits = [(i, containers.ZIP_SIG) for i in _find_all(buf, containers.ZIP_SIG, lo - base, hi - base)]
            hits += [(i, containers.GZIP_SIG) for i in _find_all(buf, containers.GZIP_SIG, lo - base, hi - base)]
        for pos, sig in sorted(hits):
            offset = base + pos
            prefix = f"{container}/{offset}" if container else str(offset)
            if depth >= limits.max_depth:
                self.skipped.append(
                    Skipped(f"maximum container depth {limits.max_depth} reached", offset, container, self.file)
                )
                continue
            budget = min(limits.max_member_bytes, limits.max_total_bytes - self.expanded)
            if budget <= 0:
                self.skipped.append(Skipped("total expansion limit reached", offset, container, self.file))
                continue
            try:
                if sig == containers.ZIP_SIG:
                    exp = containers.expand_zip(reader, offset, budget, limits)
                else:
                    exp = containers.expand_gzip(reader, offset, budget, limits)
            except (OSError, ValueError, MemoryError) as exc:
                self.skipped.append(Skipped(f"container could not be read: {exc}", offset, container, self.file))
                continue
            if exp is None or exp.chance_signature:
                continue
            path = f"{prefix}/{exp.label}"
            if exp.skip_reason:
                self.skipped.append(Skipped(exp.skip_reason, offset, container, self.file))
            if exp.data:
                self.expanded += len(exp.data)
                self.scan_bytes(exp.data, path, depth + 1)

    def scan_bytes(self, data: bytes, container: str, depth: int) -> None:
        """Scan an in-memory member completely."""
        self.scan_window(data, 0, 0, len(data), container)

        def reader(off: int, size: int) -> bytes:
            return data[off : off + size]

        self.scan_containers(data, 0, 0, len(data), container, depth, reader)

    # -- files ------------------------------------------------------------------------------
    def scan_file_range(
        self, path: str, lo: int, hi: int, progress: Progress | None = None, total: int = 0, done: int = 0
    ) -> int:
        """Scan ``[lo, hi)`` of a file chunk by chunk; returns the bytes covered."""
        chunk = self.options.chunk_size
        covered = 0
        kind = image_type(path)
        media = MediaImage(path, kind) if kind is not None else None
        with open(path, "rb", buffering=0) as fh:

            def reader(off: int, size: int) -> bytes:
                if media is not None:
                    return media.read(off, size)
                fh.seek(off)
                return fh.read(size)

            pos = lo
            while pos < hi:
                cend = min(pos + chunk, hi)
                wstart = max(0, pos - self.overlap)
                try:
                    buf = reader(wstart, cend + self.overlap - wstart)
                except OSError as exc:
                    self.skipped.append(Skipped(f"read error: {exc}", pos, "", self.file))
                    pos = cend
                    continue
                if len(buf) <= pos - wstart:
                    self.skipped.append(Skipped("unexpected end of data (file shrank?)", pos, "", self.file))
                    break
                self.scan_window(buf, wstart, pos, cend, "")
                self.scan_containers(buf, wstart, pos, cend, "", 0, reader)
                covered += cend - pos
                pos = cend
                if progress is not None:
                    progress(done + covered, total)
        return covered


#: Forensic image containers whose *media* is scanned (read through The Sleuth Kit's ``img_cat``,
#: which decompresses them), not the container's own bytes: magic at offset 0 -> TSK image type.
#: Only formats tested here are listed (EWF written by ``ewfacquire``: E01 and its L01 form).
IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = ((b"EVF\x09\x0d\x0a\xff\x00", "ewf"), (b"LVF\x09\x0d\x0a\xff\x00", "ewf"))


def image_type(path: str) -> str | None:
    """``ewf`` for an EnCase/EWF image (its media is what gets scanned), None for anything else."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    return next((kind for magic, kind in IMAGE_MAGIC if head.startswith(magic)), None)


class MediaImage:
    """Random access to the media inside a forensic image, by sector ranges of ``img_cat``
    (The Sleuth Kit). Each read runs one ``img_cat -s FIRST -e LAST``; reads are 16 MiB chunks, so
    the cost of starting it is small beside the decompression."""

    def __init__(self, path: str, kind: str) -> None:
        import shutil
        import subprocess

        self.path, self.kind = path, kind
        self._img_cat = shutil.which("img_cat")
        img_stat = shutil.which("img_stat")
        if self._img_cat is None or img_stat is None:
            raise OSError(f"{kind.upper()} image: The Sleuth Kit (img_cat, img_stat) is not installed")
        out = subprocess.run([img_stat, "-i", kind, path], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise OSError(f"{kind.upper()} image not readable: {out.stderr.strip()[:300]}")
        size = re.search(r"Size(?: of data)? in bytes:\s*(\d+)", out.stdout)
        sector = re.search(r"Sector size:\s*(\d+)", out.stdout)
        if size is None:
            raise OSError(f"{kind.upper()} image: media size not found by img_stat")
        self.size = int(size.group(1))
        self.sector = int(sector.group(1)) if sector else 512

    def read(self, off: int, size: int) -> bytes:
        import subprocess

        size = max(0, min(size, self.size - off))
        if size == 0:
            return b""
        first, last = off // self.sector, (off + size - 1) // self.sector
        start = ["-s", str(first)] if first else []  # img_cat refuses "-s 0" (it must be positive)
        out = subprocess.run([str(self._img_cat), "-i", self.kind, *start, "-e", str(last), self.path],
                             capture_output=True, timeout=600)
        if out.returncode != 0:
            raise OSError(f"img_cat failed at sector {first}: {out.stderr.decode('utf-8', 'replace').strip()[:300]}")
        skip = off - first * self.sector
        return out.stdout[skip : skip + size]


def source_size(path: str) -> int:
    """Size of a regular file or block device in bytes; of the media for a forensic image."""
    kind = image_type(path)
    if kind is not None:
        return MediaImage(path, kind).size
    with open(path, "rb") as fh:
        return fh.seek(0, os.SEEK_END)


def _walk(root: Path) -> Iterator[Path]:
    if root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if p.is_file() and not p.is_symlink():
                    yield p
    else:
        yield root


@dataclass(frozen=True)
class _Task:
    path: str
    rel: str
    lo: int
    hi: int


def _run_task(
    task: _Task, names: list[str] | None, options: Options
) -> tuple[list[Feature], list[Skipped], int, int, str]:
    engine = _Engine(select(names), options, task.rel)
    try:
        covered = engine.scan_file_range(task.path, task.lo, task.hi)
    except OSError as exc:
        engine.skipped.append(Skipped(f"unreadable: {exc}", task.lo, "", task.rel))
        covered = 0
    return engine.features, engine.skipped, covered, engine.expanded, engine.engine


def _plan(root: Path, jobs: int, chunk: int) -> tuple[list[_Task], list[Skipped]]:
    tasks: list[_Task] = []
    skipped: list[Skipped] = []
    for p in _walk(root):
        rel = "" if p == root else str(p.relative_to(root))
        try:
            size = source_size(str(p))
        except OSError as exc:
            skipped.append(Skipped(f"unreadable: {exc}", 0, "", rel))
            continue
        parts = jobs if jobs > 1 and size >= 2 << 20 else 1
        step = -(-size // parts) if size else 0
        for i in range(parts):
            lo, hi = i * step, min(size, (i + 1) * step)
            if hi > lo or (size == 0 and i == 0):
                tasks.append(_Task(str(p), rel, lo, hi))
    return tasks, skipped


#: Kinds whose matches are whole account numbers: a phone number read inside one is a part of it.
_WHOLE_NUMBERS = ("iban", "ccn")


def _drop_parts(features: Iterable[Feature]) -> list[Feature]:
    """Drop phone numbers read from inside an IBAN or card number found at the same place (the tail
    of ``GB30 IBOM 0058 2399 7421 19`` reads as a phone number; bench/forensics_scan.py found such)."""
    feats = list(features)
    spans: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for f in feats:
        if f.kind in _WHOLE_NUMBERS:
            # the compact value's length: never past the raw match (which may hold separators), and a
            # phone needs more digits than the few a separated match's raw form adds after it
            width = len(f.value) * (2 if f.encoding == "utf-16le" else 1)
            spans.setdefault((f.file, f.container, f.encoding), []).append((f.offset, f.offset + width))
    if not spans:
        return feats
    # per place: starts in order and the furthest end reached so far, for a bisect per phone
    index: dict[tuple[str, str, str], tuple[list[int], list[int]]] = {}
    for key, found in spans.items():
        found.sort()
        reach, far = [], -1
        for _a, b in found:
            far = max(far, b)
            reach.append(far)
        index[key] = ([a for a, _b in found], reach)

    def inside(f: Feature) -> bool:
        starts, reach = index.get((f.file, f.container, f.encoding), ([], []))
        i = bisect.bisect_right(starts, f.offset) - 1
        return i >= 0 and reach[i] > f.offset

    return [f for f in feats if f.kind != "phone" or not inside(f)]


def scan(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    jobs: int = 1,
    extractors: Iterable[str] | None = None,
    progress: Progress | None = None,
    options: Options | None = None,
) -> ScanResult:
    """Scan a file, raw image or directory for features.

    ``extractors`` selects registered extractors by name (default: all). With ``jobs > 1`` the source
    is split into byte ranges scanned by separate processes; results are merged and deduplicated.
    When ``out_dir`` is given, feature files, histograms and ``report.json`` are written there.
    """
    opts = options or Options()
    names = list(extractors) if extractors is not None else None
    select(names)  # fail early on unknown names
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"no such file or directory: {root}")
    t0 = time.perf_counter()
    tasks, skipped = _plan(root, max(1, jobs), opts.chunk_size)
    total = sum(t.hi - t.lo for t in tasks)
    result = ScanResult(str(root), jobs=max(1, jobs), skipped=skipped)
    result.files = len({t.path for t in tasks})
    features: list[Feature] = []
    if jobs <= 1:
        done = 0
        for t in tasks:
            engine = _Engine(select(names), opts, t.rel)
            try:
                done += engine.scan_file_range(t.path, t.lo, t.hi, progress, total, done)
            except OSError as exc:
                engine.skipped.append(Skipped(f"unreadable: {exc}", t.lo, "", t.rel))
            features += engine.features
            result.engine = engine.engine
            result.skipped += engine.skipped
            result.bytes_expanded += engine.expanded
        result.bytes_scanned = done
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_run_task, t, names, opts) for t in tasks]
            for fut in futures:
                feats, skips, covered, expanded, result.engine = fut.result()
                features += feats
                result.skipped += skips
                result.bytes_scanned += covered
                result.bytes_expanded += expanded
                if progress is not None:
                    progress(result.bytes_scanned, total)
    unique: dict[tuple[str, str, int, str, str, str], Feature] = {}
    for f in features:
        unique.setdefault(f.key(), f)
    result.features = sorted(_drop_parts(unique.values()),
                             key=lambda f: (f.file, f.container, f.offset, f.kind, f.value))
    result.skipped.sort(key=lambda s: (s.file, s.container, s.offset))
    result.seconds = time.perf_counter() - t0
    if out_dir is not None:
        from amane.forensics.report import write_report

        write_report(result, out_dir)
    return result
