"""Benchmark of the forensics feature scanner on a generated image with planted features.

Generates an image on disk, block by block (random and text-like 1 MiB blocks; features planted in
UTF-8 and UTF-16LE, card numbers contiguous and grouped with spaces or dashes, two features across
every chunk border, some inside ZIP and GZIP members), then measures in the same run:

- Amane's scanner (Hyperscan engine where installed) without and with recursion into ZIP/GZIP, with
  1 and 2 processes: throughput, recall/precision of the planted features;
- false hits per GB on pure random data;
- a plain single-pass ``re`` scanner with the same patterns and validators (no chunking, no UTF-16
  view, no recursion);
- with ``--bulk-extractor PATH``: bulk_extractor (built from its public source outside the
  repository) on the same image, default scanners and only its ``email`` + ``accts`` scanners, each with
  ``-j 1`` and ``-j 2``; its feature files are parsed and scored against the same planted features.

Prints one table (``--json``: one JSON object instead).

    .venv/bin/python bench/forensics_scan.py --size 1G --bulk-extractor /tmp/be/src/src/bulk_extractor

Written by hand: the generator of planted features and the parser/scorer of bulk_extractor's feature
files (forensic paths such as ``12345-GZIP-67``) are specific to this benchmark; no library does them.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from amane.forensics import Options, scan
from amane.forensics.extractors import DERIVED_KINDS, luhn_ok, registry
from amane.forensics.scanner import DEFAULT_CHUNK, HYPERSCAN_AVAILABLE

WORDS = (
    "the police report of case was filed in Rabat by officer Alami and the suspect left the scene before "
    "noon while witnesses described a grey vehicle near the market of Casablanca during the evening "
    "procès-verbal enquête témoin المحضر الشرطة الدار البيضاء"
).split()
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BLOCK = 1 << 20
Planted = tuple[str, str, int, str, str]  # kind, value, offset, container, encoding
Found = tuple[str, str, int, str, str]


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- feature generators (valid by construction: check digits computed, never hard-coded) -----------
def gen_card(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError


def gen_iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
    bban += "".join(rng.choice("0123456789") for _ in range(14))
    num = int("".join(str(int(c, 36)) for c in bban + "GB00"))
    return f"GB{98 - num % 97:02d}{bban}"


def gen_btc(rng: random.Random) -> str:
    payload = b"\x00" + rng.randbytes(20)
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    num = int.from_bytes(raw, "big")
    out = ""
    while num:
        num, r = divmod(num, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + out


def gen_feature(rng: random.Random) -> tuple[str, str, str]:
    """(kind, text as written, normalised value)."""
    k = rng.randrange(9)
    if k == 0:
        v = f"{rng.choice(WORDS[:20]).lower()}.{rng.randrange(10, 999)}@{rng.choice(['police', 'mail', 'site'])}.ma"
        return "email", v, v
    if k == 1:
        digits = f"06{rng.randrange(10**8):08d}"
        while not phonenumbers.is_valid_number(phonenumbers.parse(digits, "MA")):  # allocated ranges only
            digits = f"0{rng.choice('67')}{rng.randrange(10**8):08d}"
        text = (
            digits
            if rng.random() < 0.5
            else "+212 " + " ".join([digits[1], digits[2:4], digits[4:6], digits[6:8], digits[8:]])
        )
        return "phone", text, "+212" + digits[1:]
    if k == 2:
        card = gen_card(rng)
        return "ccn", card, card
    if k == 3:
        card = gen_card(rng)
        sep = rng.choice(" -")
        return "ccn", sep.join(card[i : i + 4] for i in range(0, 16, 4)), card
    if k == 4:
        iban = gen_iban(rng)
        return "iban", " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)), iban
    if k == 5:
        v = gen_btc(rng)
        return "bitcoin", v, v
    if k == 6:
        v = "0x" + rng.randbytes(20).hex()
        return "ethereum", v, v
    if k == 7:
        v = f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        return "ipv4", v, v
    v = f"https://www.{rng.choice(WORDS[:20]).lower()}{rng.randrange(100)}.ma/case/{rng.randrange(10**6)}"
    return "url", v, v


def text_block(rng: random.Random, size: int) -> bytes:
    parts: list[str] = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        parts.append(w)
        n += len(w.encode()) + 1
    return " ".join(parts).encode()[:size]


@dataclass
class Image:
    """A generated image: its planted features, and which of them are card numbers written in groups."""

    path: Path
    size: int
    planted: list[Planted] = field(default_factory=list)
    grouped_cards: set[Planted] = field(default_factory=set)


def generate(path: Path, size: int, seed: int, chunk: int) -> Image:
    """Plan the planted features, then write the image block by block (never all of it in memory)."""
    rng = random.Random(seed)  # features and their places
    img = Image(path, size)
    starts: list[int] = []  # sorted starts of the placed payloads (their ends do not overlap)
    payloads: dict[int, bytes] = {}

    def place(off: int, payload: bytes) -> bool:
        lo, end = off - 1, off + len(payload) + 1
        if off < 1 or end >= size:
            return False
        i = bisect.bisect_left(starts, lo)
        if i > 0 and starts[i - 1] + len(payloads[starts[i - 1]]) > lo - 1:
            return False
        if i < len(starts) and starts[i] < end + 1:
            return False
        starts.insert(i, lo)
        payloads[lo] = b" " + payload + b" "
        return True

    def plant_one(off: int) -> None:
        kind, text, value = gen_feature(rng)
        utf16 = rng.random() < 0.3
        if utf16:  # the UTF-16LE view needs UTF-16 surroundings
            payload = " ".encode("utf-16le") + text.encode("utf-16le") + " ".encode("utf-16le")
            p: Planted = (kind, value, off + 2, "", "utf-16le")
        else:
            payload, p = text.encode(), (kind, value, off, "", "utf-8")
        if place(off, payload):
            img.planted.append(p)
            if kind == "ccn" and text != value:
                img.grouped_cards.add(p)

    count = max(200, size // (256 << 10))  # about 4 per MiB
    for _ in range(count):
        plant_one(rng.randrange(1, size - 400))
    for border in range(chunk, size - 200, chunk):  # straddling every chunk border
        for shift in (5, 17):
            plant_one(border - shift)
    for i in range(max(4, size // (32 << 20))):  # containers
        members = [gen_feature(rng) for _ in range(5)]
        body = " ".join(t for _, t, _ in members)
        if i % 2:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(f"docs/m{i}.txt", text_block(rng, 2000).decode(errors="ignore") + " " + body + " ")
            blob, label = buf.getvalue(), f"zip:docs/m{i}.txt"
        else:
            inner = (text_block(rng, 1000).decode(errors="ignore") + " " + body + " ").encode()
            blob, label = gzip.compress(inner, mtime=0), "gzip"
        off = rng.randrange(1, size - len(blob) - 10)
        if not place(off, blob):
            continue
        if i % 2:
            with zipfile.ZipFile(io.BytesIO(blob)) as z:
                inner = z.read(f"docs/m{i}.txt")
        pos = 0
        for kind, text, value in members:
            at = inner.index(text.encode(), pos)
            p = (kind, value, at, f"{off}/{label}", "utf-8")
            img.planted.append(p)
            if kind == "ccn" and text != value:
                img.grouped_cards.add(p)
            pos = at + 1

    brng = random.Random(seed + 7)  # block contents
    pool = text_block(brng, 8 * BLOCK)  # text-like blocks are windows of this pool (generating words is slow)
    longest = max((len(v) for v in payloads.values()), default=0)
    with open(path, "wb") as fh:
        for b in range(0, size, BLOCK):
            n = min(BLOCK, size - b)
            if brng.random() < 0.5:
                block = bytearray(brng.randbytes(n))
            else:
                at = brng.randrange(len(pool) - n + 1)
                block = bytearray(pool[at : at + n])
            i = bisect.bisect_left(starts, b - longest)
            while i < len(starts) and starts[i] < b + n:
                s = starts[i]
                data = payloads[s]
                lo, hi = max(s, b), min(s + len(data), b + n)
                if lo < hi:
                    block[lo - b : hi - b] = data[lo - s : hi - s]
                i += 1
            fh.write(block)
    return img


def write_random(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        for start in range(0, size, 64 << 20):
            fh.write(rng.randbytes(min(64 << 20, size - start)))


# -- scoring -------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the table."""

    name: str
    mb_s: dict[int, float] = field(default_factory=dict)  # processes/threads -> MB/s
    cpu_mb_s: dict[int, float] = field(default_factory=dict)  # processes/threads -> MB per CPU-second
    recall: float = 0.0
    recall_supported: float | None = None  # over the kinds the tool has a scanner for
    recall_grouped_cards: float = 0.0
    precision: float = 1.0
    false_in_image: int = 0
    random_false_per_gb: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "mb_per_s_1": round(self.mb_s[1], 1) if 1 in self.mb_s else None,
            "mb_per_s_2": round(self.mb_s[2], 1) if 2 in self.mb_s else None,
            "mb_per_cpu_s_1": round(self.cpu_mb_s[1], 1) if 1 in self.cpu_mb_s else None,
            "mb_per_cpu_s_2": round(self.cpu_mb_s[2], 1) if 2 in self.cpu_mb_s else None,
            "recall": round(self.recall, 5),
            "recall_supported_kinds": None if self.recall_supported is None else round(self.recall_supported, 5),
            "recall_grouped_cards": round(self.recall_grouped_cards, 5),
            "precision": round(self.precision, 5),
            "false_hits_in_image": self.false_in_image,
            "random_false_hits_per_gb": (
                None if self.random_false_per_gb is None else round(self.random_false_per_gb, 2)
            ),
            "note": self.note,
        }


