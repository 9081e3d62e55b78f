"""Issue 6, "done means", from the command line on a real database: a lab technician registers a
seized phone image (hashed on intake), the custody chain verifies and its sheet prints, the trace
scan runs attached to the item, and the investigator sees which extracted numbers already exist in
the records; a changed image is caught as an integrity failure."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.cli.test_cli import amane, cli_db  # noqa: F401 - fixture


def test_register_chain_sheet_scan_and_hits(cli_db: str, tmp_path: Path) -> None:  # noqa: F811
    amane(["users", "create", "tech.a", "--unit", "REGA", "--roles", "lab_technician", "--full-name", "Tech A",
           "--service-number", "T-1"], cli_db, stdin="a-long-password-42\n")
    people = tmp_path / "persons.csv"
    people.write_text("external_id,given_name,family_name,phone\nP1,Karim,Zeroual,0661234567\n"
                      "P2,Salma,Idrissi,0522998877\n", encoding="utf-8")
    amane(["import", "persons", str(people), "--unit", "REGA"], cli_db)
    image = tmp_path / "phone.img"
    image.write_bytes(b"\x00" * 4096 + b"sms: appelle Karim au 06 61 23 45 67 demain" + b"\xff" * 4096)
    reg = json.loads(amane(["evidence", "register", str(image), "--seal", "S-77", "--category", "phone",
                            "--as", "tech.a", "--json"], cli_db).stdout)
    assert reg["reference"].startswith("SCL-") and reg["hashes"]["size"] == image.stat().st_size
    assert reg["custodian"] == "tech.a"
    chain = json.loads(amane(["evidence", "chain", str(reg["id"]), "--as", "tech.a", "--json"], cli_db).stdout)
    assert chain["ok"] and chain["events"] >= 2
    sheet = tmp_path / "sheet.pdf"
    amane(["evidence", "custody-sheet", str(reg["id"]), "--as", "tech.a", "--lang", "fr", "--out", str(sheet)],
          cli_db)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout
        assert reg["reference"] in text and reg["hashes"]["sha256"][:16] in text.replace("\n", "")
    scan = json.loads(amane(["forensics", "scan", str(image), "--item", str(reg["id"]), "--json"], cli_db).stdout)
    assert scan["counts"]["phone"] == 1
    [hit] = scan["record_hits"]
    assert hit["value"] == "+212661234567" and "Zeroual" in hit["record"]["caption"].title()
    hits = json.loads(amane(["forensics", "hits", str(reg["id"]), "--json"], cli_db).stdout)
    assert [h["value"] for h in hits] == ["+212661234567"]
    same = amane(["evidence", "verify", str(reg["id"]), str(image), "--as", "tech.a", "--json"], cli_db)
    assert json.loads(same.stdout)["match"] is True
    image.write_bytes(image.read_bytes() + b"x")
    changed = amane(["evidence", "verify", str(reg["id"]), str(image), "--as", "tech.a"], cli_db, check=False)
    assert changed.returncode == 1 and "MISMATCH" in changed.stdout
    bad = amane(["evidence", "register", str(tmp_path / "none.img"), "--seal", "S-78", "--category", "phone",
                 "--as", "tech.a"], cli_db, check=False)
    assert bad.returncode == 2 and "path" in bad.stderr
    nobody = amane(["evidence", "chain", str(reg["id"]), "--as", "ghost"], cli_db, check=False)
    assert nobody.returncode == 2 and "as" in nobody.stderr

