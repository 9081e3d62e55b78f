"""Benchmark of the platform core: `python bench/core.py` (or `make bench`).

For SQLite and PostgreSQL, in the same run:
  1. bulk import of persons (records/s) through `ImportService` (validation, normalisation, keys,
     versions, audit), against a baseline: a plain executemany INSERT of the same rows' JSON into a
     one-column table on the same database (the storage floor);
  2. GET /api/v1/entities/{id} under 16 concurrent clients (wrk, keep-alive), one uvicorn worker,
     with access policy + audit on (every audit record durable before its response), with audit off,
     and a bare FastAPI app returning a constant record as the ceiling. Prints p50/p95 latency,
     requests/s and the audit overhead ratio. With ``--workers 2`` or more, a run counts only if wrk's
     16 connections are spread over the processes (none holding more than 1.5 times its share; up to
     six tries): processes sharing one listening socket accept bursts unevenly, and a run whose
     connections all went to one process measures one process (printed as "connections per process").
Needs `wrk` (Debian package; `make bench` installs it). Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from amane.services.container import Services  # noqa: E402
from amane.services.context import Actor  # noqa: E402
from amane.services.imports import read_rows  # noqa: E402
from amane.settings import Settings  # noqa: E402
from amane.store import migrate  # noqa: E402

PG = os.environ.get("AMANE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WRK_LUA = """
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
local i = 0
request = function()
  i = (i % #ids) + 1
  return wrk.format("GET", "/api/v1/entities/" .. ids[i], {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"p50_ms\\": %f, \\"p95_ms\\": %f, "
    .. "\\"p99_ms\\": %f, \\"errors\\": %d}\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def person_csv(path: Path, n: int, seed: int = 7) -> Path:
    from amane.demo.generate import generate

    fields = ["external_id", "given_name", "family_name", "given_name_ar", "family_name_ar", "father_name",
              "mother_name", "birth_date", "birth_place", "sex", "national_id", "phone"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        k = 0
        for rec in generate(persons=n, incidents=0, seed=seed):
            if rec.schema != "Person":
                continue
            row = {f: rec.data.get(f, "") for f in fields}
            row["external_id"] = rec.external_id
            w.writerow(row)
            k += 1
            if k >= n:
                break
    return path


def bench_import(svc: Services, csv_path: Path, unit: str) -> dict[str, float]:
    rows, digest = read_rows(csv_path)
    t0 = time.perf_counter()
    report = svc.imports.import_rows(Actor.system(), "Person", rows, unit=unit, digest=digest)
    dt = time.perf_counter() - t0
    assert not report.errors, report.errors[:3]
    # baseline: the same rows' JSON, plain executemany into a one-column table, one transaction
    payload = [{"d": json.dumps(r.values, ensure_ascii=False)} for r in rows]
    with svc.db.engine.begin() as c:
        c.execute(text("CREATE TABLE bench_floor (d TEXT)"))
    t1 = time.perf_counter()
    with svc.db.engine.begin() as c:
        c.execute(text("INSERT INTO bench_floor (d) VALUES (:d)"), payload)
    floor = time.perf_counter() - t1
    with svc.db.engine.begin() as c:
        c.execute(text("DROP TABLE bench_floor"))
    return {"rows": len(rows), "import_rps": len(rows) / dt, "floor_rps": len(rows) / floor,
            "created": report.created}


def serve(module: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    if workers > 1:  # the same process manager as `amane serve --workers N`
        cmd = [sys.executable, "-m", "gunicorn", module, "-k", "uvicorn_worker.UvicornWorker", "-w", str(workers),
               "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    else:
        cmd = [sys.executable, "-m", "uvicorn", module, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(
        cmd,
        env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died") from None
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def connections_per_process(port: int) -> list[int]:
    """How many of the established connections to ``port`` each server process holds (``ss``)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=False).stdout
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def wrk(port: int, ids_file: Path, token: str, seconds: int, lua: Path) -> dict[str, Any]:
    env = {**os.environ, "IDS_FILE": str(ids_file), "TOKEN": token}
    proc = subprocess.Popen(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", str(lua), f"http://127.0.0.1:{port}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(min(1.0, seconds / 2))
    spread = connections_per_process(port)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err}")
    line = next(ln for ln in out.splitlines() if ln.startswith("JSON "))
    res: dict[str, Any] = json.loads(line[5:])
    res["rps"] = res["requests"] / res["seconds"]
    res["connections"] = spread
    return res


def balanced(spread: list[int], workers: int) -> bool:
    """Whether the 16 connections are spread over every process, none holding more than 1.5 times
    its share. With several processes sharing one listening socket, whichever is idle when wrk
    opens its connections may accept nearly all of them, and the run then measures one process."""
    return len(spread) >= workers and spread[0] <= 1.5 * 16 / workers


def bench_reads(db_url: str, token: str, ids: list[str], seconds: int, workers: int, tmp: Path,
                rounds: int = 3) -> dict[str, Any]:
    """The three servers run side by side (an idle one costs nothing) and are measured in turn,
    ``rounds`` times: on this shared, noisy machine a slow spell then hits all three alike. Each
    configuration reports its median run (by requests/s)."""
    ids_file = tmp / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    lua = tmp / "get.lua"
    lua.write_text(WRK_LUA)
    base_env = {**os.environ, "AMANE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT / "src")}
    configs = (("audit_on", "amane.api.asgi:app", {"AMANE_AUDIT_READS": "true"}),
               ("audit_off", "amane.api.asgi:app", {"AMANE_AUDIT_READS": "false"}),
               ("bare_fastapi", "bench.bare_app:app", {}))
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in configs}
    try:
        for label, module, extra in configs:
            port = free_port()
            env = {**base_env, **extra, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
            servers[label] = (port, serve(module, port, env, workers))
            # warm-up: with several processes each one loads the app after the port opens, so
            # measure only once a short run goes through without errors
            for _ in range(15):
                if wrk(port, ids_file, token, 2, lua)["errors"] == 0:
                    break
        for _ in range(rounds):
            for label, _, _ in configs:
                port = servers[label][0]
                for _ in range(6):  # with several processes, measure a run whose connections are spread
                    run = wrk(port, ids_file, token, seconds, lua)
                    if workers == 1 or balanced(run["connections"], workers):
                        break
                runs[label].append(run)
    finally:
        for _, proc in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    results: dict[str, Any] = {}
    for label, rs in runs.items():
        rs.sort(key=lambda r: r["rps"])
        results[label] = {**rs[len(rs) // 2], "all_rps": [r["rps"] for r in rs]}
    return results


def setup(url: str, tmp: Path) -> tuple[Services, str]:
    svc = Services.create(Settings(database_url=url, data_dir=tmp / "data", _env_file=None))  # type: ignore[call-arg]
    migrate.upgrade(svc.db)
    from amane.services.units import load_unit_specs

    svc.units.seed(load_unit_specs())
    return svc, url


def run_backend(name: str, url: str, tmp: Path, n: int, seconds: int, workers: int, rounds: int) -> dict[str, Any]:
    svc, _ = setup(url, tmp)
    unit = next(u.code for u in svc.units.all() if u.kind == "regional_service" and u.region == "06")
    imp = bench_import(svc, person_csv(tmp / "persons.csv", n), unit)
    made = svc.users.create(Actor.system(), username="bench", password="bench-password-123",
                            service_number="B1", full_name="Bench", unit=unit, roles_=["investigator"],
                            clearance="secret")
    token = svc.auth.create_token(made.user.id, "bench")
    from sqlalchemy import select

    from amane.store.tables import Entity

    with svc.db.read() as s:
        ids = list(s.scalars(select(Entity.id).limit(5000)))
    random.Random(1).shuffle(ids)
    svc.close()
    reads = bench_reads(url, token, ids, seconds, workers, tmp, rounds)
    return {"backend": name, "import": imp, "reads": reads}


def fresh_pg() -> tuple[str, Any]:
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return f"{PG}?options=-csearch_path%3D{schema}", drop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="measure each configuration this many times, in turn")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    results = []
    for backend in args.backends.split(","):
        tmp = Path(tempfile.mkdtemp(prefix=f"amane-bench-{backend}-"))
        if backend == "sqlite":
            results.append(run_backend("sqlite", f"sqlite:///{tmp / 'bench.db'}", tmp, args.persons, args.seconds,
                                       args.workers, args.rounds))
        else:
            url, drop = fresh_pg()
            try:
                results.append(run_backend("postgresql", url, tmp, args.persons, args.seconds, args.workers,
                                           args.rounds))
            finally:
                drop()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"\nAmane core benchmark: {args.persons} persons, {args.seconds}s per read run, 16 connections, "
          f"{args.workers} server process(es), {os.cpu_count()} CPUs, median of {args.rounds} rounds")
    for r in results:
        imp, rd = r["import"], r["reads"]
        on, off, bare = rd["audit_on"], rd["audit_off"], rd["bare_fastapi"]
        print(f"\n[{r['backend']}]")
        print(f"  import persons: {imp['import_rps']:,.0f} records/s "
              f"(baseline plain INSERT of the same rows: {imp['floor_rps']:,.0f} rows/s, "
              f"ratio {imp['import_rps'] / imp['floor_rps']:.2f})")
        for label, v in (("GET, policy + audit on ", on), ("GET, policy, audit off", off),
                         ("bare FastAPI baseline ", bare)):
            spread = "/".join(str(c) for c in v["connections"])
            print(f"  {label}: {v['rps']:,.0f} req/s  p50 {v['p50_ms']:.1f} ms  p95 {v['p95_ms']:.1f} ms"
                  f"  errors {int(v['errors'])}  connections per process {spread}"
                  f"  (rounds: {' '.join(f'{x:,.0f}' for x in v['all_rps'])})")
        print(f"  audit overhead: {(1 - on['rps'] / off['rps']) * 100:.1f}% fewer req/s with audit on; "
              f"audited reads reach {on['rps'] / bare['rps'] * 100:.0f}% of bare FastAPI")


if __name__ == "__main__":
    main()