def score(row: Row, found: set[Planted], reported: int, img: Image, kinds: Iterable[str] | None = None) -> None:
    """Fill recall/precision of ``row``: ``found`` are the planted features matched, ``reported`` the number of
    distinct features the tool reported in the planted kinds (matched or not)."""
    want = set(img.planted)
    tp = len(found & want)
    row.recall = tp / len(want)
    if kinds is not None:
        sup = {p for p in want if p[0] in set(kinds)}
        row.recall_supported = len(found & sup) / len(sup) if sup else 0.0
    row.recall_grouped_cards = len(found & img.grouped_cards) / len(img.grouped_cards) if img.grouped_cards else 1.0
    row.precision = tp / reported if reported else 1.0
    row.false_in_image = reported - tp


def score_amane(row: Row, feats: list[Found], img: Image) -> None:
    kinds = {p[0] for p in img.planted}
    found = {f for f in feats if f[0] in kinds}
    score(row, found & set(img.planted), len(found), img)


def baseline_re(path: Path) -> tuple[list[Found], float]:
    """Plain single-pass ``re`` scanner: same patterns and validators, whole file, UTF-8 view only."""
    t0 = time.perf_counter()
    data = path.read_bytes()
    out = []
    for ex in registry().values():
        for m in ex.pattern.finditer(data):
            v = ex.validate(m.group())
            if v is not None:
                out.append((ex.name, v, m.start(), "", "utf-8"))
    return out, time.perf_counter() - t0


