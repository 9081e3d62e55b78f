"""Hash sets: the NSRL RDS CSV, one-hash-per-line and sha256sum formats, bad lines reported with their
number and reason, classification of real files (known-good left out, known-bad reported)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from amane.forensics.filesystems import FileEntry
from amane.forensics.hashsets import HashSet, classify, load_hash_set, parse_digest

ORIGINAL = Path("/usr/share/forensics-samples/original-files")


def entry(path: str, data: bytes) -> FileEntry:
    return FileEntry(1, path, "1", "r", len(data), False, sha256=hashlib.sha256(data).hexdigest(),
                     md5=hashlib.md5(data).hexdigest(), sha1=hashlib.sha1(data).hexdigest(), read_bytes=len(data))


def sample_files() -> dict[str, bytes]:
    """Real files when forensics-samples-files is installed, generated ones otherwise (the logic is the same)."""
    if ORIGINAL.is_dir():
        return {p.name: p.read_bytes() for p in sorted((ORIGINAL / "text2").iterdir())}
    rng = random.Random(5)
    return {f"f{i}.bin": rng.randbytes(100 + i) for i in range(4)}


def test_nsrl_rds_csv_with_bad_rows(tmp_path: Path) -> None:
    files = sample_files()
    names = sorted(files)
    rows = ['"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"']
    for n in names:
        d = files[n]
        rows.append(f'"{hashlib.sha1(d).hexdigest().upper()}","{hashlib.md5(d).hexdigest().upper()}",'
                    f'"00000000","{n}",{len(d)},1,"358",""')
    rows.append('"NOT-A-HASH","D41D8CD98F00B204E9800998ECF8427E","0","x",0,1,"1",""')  # line n+2
    rows.append('"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"')  # too few columns
    rows.append('"D41D8CD98F00B204E9800998ECF8427E","D41D8CD98F00B204E9800998ECF8427E","0","y",0,1,"1",""')
    p = tmp_path / "NSRLFile.txt"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    hs = load_hash_set(p, kind="known_good")
    assert hs.name == "NSRLFile" and hs.kind == "known_good"
    # every file's SHA-1 and MD5, plus the valid MD5 of the row whose SHA-1 is bad, and of the last row
    assert hs.counts() == {"md5": len(names) + 1, "sha1": len(names)}
    assert [(e.line, e.reason.split(":")[0]) for e in hs.errors] == [
        (len(names) + 2, "column 1"), (len(names) + 3, "1 columns, the header has at least 2"),
        (len(names) + 4, "column 1")]
    assert "sha1 but holds a md5" in hs.errors[-1].reason or "holds a md5 hash" in hs.errors[-1].reason
    for n in names:
        assert hs.contains("sha1", hashlib.sha1(files[n]).hexdigest())
        assert hs.contains("md5", hashlib.md5(files[n]).hexdigest())
    assert not hs.contains("sha256", hashlib.sha256(files[names[0]]).hexdigest())


def test_plain_sha256sum_and_bsd_lines_autodetected(tmp_path: Path) -> None:
    files = sample_files()
    names = sorted(files)
    a, b, c = (files[n] for n in names[:3])
    text = "\n".join([
        "# known-bad hashes of case 2026/117",
        hashlib.sha256(a).hexdigest(),                      # plain SHA-256
        f"{hashlib.md5(b).hexdigest()}  {names[1]}",        # md5sum
        f"{hashlib.sha1(c).hexdigest()} *{names[2]}",       # sha1sum binary mode
        f"SHA256 ({names[2]}) = {hashlib.sha256(c).hexdigest()}",  # BSD tag
        "",
        "12345",                                            # line 7: wrong length
        "zz" * 20,                                          # line 8: not hex
        "not a hash at all",                                # line 9
    ])
    p = tmp_path / "bad.txt"
    p.write_text(text, encoding="utf-8")
    hs = load_hash_set(p, kind="known_bad", name="Case 117")
    assert hs.counts() == {"sha256": 2, "md5": 1, "sha1": 1}
    assert [e.line for e in hs.errors] == [7, 8, 9] and hs.error_count == 3
    assert "5 hex digits" in hs.errors[0].reason and "hexadecimal" in hs.errors[1].reason


def test_digest_type_by_length_and_raw_bytes() -> None:
    empty_md5 = hashlib.md5(b"").hexdigest()
    assert parse_digest(empty_md5.upper()) == ("md5", hashlib.md5(b"").digest())
    assert parse_digest("A" * 40)[0] == "sha1" and parse_digest("0" * 64)[0] == "sha256"
    with pytest.raises(ValueError, match="hex digits"):
        parse_digest("ab" * 24)
    with pytest.raises(ValueError):
        HashSet("x", "suspicious")


def test_classify_skips_known_good_and_reports_known_bad() -> None:
    files = sample_files()
    entries = [entry(n, d) for n, d in files.items()]
    entries.append(FileEntry(1, "folder", "2", "d", 0, False))  # directories carry no hash
    good = HashSet("NSRL", "known_good")
    bad = HashSet("Case 117", "known_bad")
    first, second, third = entries[:3]
    good.add(first.sha1 or "")
    good.add(second.md5 or "")
    bad.add(second.sha256 or "")  # in both lists: bad wins
    bad.add(third.md5 or "")
    c = classify(entries, [good, bad])
    assert [(m.entry.path, m.set_name, m.algorithm) for m in c.known_bad] == [
        (second.path, "Case 117", "sha256"), (third.path, "Case 117", "md5")]
    assert [(m.entry.path, m.algorithm) for m in c.known_good] == [(first.path, "sha1")]
    assert [e.path for e in c.unhashed] == ["folder"]
    assert [e.path for e in c.unknown] == [e.path for e in entries[3:-1]]
    assert first not in c.kept() and second in c.kept()


def test_many_hashes_are_kept_as_bytes_and_found(tmp_path: Path) -> None:
    rng = random.Random(11)
    digests = [rng.randbytes(20) for _ in range(200_000)]
    p = tmp_path / "big.txt"
    p.write_text("\n".join(d.hex() for d in digests) + "\n", encoding="ascii")
    hs = load_hash_set(p, kind="known_good")
    assert len(hs) == 200_000 and hs.error_count == 0
    assert all(isinstance(x, bytes) and len(x) == 20 for x in list(hs.hashes["sha1"])[:100])
    assert all(hs.contains("sha1", d.hex()) for d in digests[::1000])
    assert not any(hs.contains("sha1", rng.randbytes(20).hex()) for _ in range(1000))
