"""`amane forensics files|timeline|extract` on Debian's real multi-partition sample image (ext4, exFAT and
NTFS with test.txt and debian_logo.jpg each, btrfs unreadable by TSK): hash sets, JSON, refusals."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from amane.forensics.filesystems import tools_available
from tests.cli.test_cli import amane

SAMPLES = Path("/usr/share/forensics-samples")
IMAGE = SAMPLES / "fs.multiple.xz"
pytestmark = [
    pytest.mark.skipif(not tools_available(), reason="The Sleuth Kit is not installed (Debian package sleuthkit)"),
    pytest.mark.skipif(not IMAGE.exists(), reason="Debian package forensics-samples-multiple is not installed"),
]


def test_files_with_hash_sets_as_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'unused.db'}"
    text = (SAMPLES / "original-multiple/test.txt").read_bytes()
    logo = (SAMPLES / "original-multiple/debian_logo.jpg").read_bytes()
    good = tmp_path / "nsrl.txt"
    good.write_text(f"{hashlib.sha256(text).hexdigest()}  test.txt\nnot-a-hash\n", encoding="utf-8")
    bad = tmp_path / "case.csv"
    bad.write_text(f'"SHA-1","MD5","FileName"\n"{hashlib.sha1(logo).hexdigest()}","","logo"\n', encoding="utf-8")
    proc = amane(["forensics", "files", str(IMAGE), "--known-good", str(good), "--known-bad", str(bad), "--json"], db)
    rows = json.loads(proc.stdout)
    assert not any(r["path"] == "test.txt" for r in rows)  # known-good: left out
    flagged = sorted((r["partition"], r["path"], r["status"]) for r in rows if r["status"])
    assert flagged == [(p, "debian_logo.jpg", "known_bad:case") for p in (2, 3, 4)]
    assert all(r["sha256"] == hashlib.sha256(logo).hexdigest() for r in rows if r["status"])
    assert "line 2" in proc.stderr and "partition 1" in proc.stderr  # bad hash line; btrfs skipped
    assert "3 known-good left out, 3 known-bad" in proc.stderr


def test_timeline_and_extract_never_overwrite(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'unused.db'}"
    out = tmp_path / "timeline.csv"
    amane(["forensics", "timeline", str(IMAGE), "--out", str(out)], db)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["time", "macb", "path", "inode", "size", "deleted", "partition"]
    assert {r["partition"] for r in rows if r["path"] == "test.txt"} == {"2", "3", "4"}
    before = out.read_bytes()
    again = amane(["forensics", "timeline", str(IMAGE), "--out", str(out)], db, check=False)
    assert again.returncode == 2 and "out" in again.stderr and out.read_bytes() == before

    rows_json = json.loads(amane(["forensics", "files", str(IMAGE), "--partition", "4", "--json"], db).stdout)
    inode = next(r["inode"] for r in rows_json if r["path"] == "test.txt")
    dest = tmp_path / "test.txt"
    done = json.loads(amane(["forensics", "extract", str(IMAGE), inode, "--partition", "4", "--out", str(dest),
                             "--json"], db).stdout)
    truth = (SAMPLES / "original-multiple/test.txt").read_bytes()
    assert dest.read_bytes() == truth and done["sha256"] == hashlib.sha256(truth).hexdigest()
    refused = amane(["forensics", "extract", str(IMAGE), inode, "--partition", "4", "--out", str(dest)], db,
                    check=False)
    assert refused.returncode == 2 and "file.exists" in refused.stderr


def test_bad_input_names_the_field(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'unused.db'}"
    cases = [
        (["extract", str(IMAGE), "12; rm", "--out", str(tmp_path / "x")], "inode", "inode.format"),
        (["extract", str(IMAGE), "13", "--out", str(tmp_path / "x")], "partition", "partition.required"),
        (["files", str(tmp_path / "nope.img")], "image", "path.unusable"),
    ]
    noise = tmp_path / "noise.img"
    noise.write_bytes(bytes(range(256)) * 4096)
    cases.append((["files", str(noise)], "image", "image.unreadable"))
    for args, field, rule in cases:
        proc = amane(["forensics", *args], db, check=False)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert f"{field}:" in proc.stderr and rule in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "x").exists()