# -- bulk_extractor ------------------------------------------------------------------------------
#: bulk_extractor feature file -> planted kind.
BE_FILES = {"email.txt": "email", "ccn.txt": "ccn", "telephone.txt": "phone", "url.txt": "url"}
BE_CONFIGS: dict[str, list[str]] = {
    "bulk_extractor default": [],
    "bulk_extractor email+accts": ["-x", "all", "-e", "email", "-e", "accts"],
}
_BE_ESC = re.compile(r"\\x([0-9A-Fa-f]{2})|\\([0-7]{3})")
_BE_PATH = re.compile(r"^(\d+)(?:-(ZIP|GZIP)-(\d+))?$")
OFFSET_SLACK = 4  # bytes of tolerance between bulk_extractor's offset and the planted one


def be_value(kind: str, raw: str) -> str | None:
    """Normalise a bulk_extractor feature like Amane's values (digits for cards, E.164 for phones)."""
    text = _BE_ESC.sub(lambda m: chr(int(m.group(1), 16) if m.group(1) else int(m.group(2), 8)), raw)
    text = text.replace("\x00", "")
    if kind == "email":
        return text.lower()
    if kind == "ccn":
        return re.sub(r"\D", "", text)
    if kind == "phone":
        try:
            num = phonenumbers.parse(text, "MA")
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return text


def parse_be(outdir: Path) -> list[tuple[str, str | None, str, int]]:
    """(kind, normalised value, container key, offset) of every feature in the feature files we score.

    Container key: ``""`` at top level, ``"<offset>/zip"`` or ``"<offset>/gzip"`` one level down (the
    forensic path ``12345-GZIP-67`` is the GZIP stream at byte 12345, offset 67 in its expanded data).
    Deeper paths are kept with their raw text, so they can only count as unmatched.
    """
    out = []
    for fname, kind in BE_FILES.items():
        f = outdir / fname
        if not f.exists():
            continue
        for line in f.read_text(errors="replace").splitlines():
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            m = _BE_PATH.match(parts[0])
            if m is None:
                out.append((kind, be_value(kind, parts[1]), parts[0], -1))
            elif m.group(2):
                out.append((kind, be_value(kind, parts[1]), f"{m.group(1)}/{m.group(2).lower()}", int(m.group(3))))
            else:
                out.append((kind, be_value(kind, parts[1]), "", int(m.group(1))))
    return out


