"""``amane watch`` as a user runs it (subprocess, real database): ingest the sample drop folder
(Telegram export, JSON Lines, pages, notes in other encodings, broken files), idempotent re-ingest,
classify from standard input, triage, STIX export and import, the CLI contract of issue 7."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import amane, cli_db  # noqa: F401 - fixture

pytest.importorskip("amane.watch.pipeline")
DROP = Path(__file__).parents[1] / "watch" / "samples" / "drop"


def test_ingest_classify_triage_export(cli_db: str, tmp_path: Path) -> None:  # noqa: F811
    first = json.loads(amane(["watch", "ingest", str(DROP), "--source", "drop", "--unit", "REGA", "--json"],
                             cli_db).stdout)
    assert first["ingested"] >= 5 and first["alerts"] >= 1
    assert {"ingested", "duplicates", "alerts", "skipped"} <= set(first)
    reasons = {s["reason"] for s in first["skipped"]}
    assert reasons, "the broken samples are reported as skipped, with a reason"
    again = json.loads(amane(["watch", "ingest", str(DROP), "--source", "drop", "--json"], cli_db).stdout)
    assert again["ingested"] == 0 and again["already"] == first["ingested"] + first["duplicates"] + \
        first["near_duplicates"]
    missing = amane(["watch", "ingest", str(tmp_path / "nothing"), "--source", "drop"], cli_db, check=False)
    assert missing.returncode == 2 and "path" in missing.stderr
    c = json.loads(amane(["watch", "classify", "--json"], cli_db,
                         stdin="Cvv fresh w fullz dyal les cartes bancaires, dumps track2, paiement en BTC "
                               "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq").stdout)
    assert c["categories"][0]["category"] == "carding"
    assert {"language", "categories", "selectors"} <= set(c)
    assert any(s["kind"] in ("btc", "bech32", "bitcoin") for s in c["selectors"])
    alerts = json.loads(amane(["watch", "alerts", "--json"], cli_db).stdout)
    assert alerts["total"] >= 1
    aid = alerts["alerts"][0]["id"]
    done = json.loads(amane(["watch", "triage", str(aid), "relevant", "--json"], cli_db).stdout)
    assert done["status"] == "relevant"
    bad = amane(["watch", "triage", str(aid), "relevant"], cli_db, check=False)
    assert bad.returncode == 2 and "state" in bad.stderr
    out = tmp_path / "bundle.json"
    amane(["watch", "export", "--since", "2020-01-01", "--tlp", "amber", "--format", "stix", "--out", str(out)],
          cli_db)
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle" and any(o["type"] == "marking-definition" for o in bundle["objects"])
    exists = amane(["watch", "export", "--out", str(out)], cli_db, check=False)
    assert exists.returncode == 2 and "out" in exists.stderr
    imported = json.loads(amane(["watch", "import", str(out), "--unit", "REGA", "--json"], cli_db).stdout)
    assert imported["added"] == imported["indicators"]
    assert json.loads(amane(["watch", "import", str(out), "--unit", "REGA", "--json"], cli_db).stdout)["added"] == 0
