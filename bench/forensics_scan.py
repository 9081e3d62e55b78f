"""Benchmark of the forensics feature scanner on a generated image with planted features.

Generates an image (random and text-like blocks; features planted in UTF-8 and UTF-16LE, card numbers
contiguous and grouped, some across chunk borders, some inside ZIP and GZIP members), then measures in
the same run: throughput with jobs=1 and jobs=2, recall/precision of the planted features, false hits
per GB on pure random data, and a baseline: a plain single-pass ``re`` scanner with the same patterns
and validators (no chunking, no UTF-16 view, no recursion). Prints a table and a final JSON line.

    .venv/bin/python bench/forensics_scan.py --size 200M

bulk_extractor (the issue's other baseline) must be built from its public source outside the
repository; it is not run here.
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
import tempfile
import time
import zipfile
from pathlib import Path

import phonenumbers

from amane.forensics import scan
from amane.forensics.extractors import DERIVED_KINDS, luhn_ok, registry
from amane.forensics.scanner import DEFAULT_CHUNK, HYPERSCAN_AVAILABLE

WORDS = (
    "the police report of case was filed in Rabat by officer Alami and the suspect left the scene before "
    "noon while witnesses described a grey vehicle near the market of Casablanca during the evening "
    "procès-verbal enquête témoin المحضر الشرطة الدار البيضاء"
).split()
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
Planted = tuple[str, str, int, str, str]  # kind, value, offset, container, encoding


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


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


def generate(path: Path, size: int, seed: int, chunk: int) -> list[Planted]:
    """Write the image and return the planted features."""
    rng = random.Random(seed)
    data = bytearray()
    block = 1 << 20
    while len(data) < size:
        n = min(block, size - len(data))
        data += rng.randbytes(n) if rng.random() < 0.5 else text_block(rng, n)
    planted: list[Planted] = []
    taken: list[tuple[int, int]] = []

    def place(off: int, payload: bytes) -> bool:
        end = off + len(payload) + 1
        i = bisect.bisect_left(taken, (off - 1, end))
        clash = (i > 0 and taken[i - 1][1] > off - 2) or (i < len(taken) and taken[i][0] < end + 1)
        if off < 1 or end >= size or clash:
            return False
        data[off - 1 : end] = b" " + payload + b" "
        taken.insert(i, (off - 1, end))
        return True

    def plant_one(off: int) -> None:
        kind, text, value = gen_feature(rng)
        utf16 = rng.random() < 0.3
        payload = text.encode("utf-16le") if utf16 else text.encode()
        if utf16:  # the UTF-16LE view needs UTF-16 surroundings
            payload = " ".encode("utf-16le") + payload + " ".encode("utf-16le")
            if place(off, payload):
                planted.append((kind, value, off + 2, "", "utf-16le"))
        elif place(off, payload):
            planted.append((kind, value, off, "", "utf-8"))

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
            inner = (text_block(rng, 2000).decode(errors="ignore") + " " + body + " ").encode()
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
            planted.append((kind, value, at, f"{off}/{label}", "utf-8"))
            pos = at + 1
    with open(path, "wb") as fh:
        fh.write(data)
    return planted


def score(features: list[tuple[str, str, int, str, str]], planted: list[Planted]) -> tuple[float, float, int]:
    """Recall, precision (over planted kinds, derived ``domain`` excluded) and false hits."""
    kinds = {p[0] for p in planted}
    found = {f for f in features if f[0] in kinds}
    want = set(planted)
    tp = len(found & want)
    return tp / len(want), tp / len(found) if found else 1.0, len(found - want)


def baseline_re(path: Path) -> tuple[list[tuple[str, str, int, str, str]], float]:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1G", help="image size, e.g. 200M, 1G (default 1G)")
    ap.add_argument("--random-size", default="256M", help="pure random data for the false-hit rate")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-baseline", action="store_true", help="skip the (slow) plain re baseline")
    ap.add_argument("--dir", default=None, help="where to write the images (default: a temp dir)")
    args = ap.parse_args()
    size, rsize = parse_size(args.size), parse_size(args.random_size)
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="amane-forensics-bench-"))
    image, noise = workdir / "image.bin", workdir / "random.bin"
    t = time.perf_counter()
    planted = generate(image, size, args.seed, DEFAULT_CHUNK)
    nrng = random.Random(args.seed + 1)
    with open(noise, "wb") as fh:
        for start in range(0, rsize, 64 << 20):
            fh.write(nrng.randbytes(min(64 << 20, rsize - start)))
    print(f"generated {size / 1e6:.0f} MB image with {len(planted)} planted features in {time.perf_counter() - t:.1f}s")
    rows = []
    engine = "hyperscan" if HYPERSCAN_AVAILABLE else "re"
    results: dict[str, object] = {"size_bytes": size, "planted": len(planted), "engine": engine, "cpus": os.cpu_count()}
    for jobs in (1, 2):
        r = scan(image, jobs=jobs)
        feats = [(f.kind, f.value, f.offset, f.container, f.encoding) for f in r.features]
        rec, prec, fp = score(feats, planted)
        rows.append((f"amane {r.engine} jobs={jobs}", r.mb_per_s, rec, prec, fp, len(r.skipped)))
        results[f"jobs{jobs}"] = {
            "mb_per_s": round(r.mb_per_s, 1),
            "recall": round(rec, 5),
            "precision": round(prec, 5),
            "false_hits": fp,
            "skipped": len(r.skipped),
        }
    rn = scan(noise)
    noise_hits = [f for f in rn.features if f.kind not in DERIVED_KINDS]  # a false e-mail also yields a domain
    per_gb = len(noise_hits) / (rsize / 1e9)
    results["random_false_hits_per_gb"] = round(per_gb, 2)
    results["random_counts"] = rn.counts()
    if not args.no_baseline:
        feats, secs = baseline_re(image)
        rec, prec, fp = score(feats, planted)
        rows.append(("baseline plain re (1 pass)", size / 1e6 / secs, rec, prec, fp, 0))
        results["baseline_re"] = {
            "mb_per_s": round(size / 1e6 / secs, 1),
            "recall": round(rec, 5),
            "precision": round(prec, 5),
        }
    print(f"\n{'scanner':32s} {'MB/s':>8s} {'recall':>8s} {'precision':>10s} {'false':>6s} {'skipped':>8s}")
    for name, mbs, rec, prec, fp, sk in rows:
        print(f"{name:32s} {mbs:8.1f} {rec:8.4f} {prec:10.4f} {fp:6d} {sk:8d}")
    print(f"false hits on {rsize / 1e6:.0f} MB of random data: {len(noise_hits)} ({per_gb:.1f} per GB)")
    print("bulk_extractor: not run (build it from source outside the repository)")
    print(json.dumps(results))
    if not args.dir:
        image.unlink()
        noise.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