def score_be(row: Row, outdir: Path, img: Image) -> None:
    index: dict[tuple[str, str, str], list[tuple[int, Planted]]] = {}
    for p in img.planted:
        kind, value, off, container, _ = p
        ckey = ""
        if container:
            coff, label = container.split("/", 1)
            ckey = f"{coff}/{label.split(':', 1)[0]}"
        index.setdefault((kind, value, ckey), []).append((off, p))
    found: set[Planted] = set()
    reported: set[tuple[str, str | None, str, int]] = set(parse_be(outdir))
    matched = 0
    for rkind, rvalue, rkey, roff in reported:
        hits = [p for poff, p in index.get((rkind, rvalue or "", rkey), []) if abs(poff - roff) <= OFFSET_SLACK]
        found.update(hits)
        matched += bool(hits)
    score(row, found, len(reported), img, kinds=BE_FILES.values())
    row.precision = matched / len(reported) if reported else 1.0
    row.false_in_image = len(reported) - matched


def run_be(exe: str, args: list[str], image: Path, threads: int, workdir: Path, tag: str) -> tuple[Path, float]:
    outdir = workdir / f"be-{tag}-j{threads}"
    if outdir.exists():
        shutil.rmtree(outdir)
    cmd = [exe, "-q", "-0", "-j", str(threads), *args, "-o", str(outdir), str(image)]
    log("running " + " ".join(cmd))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"bulk_extractor failed ({proc.returncode}): {proc.stdout[-2000:]}")
    return outdir, secs


def be_random_hits(outdir: Path, rsize: int) -> float:
    return len(parse_be(outdir)) / (rsize / 1e9)


