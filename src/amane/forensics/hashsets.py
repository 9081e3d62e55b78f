"""Hash sets: known-good (NSRL-style) and known-bad lists of file digests, and classification of files.

Formats read (the type of each hash is told by its length: 32 hex digits MD5, 40 SHA-1, 64 SHA-256):

- NSRL RDS 2.x ``NSRLFile.txt``: CSV with the header ``"SHA-1","MD5","CRC32","FileName",...``; every
  hash column whose header names a known algorithm (``SHA-1``/``SHA1``, ``MD5``, ``SHA-256``/``SHA256``)
  is imported, other columns are ignored;
- one hash per line (NSRL RDSv3 "minimal" exports, plain MD5/SHA-1/SHA-256 lists); ``#`` starts a
  comment line;
- ``sha256sum``/``md5sum``/``sha1sum`` output (``HASH  name`` or ``HASH *name``) and the BSD tag style
  (``SHA256 (name) = HASH``).

A bad line (not hexadecimal, a length that is no known digest, a missing hash column) is counted and
reported with its line number and the reason; it does not stop the import. Digests are kept as raw
``bytes`` in one set per algorithm (16/20/32 bytes each instead of 32/40/64-character strings). This
module is written by hand: no PyPI library reads these list formats into a membership structure.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

KINDS = ("known_good", "known_bad")
ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256"}
"""Hex length -> algorithm."""
_HEADER_NAMES = {"md5": "md5", "sha1": "sha1", "sha-1": "sha1", "sha256": "sha256", "sha-256": "sha256"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_BSD_LINE = re.compile(r"^(MD5|SHA1|SHA256|SHA-1|SHA-256) ?\(.*\) ?= ?([0-9a-fA-F]+)$", re.IGNORECASE)
MAX_ERRORS_KEPT = 1000


@dataclass(frozen=True)
class LineError:
    """A line that could not be imported."""

    line: int
    reason: str


@dataclass
class HashSet:
    """A named known-good or known-bad set of digests (raw bytes, one set per algorithm)."""

    name: str
    kind: str
    hashes: dict[str, set[bytes]] = field(default_factory=lambda: {a: set() for a in ALGORITHMS.values()})
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    lines: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.name.strip():
            raise ValueError("a hash set needs a name")

    def __len__(self) -> int:
        return sum(len(s) for s in self.hashes.values())

    def counts(self) -> dict[str, int]:
        return {a: len(s) for a, s in self.hashes.items() if s}

    def add(self, hex_digest: str, *, expect: str | None = None) -> str:
        """Add one hex digest; returns its algorithm. Raises ``ValueError`` naming the problem."""
        algo, raw = parse_digest(hex_digest)
        if expect is not None and algo != expect:
            raise ValueError(f"the column is {expect} but holds a {algo} hash")
        self.hashes[algo].add(raw)
        return algo

    def contains(self, algorithm: str, hex_digest: str | None) -> bool:
        if not hex_digest:
            return False
        s = self.hashes.get(algorithm)
        if not s:
            return False
        try:
            return bytes.fromhex(hex_digest) in s
        except ValueError:
            return False

    def _error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(LineError(line, reason))

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "source": self.source, "lines": self.lines,
                "hashes": self.counts(), "invalid_lines": self.error_count,
                "errors": [{"line": e.line, "reason": e.reason} for e in self.errors[:20]]}


def parse_digest(hex_digest: str) -> tuple[str, bytes]:
    """``(algorithm, raw bytes)`` of a hex digest, the algorithm told by its length."""
    h = hex_digest.strip()
    if not h:
        raise ValueError("empty hash")
    if not _HEX.match(h):
        raise ValueError("not a hexadecimal hash")
    algo = ALGORITHMS.get(len(h))
    if algo is None:
        raise ValueError(f"{len(h)} hex digits is no MD5 (32), SHA-1 (40) or SHA-256 (64) hash")
    return algo, bytes.fromhex(h)


def _csv_columns(header: list[str]) -> dict[int, str] | None:
    cols = {}
    for i, h in enumerate(header):
        algo = _HEADER_NAMES.get(h.strip().strip('"').lower())
        if algo:
            cols[i] = algo
    return cols or None


def read_lines(hs: HashSet, lines: Iterable[str]) -> HashSet:
    """Import lines into ``hs`` (format detected from the first non-comment line)."""
    it: Iterator[str] = iter(lines)
    columns: dict[int, str] | None = None
    lineno = 0
    first = True
    for raw in it:
        lineno += 1
        line = raw.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if first:
            first = False
            if "," in line and any(n in line.lower() for n in ("md5", "sha")):
                columns = _csv_columns(next(csv.reader([line])))
                if columns:
                    break  # CSV with a header: handled below
        _plain_line(hs, line, lineno)
    if columns:
        reader = csv.reader(it)
        width = max(columns) + 1
        for row in reader:
            lineno += 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) < width:
                hs._error(lineno, f"{len(row)} columns, the header has at least {width}")
                continue
            for i, algo in columns.items():
                value = row[i].strip()
                if not value:
                    continue
                try:
                    hs.add(value, expect=algo)
                except ValueError as exc:
                    hs._error(lineno, f"column {i + 1}: {exc}")
    hs.lines = lineno
    return hs


def _plain_line(hs: HashSet, line: str, lineno: int) -> None:
    text = line.strip()
    m = _BSD_LINE.match(text)
    value = m.group(2) if m else text.split()[0]  # "HASH", "HASH  name" or "HASH *name"
    try:
        hs.add(value)
    except ValueError as exc:
        hs._error(lineno, str(exc))


def load_hash_set(path: str | os.PathLike[str], *, kind: str, name: str | None = None) -> HashSet:
    """Read a hash list file (any format above) into a new ``HashSet`` named after the file by default."""
    p = Path(path)
    hs = HashSet(name or p.stem, kind, source=str(p))
    with open(p, encoding="utf-8", errors="replace", newline="") as fh:
        read_lines(hs, fh)
    return hs


class Hashed(Protocol):
    """Anything with hex digests (``FileEntry`` from ``amane.forensics.filesystems``)."""

    @property
    def sha256(self) -> str | None: ...
    @property
    def md5(self) -> str | None: ...
    @property
    def sha1(self) -> str | None: ...


H = TypeVar("H", bound=Hashed)


@dataclass(frozen=True)
class Match(Generic[H]):
    """A file found in a hash set."""

    entry: H
    set_name: str
    kind: str
    algorithm: str
    digest: str


@dataclass
class Classification(Generic[H]):
    """``known_bad``: matches to report; ``known_good``: files to skip; ``unknown``: the rest;
    ``unhashed``: entries without any digest (directories, unreadable files)."""

    known_bad: list[Match[H]] = field(default_factory=list)
    known_good: list[Match[H]] = field(default_factory=list)
    unknown: list[H] = field(default_factory=list)
    unhashed: list[H] = field(default_factory=list)

    def kept(self) -> list[H]:
        """Files still to examine: known-bad and unknown ones (known-good ones are skipped)."""
        return [m.entry for m in self.known_bad] + self.unknown


def _first_match(entry: H, sets: list[HashSet]) -> Match[H] | None:
    for hs in sets:
        for algo in ("sha256", "sha1", "md5"):
            digest = getattr(entry, algo)
            if digest and hs.contains(algo, digest):
                return Match(entry, hs.name, hs.kind, algo, digest)
    return None


def classify(entries: Iterable[H], sets: Iterable[HashSet]) -> Classification[H]:
    """Sort hashed files by the sets they are in; a file in a known-bad set is reported even if it is
    also in a known-good set (bad wins, one match per file: the first set in order that holds it)."""
    all_sets = list(sets)
    bad = [s for s in all_sets if s.kind == "known_bad"]
    good = [s for s in all_sets if s.kind == "known_good"]
    out: Classification[H] = Classification()
    for e in entries:
        if not (e.sha256 or e.sha1 or e.md5):
            out.unhashed.append(e)
            continue
        m = _first_match(e, bad)
        if m is not None:
            out.known_bad.append(m)
            continue
        m = _first_match(e, good)
        if m is not None:
            out.known_good.append(m)
        else:
            out.unknown.append(e)
    return out
