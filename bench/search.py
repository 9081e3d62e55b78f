"""Person search speed and recall in the database: `python bench/search.py [--persons 100000]`.

For SQLite and PostgreSQL: imports N generated persons (`amane.demo.generate`: Moroccan names in
Arabic and Latin script, spelling variants), then runs Q searches through the real service
(policy, key index, ranking, audit) with the name of a stored person written in the OTHER script
(a person stored with both forms is queried with one form; recall counts the right record in the
top 10). Prints p50/p95 latency, queries/s (one client) and recall@1/@10, with the baseline the
issue names measured in the same run: brute-force rapidfuzz token-sort over every stored Latin
full name (no index), time per query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from rapidfuzz import fuzz, process  # noqa: E402

from amane.demo.generate import generate  # noqa: E402
from amane.services.container import Services  # noqa: E402
from amane.services.context import Actor  # noqa: E402
from amane.services.imports import Row  # noqa: E402
from amane.services.search import PersonQuery  # noqa: E402
from amane.services.units import load_unit_specs  # noqa: E402
from amane.settings import Settings  # noqa: E402
from amane.store import migrate  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def persons(n: int) -> list[dict[str, Any]]:
    out = []
    for rec in generate(persons=n, incidents=0, seed=11):
        if rec.schema == "Person":
            out.append({"external_id": rec.external_id, **rec.data})
            if len(out) >= n:
                break
    return out


def run(name: str, url: str, people: list[dict[str, Any]], queries: int) -> None:
    svc = Services.create(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    migrate.upgrade(svc.db)
    svc.units.seed(load_unit_specs())
    unit = next(u.code for u in svc.units.all() if u.kind == "regional_service" and u.region == "06")
    t0 = time.perf_counter()
    rows = [Row(i, dict(p)) for i, p in enumerate(people, start=2)]
    report = svc.imports.import_rows(Actor.system(), "Person", rows, unit=unit)
    load_s = time.perf_counter() - t0
    assert not report.errors, report.errors[:3]
    both = [p for p in people if p.get("given_name") and p.get("family_name_ar") and p.get("family_name")]
    rng = random.Random(3)
    sample = rng.sample(both, min(queries, len(both)))
    actor = Actor.system().with_request(purpose="benchmark")
    lat: list[float] = []
    hit1 = hit10 = 0
    for i, p in enumerate(sample):
        if i % 2:  # Arabic query for a record that also has a Latin form, and the other way round
            q = f"{p.get('given_name_ar', '')} {p['family_name_ar']}".strip()
        else:
            q = f"{p['given_name']} {p['family_name']}"
        t = time.perf_counter()
        hits = svc.persons.search(actor, PersonQuery(q, limit=10))
        lat.append((time.perf_counter() - t) * 1000)
        exts = [h.external_id for h in hits]
        hit1 += int(bool(exts) and exts[0] == p["external_id"])
        hit10 += int(p["external_id"] in exts)
    lat.sort()
    p50, p95 = statistics.median(lat), lat[int(len(lat) * 0.95) - 1]
    # baseline: brute-force rapidfuzz over all stored Latin names
    latin = [f"{p.get('given_name', '')} {p.get('family_name', '')}".strip() for p in people]
    bl: list[float] = []
    for p in sample[:100]:
        q = f"{p['given_name']} {p['family_name']}"
        t = time.perf_counter()
        process.extract(q, latin, scorer=fuzz.token_sort_ratio, limit=10)
        bl.append((time.perf_counter() - t) * 1000)
    svc.close()
    print(f"[{name}] {len(people):,} persons imported in {load_s:.1f} s ({len(people) / load_s:,.0f}/s)")
    print(f"  person search (service: policy + key index + ranking + audit), {len(sample)} queries, half of them "
          f"cross-script: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {1000 / statistics.mean(lat):.0f} queries/s (1 client); "
          f"recall@1 {hit1 / len(sample):.3f}, recall@10 {hit10 / len(sample):.3f}")
    print(f"  baseline: brute-force rapidfuzz over {len(latin):,} Latin names: "
          f"{statistics.median(bl):.1f} ms per query (Latin queries only)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    people = persons(args.persons)
    for backend in args.backends.split(","):
        if backend == "sqlite":
            tmp = Path(tempfile.mkdtemp(prefix="amane-search-"))
            run("sqlite", f"sqlite:///{tmp / 'search.db'}", people, args.queries)
        else:
            schema = "bench_" + uuid.uuid4().hex[:8]
            admin = create_engine(PG, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                run("postgresql", f"{PG}?options=-csearch_path%3D{schema}", people, args.queries)
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