def be_version(exe: str) -> str:
    proc = subprocess.run([exe, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "unknown"


# -- main ----------------------------------------------------------------------------------------
def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (worker processes, bulk_extractor)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed_amane(path: Path, jobs: int, recurse: bool) -> tuple[list[Found], float, int]:
    r = scan(path, jobs=jobs, options=Options(recurse=recurse))
    feats = [(f.kind, f.value, f.offset, f.container, f.encoding) for f in r.features]
    return feats, r.mb_per_s, len(r.skipped)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1G", help="image size, e.g. 200M, 1G (default 1G)")
    ap.add_argument("--random-size", default="256M", help="pure random data for the false-hit rate")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-baseline", action="store_true", help="skip the (slow) plain re baseline")
    ap.add_argument("--bulk-extractor", metavar="PATH", help="bulk_extractor executable to run on the same image")
    ap.add_argument("--dir", default=None, help="where to write the images (default: a temp dir in /tmp, removed)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args()
    size, rsize = parse_size(args.size), parse_size(args.random_size)
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="amane-forensics-bench-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    image, noise = workdir / "image.bin", workdir / "random.bin"
    t = time.perf_counter()
    img = generate(image, size, args.seed, DEFAULT_CHUNK)
    write_random(noise, rsize, args.seed + 1)
    log(f"generated {size / 1e6:.0f} MB image with {len(img.planted)} planted features "
        f"({len(img.grouped_cards)} grouped card numbers) in {time.perf_counter() - t:.1f}s")
    with open(image, "rb") as fh:  # warm the page cache the same way for every scanner
        while fh.read(64 << 20):
            pass
    engine = "hyperscan" if HYPERSCAN_AVAILABLE else "re"
    meta: dict[str, Any] = {
        "size_bytes": size, "random_bytes": rsize, "planted": len(img.planted),
        "grouped_cards": len(img.grouped_cards), "engine": engine, "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    rows: list[Row] = []
    for name, recurse in ((f"amane ({engine}, no recursion)", False), (f"amane ({engine}) + ZIP/GZIP", True)):
        row = Row(name)
        # the random-data scan goes first: it also compiles the Hyperscan database, which every timed run
        # below then finds in the process's cache (inherited by forked workers), as a long-running service would
        rn = scan(noise, options=Options(recurse=recurse))
        noise_hits = [f for f in rn.features if f.kind not in DERIVED_KINDS]  # a false e-mail also yields a domain
        row.random_false_per_gb = len(noise_hits) / (rsize / 1e9)
        ref: set[Found] = set()
        for jobs in (1, 2):
            log(f"running {name} jobs={jobs}")
            cpu = cpu_seconds()
            feats, mbs, skipped = timed_amane(image, jobs, recurse)
            row.cpu_mb_s[jobs] = size / 1e6 / (cpu_seconds() - cpu)
            row.mb_s[jobs] = mbs
            if jobs == 1:
                score_amane(row, feats, img)
                ref = set(feats)
            elif set(feats) != ref:
                row.note = "jobs=2 result differs from jobs=1!"
        rows.append(row)
    if not args.no_baseline:
        log("running plain re baseline")
        cpu = cpu_seconds()
        feats, secs = baseline_re(image)
        row = Row("plain re, 1 pass", {1: size / 1e6 / secs}, {1: size / 1e6 / (cpu_seconds() - cpu)})
        score_amane(row, feats, img)
        rows.append(row)
    if args.bulk_extractor:
        meta["bulk_extractor"] = be_version(args.bulk_extractor)
        for name, be_args in BE_CONFIGS.items():
            row = Row(name)
            tag = "default" if not be_args else "email-accts"
            for threads in (1, 2):
                cpu = cpu_seconds()
                outdir, secs = run_be(args.bulk_extractor, be_args, image, threads, workdir, tag)
                row.cpu_mb_s[threads] = size / 1e6 / (cpu_seconds() - cpu)
                row.mb_s[threads] = size / 1e6 / secs
                if threads == 1:
                    score_be(row, outdir, img)
                shutil.rmtree(outdir)
            outdir, _ = run_be(args.bulk_extractor, be_args, noise, 2, workdir, tag + "-random")
            row.random_false_per_gb = be_random_hits(outdir, rsize)
            shutil.rmtree(outdir)
            rows.append(row)
    meta["load_after"] = os.getloadavg()[0]
    results = {**meta, "rows": {r.name: r.as_dict() for r in rows}}
    if args.json:
        print(json.dumps(results))
    else:
        print_table(rows, meta)
    if not args.dir:
        shutil.rmtree(workdir)


def fmt(v: float | None, spec: str) -> str:
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if v is None else format(v, spec)


def print_table(rows: list[Row], meta: dict[str, Any]) -> None:
    line: Callable[..., None] = print
    line(f"image {meta['size_bytes'] / 1e6:.0f} MB, {meta['planted']} planted features "
         f"({meta['grouped_cards']} grouped card numbers); random data {meta['random_bytes'] / 1e6:.0f} MB; "
         f"load average {meta['load_before']:.2f} before, {meta['load_after']:.2f} after")
    if "bulk_extractor" in meta:
        line(f"bulk_extractor: {meta['bulk_extractor']}")
    head = (f"{'scanner':34s} {'MB/s 1':>8s} {'MB/s 2':>8s} {'x2':>5s} {'cpu 1':>7s} {'cpu 2':>7s} "
            f"{'recall':>7s} {'rec.sup':>7s} "
            f"{'grouped':>7s} {'precis.':>7s} {'false':>6s} {'rnd/GB':>7s}")
    line(head)
    for r in rows:
        one, two = r.mb_s.get(1), r.mb_s.get(2)
        ratio = two / one if one and two else None
        line(f"{r.name:34s} {fmt(one, '8.1f')} {fmt(two, '8.1f')} {fmt(ratio, '5.2f')} "
             f"{fmt(r.cpu_mb_s.get(1), '7.1f')} {fmt(r.cpu_mb_s.get(2), '7.1f')} {r.recall:7.4f} "
             f"{fmt(r.recall_supported, '7.4f')} {r.recall_grouped_cards:7.4f} {r.precision:7.4f} "
             f"{r.false_in_image:6d} {fmt(r.random_false_per_gb, '7.1f')}" + (f"  {r.note}" if r.note else ""))
    line("MB/s 1/2: one/two processes (bulk_extractor: -j 1/-j 2 threads), wall clock; x2: ratio; cpu 1/2: MB per "
         "CPU-second (all processes; independent of other load: equal figures mean the work scales); "
         "rec.sup: recall over the "
         "kinds the tool has a scanner for (bulk_extractor: email, ccn, telephone, url); grouped: recall of card "
         "numbers written in groups; false: reported features in the planted kinds matching no planted one; "
         "rnd/GB: features reported per GB of pure random data")


if __name__ == "__main__":
    main()
