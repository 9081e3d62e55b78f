"""`amane forensics scan` on a real file with planted selectors: the summary, the feature files with
byte offsets, and refusal to overwrite a results folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.cli.test_cli import amane


def test_scan_a_file(tmp_path: Path) -> None:
    rng = random.Random(3)
    blob = bytearray(rng.randbytes(300_000))
    planted = {
        "email": (10_000, b"karim.idrissi@example.ma"),
        "ccn": (50_000, b"4111 1111 1111 1111"),
        "phone": (120_000, b"+212661234567"),
    }
    for offset, value in planted.values():
        blob[offset - 1 : offset + len(value) + 1] = b" " + value + b" "
    image = tmp_path / "seized.bin"
    image.write_bytes(bytes(blob))
    out = tmp_path / "results"
    db = f"sqlite:///{tmp_path / 'unused.db'}"
    summary = json.loads(amane(["forensics", "scan", str(image), "--out", str(out), "--json"], db).stdout)
    assert summary["bytes_scanned"] == 300_000
    for kind, (offset, _value) in planted.items():
        assert summary["counts"].get(kind, 0) >= 1, (kind, summary["counts"])
        lines = (out / f"{kind}.txt").read_text(encoding="utf-8").splitlines()
        assert any(line.startswith(f"{offset}\t") for line in lines if not line.startswith("#")), (kind, lines[:5])
    again = amane(["forensics", "scan", str(image), "--out", str(out)], db, check=False)
    assert again.returncode != 0 and "path" in again.stderr
    missing = amane(["forensics", "scan", str(tmp_path / "nope.img")], db, check=False)
    assert missing.returncode != 0 and "nope.img" in missing.stderr
