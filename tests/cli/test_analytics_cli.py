"""The analytics commands on real files: a slice of the Toronto Police incidents imported through
the ``toronto-mci`` mapping, bad files refused whole with the field and the rule, the backtest on
the file and on the database, CompStat and the spike scan."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

from tests.cli.test_cli import amane, cli_db  # noqa: F401  (fixture)


def _toronto() -> Path:
    spec = importlib.util.find_spec("mci_model")
    assert spec is not None and spec.submodule_search_locations, "make install brings the Toronto data set"
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "test.csv"


def _slice(tmp: Path, n: int, *, edit: dict[int, dict[str, str]] | None = None) -> Path:
    src = _toronto()
    out = tmp / "toronto-slice.csv"
    with src.open(newline="", encoding="utf-8") as fin, out.open("w", newline="", encoding="utf-8") as fout:
        reader = csv.DictReader(fin)
        assert reader.fieldnames
        writer = csv.DictWriter(fout, fieldnames=reader.fieldnames)
        writer.writeheader()
        for i, row in enumerate(reader):
            if i >= n:
                break
            row.update((edit or {}).get(i, {}))
            writer.writerow(row)
    return out


def test_import_with_mapping_all_or_nothing(cli_db: str, tmp_path: Path) -> None:  # noqa: F811
    bad = _slice(tmp_path, 300, edit={5: {"MCI": "Arson"}, 9: {"Lat": "0", "Long": "0"}, 12: {"Lat": "45.5"}})
    proc = amane(["import", "incidents", str(bad), "--unit", "STA", "--mapping", "toronto-mci"], cli_db,
                 check=False)
    assert proc.returncode == 2
    assert "line 7" in proc.stderr and "Arson" in proc.stderr  # header is line 1, row 5 is line 7
    assert "latitude" in proc.stderr
    stats = json.loads(amane(["analytics", "compstat", "--as-of", "2021-06-30", "--json"], cli_db).stdout)
    assert stats["total"]["ytd"] == 0  # nothing written
    rejects = tmp_path / "rejects.csv"
    proc = amane(["import", "incidents", str(bad), "--unit", "STA", "--mapping", "toronto-mci", "--skip-invalid",
                  "--rejects", str(rejects), "--json"], cli_db)
    report = json.loads(proc.stdout)
    assert report["rejected"] == 3 and report["created"] == 297
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 4
    # the same file again: idempotent
    report = json.loads(amane(["import", "incidents", str(bad), "--unit", "STA", "--mapping", "toronto-mci",
                               "--skip-invalid", "--json"], cli_db).stdout)
    assert report["created"] == 0 and report["unchanged"] == 297
    # an unknown mapping names itself
    proc = amane(["import", "incidents", str(bad), "--unit", "STA", "--mapping", "chicago"], cli_db, check=False)
    assert proc.returncode != 0 and "chicago" in proc.stderr


def test_backtest_on_a_file(tmp_path: Path) -> None:
    """The backtest of a CSV file reads no database: run once, not per backend."""
    unused = f"sqlite:///{tmp_path / 'unused.db'}"
    data = _toronto()
    proc = amane(["analytics", "backtest", "--input", str(data), "--mapping", "toronto-mci", "--start", "2019-01-07",
                  "--end", "2019-03-04", "--horizon", "7", "--cell", "250", "--models", "last_period,kde", "--json"],
                 unused)
    result = json.loads(proc.stdout)
    for model in ("last_period", "kde"):
        row = result["models"][model]
        assert row["windows"] == 8
        assert 0 < row["hit_rate_1"] < row["hit_rate_5"] <= 1
        assert row["pai_1"] > 1 and 0 < row["pei_1"] <= 1 and row["fit_seconds"] is not None
    proc = amane(["analytics", "backtest", "--input", str(data), "--start", "2019-01-07", "--end", "2019-03-04"],
                 unused, check=False)
    assert proc.returncode != 0 and "mapping" in proc.stderr
    proc = amane(["analytics", "backtest", "--input", str(data), "--mapping", "toronto-mci", "--start",
                  "2019-01-07", "--end", "2019-03-04", "--models", "oracle"], unused, check=False)
    assert proc.returncode != 0 and "oracle" in proc.stderr


def test_compstat_scan_backtest_and_rebuild(cli_db: str, tmp_path: Path) -> None:  # noqa: F811
    # the database holds no incident yet: an explicit answer, not a forecast
    proc = amane(["analytics", "backtest", "--start", "2019-01-07", "--end", "2019-03-04"], cli_db, check=False)
    assert proc.returncode != 0 and "no events" in proc.stderr.lower()
    amane(["import", "incidents", str(_slice(tmp_path, 800)), "--unit", "STA", "--mapping", "toronto-mci"],
          cli_db)
    report = json.loads(amane(["analytics", "compstat", "--unit", "REGA", "--as-of", "2021-06-30", "--json"],
                              cli_db).stdout)
    assert report["unit"]["code"] == "REGA" and report["total"]["ytd"] > 0
    assert amane(["analytics", "rebuild-facts"], cli_db).stderr.strip().startswith("800 incident facts")
    again = json.loads(amane(["analytics", "compstat", "--unit", "REGA", "--as-of", "2021-06-30", "--json"],
                             cli_db).stdout)
    assert again["total"] == report["total"]
    scan = amane(["analytics", "scan-alerts", "--as-of", "2021-06-30", "--json"], cli_db)
    assert isinstance(json.loads(scan.stdout), list)
    bad = amane(["analytics", "compstat", "--as-of", "30/06/2021"], cli_db, check=False)
    assert bad.returncode != 0 and "as_of" in bad.stderr
