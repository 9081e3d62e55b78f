"""Benchmark of hashing on evidence intake against the disk's plain read speed, in the same run.

Evidence intake computes SHA-256, SHA-1 and MD5 of a digital item in one read
(``amane.services.evidence.digest_path``). This script measures on the same file:

- plain read (1 MiB ``read`` calls, nothing done with the bytes): the disk's read speed;
- ``digest_path`` (what intake does);
- ``sha256sum`` (coreutils), the usual reference;
- three hashes each in its own thread over the same read (a possible change: hashlib releases the
  GIL on large buffers, so the three digests can run on separate cores);
- each hash alone, to show which one dominates.

Each is measured twice: *cold*, the file evicted from the page cache first (``posix_fadvise``
``DONTNEED`` on the file, checked with ``fincore`` when installed; ``--drop-caches`` instead writes 3
to ``/proc/sys/vm/drop_caches``, root only), and *warm*, the file in the page cache (CPU-bound speed).
On a virtual machine "cold" can still be served by the host's cache; the plain-read row tells.

    .venv/bin/python bench/hash_intake.py --size 1G [--file PATH] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amane.services.evidence import HASH_CHUNK, digest_path

MB = 1e6


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def write_file(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        for start in range(0, size, 64 << 20):
            fh.write(rng.randbytes(min(64 << 20, size - start)))
        fh.flush()
        os.fsync(fh.fileno())


def resident_bytes(path: Path) -> int | None:
    """Bytes of ``path`` in the page cache (``fincore``), or None when it cannot be told."""
    if shutil.which("fincore") is None:
        return None
    proc = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False,
    )
    try:
        return int(proc.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def evict(path: Path, drop_caches: bool) -> str:
    """Push ``path`` out of the page cache; returns how (and whether it worked)."""
    if drop_caches:
        os.sync()
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
            how = "drop_caches"
        except OSError as exc:
            how = f"drop_caches refused ({exc.strerror})"
    else:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        how = "fadvise"
    res = resident_bytes(path)
    return how if res is None else f"{how}, {res / MB:.0f} MB still cached"


def plain_read(path: Path) -> None:
    with open(path, "rb", buffering=0) as fh:
        while fh.read(HASH_CHUNK):
            pass


def intake(path: Path) -> None:
    digest_path(path)


def sha256sum(path: Path) -> None:
    subprocess.run(["sha256sum", str(path)], stdout=subprocess.DEVNULL, check=True)


def sequential_three(path: Path) -> None:
    """Baseline: SHA-256, SHA-1, MD5 over one read, updated one after the other in one thread (the
    intake before it moved to one thread per digest)."""
    hashes = [hashlib.sha256(), hashlib.sha1(usedforsecurity=False), hashlib.md5(usedforsecurity=False)]
    with open(path, "rb", buffering=0) as fh:
        while True:
            block = fh.read(HASH_CHUNK)
            if not block:
                break
            for h in hashes:
                h.update(block)
    for h in hashes:
        h.hexdigest()


def one_hash(name: str) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        h = hashlib.new(name, usedforsecurity=False)
        with open(path, "rb", buffering=0) as fh:
            while block := fh.read(HASH_CHUNK):
                h.update(block)
        h.hexdigest()

    return run


def timed(fn: Callable[[Path], None], path: Path) -> float:
    t0 = time.perf_counter()
    fn(path)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1G", help="size of the generated file (default 1G)")
    ap.add_argument("--file", help="hash this existing file instead of generating one")
    ap.add_argument("--dir", default="/tmp", help="where to write the generated file (default /tmp)")
    ap.add_argument("--drop-caches", action="store_true", help="evict with /proc/sys/vm/drop_caches (root)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args()
    tmpdir = None
    if args.file:
        path = Path(args.file)
    else:
        tmpdir = Path(tempfile.mkdtemp(prefix="amane-hash-bench-", dir=args.dir))
        path = tmpdir / "item.bin"
        write_file(path, parse_size(args.size), 2026)
    size = path.stat().st_size
    methods: list[tuple[str, Callable[[Path], None], bool]] = [
        ("plain read (disk speed)", plain_read, True),
        ("intake: digest_path (3 hashes, a thread each)", intake, True),
        ("sha256sum (coreutils)", sha256sum, True),
        ("baseline: the 3 hashes in one thread", sequential_three, True),
        ("SHA-256 alone", one_hash("sha256"), False),
        ("SHA-1 alone", one_hash("sha1"), False),
        ("MD5 alone", one_hash("md5"), False),
    ]
    rows: dict[str, dict[str, Any]] = {}
    evictions = set()
    try:
        for name, fn, cold in methods:
            row: dict[str, Any] = {}
            if cold:
                evictions.add(evict(path, args.drop_caches))
                row["cold_mb_per_s"] = round(size / MB / timed(fn, path), 1)
            plain_read(path)  # warm the cache
            row["warm_mb_per_s"] = round(size / MB / timed(fn, path), 1)
            rows[name] = row
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir)
    out = {"bytes": size, "cpus": os.cpu_count(), "eviction": sorted(evictions), "load": os.getloadavg()[0],
           "rows": rows}
    if args.json:
        print(json.dumps(out))
        return
    print(f"file {size / MB:.0f} MB; cache eviction: {'; '.join(sorted(evictions))}; load average {out['load']:.2f}")
    print(f"{'method':42s} {'cold MB/s':>10s} {'warm MB/s':>10s}")
    for name, row in rows.items():
        cold_s = f"{row['cold_mb_per_s']:10.1f}" if "cold_mb_per_s" in row else f"{'-':>10s}"
        print(f"{name:42s} {cold_s} {row['warm_mb_per_s']:10.1f}")
    base, ours = rows["plain read (disk speed)"], rows["intake: digest_path (3 hashes, a thread each)"]
    one = rows["baseline: the 3 hashes in one thread"]
    print(f"intake / one-thread baseline: cold {ours['cold_mb_per_s'] / one['cold_mb_per_s']:.2f}, "
          f"warm {ours['warm_mb_per_s'] / one['warm_mb_per_s']:.2f}")
    print(f"intake / disk read: cold {ours['cold_mb_per_s'] / base['cold_mb_per_s']:.2f}, "
          f"warm {ours['warm_mb_per_s'] / base['warm_mb_per_s']:.2f}", file=sys.stdout)


if __name__ == "__main__":
    main()
