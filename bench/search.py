"""Person search speed and recall in the database: `python bench/search.py [--persons 100000]`.

For SQLite and PostgreSQL: imports N generated persons (`amane.demo.generate`: Moroccan names in
Arabic and Latin script, spelling variants; each in the station and classification the generator
gives it) through the real import service (validation, the names engine's keys, versions, audit),
then runs Q searches through the real service (policy, key index, ranking, audit) with the name of
a stored person written in the OTHER script (a person stored with both forms is queried with one
form; recall counts the right record in the top 10), as a national user (``--scopes`` adds a
regional and a station user, who see only their part). A regional or station user is measured
twice in the same run, on the same database: first with the search of before the key index held
the owner unit (``search.SCOPED_LOOKUP = False``: the national tries over every posting, then the
policy), then as it is now (the user's subtree read from ``ix_entity_keys_scope``); the number of
queries whose top 10 (ids, order and scores) is the same both ways is printed.
Prints p50/p95 latency, queries/s (one client) and recall@1/@10, with the baseline the issue
names measured in the same run: brute-force rapidfuzz token-sort over every stored Latin full
name (no index), time per query, on a sample of the Latin queries.

Generated persons and the loaded databases are cached (default ``/tmp/amane-bench-search``, or
``--cache-dir``): a SQLite file and a PostgreSQL schema per (persons, seed, generator, keys
version), built when missing, migrated to the current head when reused, and checked against the
keys the import writes today (a sample of persons; a mismatch rebuilds). ``--fresh`` builds into
a throw-away file/schema instead (the former behaviour). 1,000,000 persons: generating and
loading take about 15 minutes the first time (3.9 GB under /tmp, a 5.5 GB schema); later runs
start in seconds. PostgreSQL tables are VACUUMed once after loading, as autovacuum would do on a
production server (it is off on the development server). ``--keys N`` first times the names
engine's keys as the import computes them; ``--profile N`` prints a cProfile of the searches.
Before measuring, the key index and the records are read once (``prewarm``: the state of a server
that has been answering for a while; ``--cold`` skips it).

``--quality N`` measures the recall of real names among the stored persons: the held-out Moroccan
identities of bench/names_quality.py (Wikidata Arabic-Latin pairs, never tuned on) are imported
into the same database (external ids ``wq-*``, idempotent: the cached database keeps them), one
form each, and searched with the other script's forms, clean and noisy (at most N queries per
direction and noise), through the service; ranking uses arabic-name-romanizer's dictionary rebuilt
without these pairs, as in bench/names_quality.py. Reference in the same run: the names engine in
memory over the same names (held-out persons and every generated person's full names) ranking
the 5,000 candidates with the most key hits (50 times the database's bound), so the difference is
what the bounded candidate list in the database loses.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # bench.names_quality

from rapidfuzz import fuzz, process  # noqa: E402

import amane.services.search as search  # noqa: E402
from amane.demo.generate import generate  # noqa: E402
from amane.names import KEYS_VERSION  # noqa: E402
from amane.services.container import Services  # noqa: E402
from amane.services.context import Actor  # noqa: E402
from amane.services.imports import META_COLUMNS, Row  # noqa: E402
from amane.services.search import PersonQuery, name_index_keys, person_names, record_keys  # noqa: E402
from amane.services.units import load_unit_specs  # noqa: E402
from amane.settings import Settings  # noqa: E402
from amane.store import migrate  # noqa: E402
from amane.store.tables import Entity, EntityKey, Unit  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 11
#: Version of what the cache holds (2: each person in its generated owner unit and classification).
FORMAT = 2
#: Rows per import call when loading (each call is one transaction, as `amane import` would run).
LOAD_CHUNK = 50_000
#: Name fields kept for queries and the baseline (the rest of a person is only needed to load).
NAME_FIELDS = ("external_id", "given_name", "family_name", "given_name_ar", "family_name_ar")


def _tag(n: int) -> str:
    """Cache key: persons, seed, the generator's source and the names engine's keys version."""
    h = hashlib.sha256()
    for name in ("generate.py", "geo.py", "names.py"):
        h.update((ROOT / "src" / "amane" / "demo" / name).read_bytes())
    return f"{n}-s{SEED}-g{h.hexdigest()[:10]}-k{KEYS_VERSION}-u{FORMAT}"


def _people_file(cache: Path, n: int) -> Path:
    """JSON Lines of N generated persons (external_id first), generated once per tag."""
    path = cache / f"persons-{_tag(n)}.jsonl"
    if path.exists():
        return path
    t0 = time.perf_counter()
    tmp = path.with_suffix(".part")
    count = 0
    with tmp.open("w", encoding="utf-8") as f:
        for rec in generate(persons=n, incidents=0, seed=SEED):
            if rec.schema != "Person":
                continue
            row = {"external_id": rec.external_id, "owner_unit": rec.owner_unit,
                   "classification": rec.classification, **rec.data}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
            if count >= n:
                break
    tmp.rename(path)
    print(f"generated {count:,} persons in {time.perf_counter() - t0:.1f} s -> {path}", flush=True)
    return path


def _read_people(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _name_rows(path: Path) -> list[tuple[str, ...]]:
    """(external_id, given, family, given_ar, family_ar) of every person, in file order."""
    return [tuple(str(p.get(k) or "") for k in NAME_FIELDS) for p in _read_people(path)]


# -- databases --------------------------------------------------------------------------------


def _open(url: str) -> Services:
    svc = Services.create(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    migrate.upgrade(svc.db)
    return svc


def _unit(svc: Services) -> str:
    return next(u.code for u in svc.units.all() if u.kind == "regional_service" and u.region == "06")


def _load(svc: Services, people: Path) -> float:
    """Import every person through the import service, LOAD_CHUNK rows a call; returns seconds."""
    svc.units.seed(load_unit_specs())
    unit = _unit(svc)
    t0 = time.perf_counter()
    done = 0
    chunk: list[Row] = []
    for i, p in enumerate(_read_people(people), start=2):
        chunk.append(Row(i, p))
        if len(chunk) >= LOAD_CHUNK:
            report = svc.imports.import_rows(Actor.system(), "Person", chunk, unit=unit)
            assert not report.errors, report.errors[:3]
            done += len(chunk)
            chunk = []
            print(f"  loaded {done:,} persons ({done / (time.perf_counter() - t0):,.0f}/s)", flush=True)
    if chunk:
        report = svc.imports.import_rows(Actor.system(), "Person", chunk, unit=unit)
        assert not report.errors, report.errors[:3]
    return time.perf_counter() - t0


def _keys_current(svc: Services, people: Path, sample: int = 300) -> bool:
    """Whether the stored keys of a sample of persons are those the import computes today."""
    reg = svc.registry.get("Person")
    wanted: dict[str, dict[str, Any]] = {}
    for i, p in enumerate(_read_people(people)):
        if i % 997 == 0:
            wanted[p["external_id"]] = p
        if len(wanted) >= sample:
            break
    with svc.db.read() as s:
        ids = dict(s.execute(select(Entity.external_id, Entity.id).where(Entity.external_id.in_(list(wanted)))).all())
        if len(ids) != len(wanted):
            return False
        stored: dict[str, set[tuple[str, str]]] = {}
        for eid, kind, value in s.execute(select(EntityKey.entity_id, EntityKey.kind, EntityKey.value)
                                          .where(EntityKey.entity_id.in_(list(ids.values())))):
            stored.setdefault(eid, set()).add((kind, value))
    for ext, p in wanted.items():
        data = reg.validate({k: v for k, v in p.items() if k not in META_COLUMNS})
        if {(k, v[:200]) for k, v in record_keys(reg, data)} != stored.get(ids[ext], set()):
            return False
    return True


def sqlite_db(cache: Path | None, n: int, people: Path) -> tuple[str, float | None, Path | None]:
    """(url, load seconds or None when reused, a directory to delete afterwards or None)."""
    if cache is None:
        tmp = Path(tempfile.mkdtemp(prefix="amane-search-"))
        svc = _open(f"sqlite:///{tmp / 'search.db'}")
        load_s = _load(svc, people)
        svc.close()
        return f"sqlite:///{tmp / 'search.db'}", load_s, tmp
    path = cache / f"search-{_tag(n)}.db"
    if path.exists():
        svc = _open(f"sqlite:///{path}")
        ok = _keys_current(svc, people)
        svc.close()
        if ok:
            return f"sqlite:///{path}", None, None
        print("[sqlite] cached database has other keys than today's import: rebuilding", flush=True)
        for suffix in ("", "-wal", "-shm", ".writelock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    building = cache / f"building-{uuid.uuid4().hex[:8]}.db"
    svc = _open(f"sqlite:///{building}")
    load_s = _load(svc, people)
    with svc.db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    svc.close()
    for suffix in ("-wal", "-shm", ".writelock"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.rename(path)
    return f"sqlite:///{path}", load_s, None


def _schema_url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


def pg_db(cache: Path | None, n: int, people: Path) -> tuple[str, float | None, str | None]:
    """(url, load seconds or None when reused, a schema to drop afterwards or None)."""
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    if cache is None:
        schema = "bench_" + uuid.uuid4().hex[:8]
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        svc = _open(_schema_url(schema))
        load_s = _load(svc, people)
        svc.close()
        _vacuum(admin, schema)
        return _schema_url(schema), load_s, schema
    schema = "bench_search_" + hashlib.sha256(_tag(n).encode()).hexdigest()[:12]
    with admin.connect() as c:
        complete = c.execute(text(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND table_name = 'bench_complete'"),
            {"s": schema}).first() is not None
    if complete:
        svc = _open(_schema_url(schema))
        ok = _keys_current(svc, people)
        svc.close()
        if ok:
            _vacuum(admin, schema)
            return _schema_url(schema), None, None
        print("[postgresql] cached schema has other keys than today's import: rebuilding", flush=True)
    with admin.connect() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    svc = _open(_schema_url(schema))
    load_s = _load(svc, people)
    svc.close()
    with admin.connect() as c:
        c.execute(text(f'CREATE TABLE "{schema}".bench_complete (tag text)'))
        c.execute(text(f'INSERT INTO "{schema}".bench_complete VALUES (:t)'), {"t": _tag(n)})
    _vacuum(admin, schema)
    admin.dispose()
    return _schema_url(schema), load_s, None


def _vacuum(admin: Any, schema: str) -> None:
    """VACUUM the loaded tables once, as autovacuum does on a production server some time after a
    bulk load (this development server runs with autovacuum off): it sets the visibility map,
    without which an index-only scan still visits the table for every row."""
    with admin.connect() as c:
        pending = c.execute(text(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = :s AND relname IN ('entities', 'entity_keys') "
            "AND last_vacuum IS NULL AND last_autovacuum IS NULL"), {"s": schema}).scalars().all()
        for table in pending:
            t0 = time.perf_counter()
            c.execute(text(f'VACUUM (ANALYZE) "{schema}".{table}'))
            print(f"[postgresql] VACUUM (ANALYZE) {table}: {time.perf_counter() - t0:.1f} s", flush=True)


# -- measuring ---------------------------------------------------------------------------------


def query_sample(names: list[tuple[str, ...]], queries: int, seed: int = 3) -> list[tuple[str, ...]]:
    both = [p for p in names if p[1] and p[4] and p[2]]  # given, family_ar, family
    return random.Random(seed).sample(both, min(queries, len(both)))


def query_text(p: tuple[str, ...], i: int) -> str:
    # Arabic query for a record that also has a Latin form, and the other way round
    return f"{p[3]} {p[4]}".strip() if i % 2 else f"{p[1]} {p[2]}"


def scope_actor(svc: Services, scope: str) -> Actor:
    """The searching user: ``national`` (every unit's records), ``region`` (the regional service of
    Casablanca-Settat and its subtree) or ``station`` (the station holding the most persons)."""
    actor = Actor.system().with_request(purpose="benchmark")
    if scope == "national":
        return actor
    with svc.db.read() as s:
        if scope == "region":
            unit = s.scalars(select(Unit).where(Unit.kind == "regional_service", Unit.region == "06")).one()
        elif scope == "station":
            top = (select(Entity.owner_unit_id).where(Entity.schema == "Person").group_by(Entity.owner_unit_id)
                   .order_by(func.count().desc()).limit(1).scalar_subquery())
            unit = s.scalars(select(Unit).where(Unit.id == top)).one()
        else:
            raise SystemExit(f"unknown scope {scope!r}")
        return replace(actor, unit_id=unit.id, unit_code=unit.code, unit_path=unit.path, national=False)


def prewarm(url: str) -> float:
    """Read the key index and the records once, as a server that has been answering for a while
    holds them in memory (the operating system's page cache, PostgreSQL's buffers): without it the
    first thousands of searches of a run read the disk and p95 measures that. Returns seconds."""
    svc = _open(url)
    t0 = time.perf_counter()
    with svc.db.engine.connect() as c:
        if svc.db.dialect == "sqlite":
            for index in ("ix_entity_keys_lookup", "ix_entity_keys_scope"):
                c.execute(text(f"SELECT count(*) FROM entity_keys INDEXED BY {index} WHERE kind > ''"))
            c.execute(text("SELECT sum(length(data)) FROM entities"))
        else:
            c.execute(text("SET enable_seqscan = off"))
            c.execute(text("SELECT count(*) FROM entity_keys WHERE kind > ''"))
            c.execute(text("RESET enable_seqscan"))
            c.execute(text("SELECT sum(pg_column_size(data)) FROM entities"))
        c.rollback()
    svc.close()
    return time.perf_counter() - t0


def measure(name: str, url: str, sample: list[tuple[str, ...]], warmup: list[tuple[str, ...]],
            profile: int, scope: str, *, previous: bool = False) -> dict[str, Any]:
    """Latency and recall of ``sample`` for a ``scope`` user; ``previous``: without the narrowed
    look-up (the search of before). ``answers``: each query's top 10 (id, score)."""
    search.SCOPED_LOOKUP = not previous
    svc = _open(url)
    actor = scope_actor(svc, scope)
    answers: list[list[tuple[str, float]]] = []
    for i, p in enumerate(warmup):  # page cache and the engine's caches, not counted
        svc.persons.search(actor, PersonQuery(query_text(p, i), limit=10))
    lat: list[float] = []
    hit1 = hit10 = 0
    prof = cProfile.Profile() if profile else None
    for i, p in enumerate(sample):
        q = query_text(p, i)
        if prof is not None:
            prof.enable()
        t = time.perf_counter()
        hits = svc.persons.search(actor, PersonQuery(q, limit=10))
        lat.append((time.perf_counter() - t) * 1000)
        if prof is not None:
            prof.disable()
        answers.append([(h.id, round(h.score, 6)) for h in hits])
        exts = [h.external_id for h in hits]
        hit1 += int(bool(exts) and exts[0] == p[0])
        hit10 += int(p[0] in exts)
    svc.close()
    search.SCOPED_LOOKUP = True
    if prof is not None:
        print(f"[{name}] profile of the measured queries{' (previous search)' if previous else ''} (cumulative):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(profile)
    srt = sorted(lat)
    return {"p50": statistics.median(srt), "p95": srt[max(0, int(len(srt) * 0.95) - 1)],
            "qps": 1000 / statistics.mean(srt), "r1": hit1 / len(sample), "r10": hit10 / len(sample),
            "answers": answers}


def baseline(names: list[tuple[str, ...]], sample: list[tuple[str, ...]], n: int) -> float:
    """Brute-force rapidfuzz token-sort over every stored Latin full name: ms per query."""
    latin = [f"{p[1]} {p[2]}".strip() for p in names]
    bl: list[float] = []
    for p in sample[:n]:
        q = f"{p[1]} {p[2]}"
        t = time.perf_counter()
        process.extract(q, latin, scorer=fuzz.token_sort_ratio, limit=10)
        bl.append((time.perf_counter() - t) * 1000)
    return statistics.median(bl)


def key_speed(people: Path, n: int) -> None:
    """The names engine's keys as the import computes them (``name_index_keys``: every full name
    of a person, Latin, Arabic and aliases), over the first N persons, first thing in the process
    (nothing cached yet)."""
    persons = [p for _, p in zip(range(n), _read_people(people), strict=False)]
    full = sum(len(person_names(p)) for p in persons)
    t0 = time.perf_counter()
    for p in persons:
        name_index_keys("Person", p)
    dt = time.perf_counter() - t0
    print(f"names engine keys (import path): {dt / full * 1e6:.1f} us per full name, {dt / len(persons) * 1e6:.1f} us "
          f"per person ({len(persons):,} persons, {full:,} names, fresh process)", flush=True)


# -- recall of real name pairs among the stored persons ---------------------------------------------

QUALITY_PREFIX = "wq-"


def wikidata_set(max_per_cell: int, seed: int = 5) -> tuple[list[dict[str, Any]], list[tuple[str, str, str, str]],
                                                           list[str], Any]:
    """The held-out Moroccan identities of bench/names_quality.py (never tuned on): one form of each
    stored as a person (Arabic for every other identity, Latin for the rest; first word the given
    name), queried with the other script's forms, clean and with its noise (swap, no article, one
    typo, ه/ة ي/ى), at most ``max_per_cell`` queries per direction and noise. Returns (persons,
    queries (text, external_id, direction, noise), the stored texts, arabic-name-romanizer's
    dictionary rebuilt without these pairs)."""
    from bench.names_quality import NOISES, clean_dictionary, load_identities, split_of

    identities = load_identities()
    members = [g for g in identities if g.ma and split_of(g) == "heldout"]
    persons: list[dict[str, Any]] = []
    stored: list[str] = []
    cells: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for i, g in enumerate(members):
        script = "ar" if i % 2 == 0 else "la"
        text_ = g.best(script)
        given, _, family = text_.partition(" ")
        ext = f"{QUALITY_PREFIX}{i}"
        suffix = "_ar" if script == "ar" else ""
        persons.append({"external_id": ext, f"given_name{suffix}": given, f"family_name{suffix}": family})
        stored.append(text_)
        direction = "LA->AR" if script == "ar" else "AR->LA"
        for form in sorted(g.la if script == "ar" else g.ar):
            cells.setdefault((direction, "all"), []).append((form, ext))
    queries: list[tuple[str, str, str, str]] = []
    for (direction, _), pairs in sorted(cells.items()):
        for noise, fn in NOISES.items():
            rng = random.Random(f"{seed}:{direction}:{noise}")
            cell = [(out, ext) for q, ext in pairs if (out := fn(q, rng)) is not None]
            if len(cell) > max_per_cell:
                cell = rng.sample(cell, max_per_cell)
            queries.extend((q, ext, direction, noise) for q, ext in cell)
    workdir = Path(tempfile.mkdtemp(prefix="amane-wq-"))
    spellings = clean_dictionary(identities, "heldout", workdir)
    return persons, queries, stored, spellings


def load_wikidata(url: str, persons: list[dict[str, Any]]) -> int:
    """Import the held-out persons (idempotent on external_id: a second run adds nothing); returns
    how many were new."""
    svc = _open(url)
    try:
        report = svc.imports.import_rows(Actor.system(), "Person", [Row(i, p) for i, p in enumerate(persons, 2)],
                                         unit=_unit(svc))
        assert not report.errors, report.errors[:3]
        return int(report.created)
    finally:
        svc.close()


def _recall_table(found: dict[tuple[str, str], list[tuple[int, int]]]) -> dict[str, float]:
    """(rank of the person, rank of the first result with the person's stored name) -> recall@1,
    recall@10, and recall@10 counting a namesake written exactly like the stored name (the two
    cannot be told apart by the name alone), clean and noisy queries."""
    out: dict[str, float] = {}
    for group in ("clean", "noisy"):
        ranks = [r for (d, n), rs in found.items() if (n == "clean") == (group == "clean") for r in rs]
        if ranks:
            out[f"{group}_r1"] = sum(r == 0 for r, _ in ranks) / len(ranks)
            out[f"{group}_r10"] = sum(0 <= r < 10 for r, _ in ranks) / len(ranks)
            out[f"{group}_r10_name"] = sum(0 <= r < 10 or 0 <= t < 10 for r, t in ranks) / len(ranks)
            out[f"{group}_n"] = len(ranks)
    return out


MEMORY_CAP = 5000
"""Candidates ranked per query by the in-memory reference (50 times the database's bound)."""


def memory_engine(stored: list[str], people: Path, spellings: Any) -> Any:
    """The names engine in memory over the same names as the database holds (the held-out persons,
    then every generated person's Latin and Arabic full names), ranking the MEMORY_CAP candidates
    with the most key hits: the reference for what the database's bounded candidate list loses."""
    from bench.names_quality import Amane

    names: list[str] = []
    for row in _name_rows(people):
        for full in (f"{row[1]} {row[2]}".strip(), f"{row[3]} {row[4]}".strip()):
            if full:
                names.append(full)
    # the held-out persons at random places: ties between equal scores go by position, as they go
    # by record id in the database, so that neither side is favoured
    rng = random.Random(7)
    slots = sorted(rng.sample(range(len(names) + len(stored)), len(stored)))
    position: dict[str, int] = {}
    merged: list[str] = []
    it = iter(names)
    k = 0
    for i in range(len(names) + len(stored)):
        if k < len(slots) and slots[k] == i:
            position[f"{QUALITY_PREFIX}{k}"] = i
            merged.append(stored[k])
            k += 1
        else:
            merged.append(next(it))
    t0 = time.perf_counter()
    engine = Amane(merged, spellings, cap=MEMORY_CAP)
    engine.memo = {}  # type: ignore[attr-defined]
    engine.position = position  # type: ignore[attr-defined]
    names = merged
    gc.collect()
    gc.freeze()  # millions of objects that the collector would walk again during later timings
    print(f"in-memory reference: {len(names):,} names indexed in {time.perf_counter() - t0:.0f} s", flush=True)
    return engine


def measure_wikidata(url: str, queries: list[tuple[str, str, str, str]], stored: list[str],
                     spellings: Any, engine: Any) -> dict[str, Any]:
    """Recall@1/@10 of the held-out queries through the service (national user), and of ``engine``
    (memory_engine: the same names, 50 times more candidates ranked)."""
    import amane.names.spellings as sp

    sp._default, sp._default_tried = spellings, True  # the dictionary without the evaluated pairs
    svc = _open(url)
    actor = scope_actor(svc, "national")
    db: dict[tuple[str, str], list[tuple[int, int]]] = {}
    mem: dict[tuple[str, str], list[tuple[int, int]]] = {}
    text_of = {f"{QUALITY_PREFIX}{i}": t for i, t in enumerate(stored)}
    lat: list[float] = []
    for q, ext, direction, noise in queries:
        t = time.perf_counter()
        try:
            hits = svc.persons.search(actor, PersonQuery(q, limit=10))
        except Exception:  # noqa: BLE001 - a query the engine refuses (only particles...) is a miss
            hits = []
        lat.append((time.perf_counter() - t) * 1000)
        exts = [h.external_id for h in hits]
        same = [i for i, h in enumerate(hits) if text_of[ext] in h.names]
        db.setdefault((direction, noise), []).append((exts.index(ext) if ext in exts else -1,
                                                      same[0] if same else -1))
        if q not in engine.memo:  # the same for every backend: ranked once
            engine.memo[q] = list(engine.search(q)[:10])
        ranked = engine.memo[q]
        pos = engine.position[ext]
        same = [i for i, j in enumerate(ranked) if engine.stored[j] == text_of[ext]]
        mem.setdefault((direction, noise), []).append((ranked.index(pos) if pos in ranked else -1,
                                                       same[0] if same else -1))
    svc.close()
    srt = sorted(lat)
    return {"db": _recall_table(db), "memory": _recall_table(mem), "queries": len(queries),
            "p50": statistics.median(srt), "p95": srt[max(0, int(len(srt) * 0.95) - 1)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=50, help="searches run first and not counted")
    ap.add_argument("--baseline-queries", type=int, default=50, help="Latin queries timed for the baseline")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--scopes", default="national",
                    help="who searches: national, region (Casablanca-Settat), station (the largest); comma-separated")
    ap.add_argument("--no-before", action="store_true",
                    help="do not measure regional and station users with the search of before as well")
    ap.add_argument("--cache-dir", default=os.environ.get("AMANE_BENCH_CACHE", "/tmp/amane-bench-search"))
    ap.add_argument("--fresh", action="store_true", help="load into a throw-away database (no cache)")
    ap.add_argument("--cold", action="store_true",
                    help="do not read the key index and the records once before measuring (see prewarm)")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the queries, print N lines")
    ap.add_argument("--quality", type=int, default=0, metavar="N",
                    help="also store the held-out Wikidata identities of bench/names_quality.py among the persons "
                         "and measure their cross-script recall through the service (N queries per direction "
                         "and noise at most)")
    ap.add_argument("--keys", type=int, default=0, metavar="N",
                    help="first time the names engine's keys over N persons, as the import computes them")
    args = ap.parse_args()
    cache_dir = Path(args.cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    people = _people_file(cache_dir, args.persons)
    if args.keys:
        key_speed(people, args.keys)
    names = _name_rows(people)
    stored = len(names)
    sample = query_sample(names, args.queries)
    warm = query_sample(names, args.warmup, seed=4)
    bl = baseline(names, sample, args.baseline_queries)
    del names  # a million tuples would only slow the garbage collector down during the searches
    gc.collect()
    cache = None if args.fresh else cache_dir
    wq = wikidata_set(args.quality) if args.quality else None
    engine: Any = None
    for backend in args.backends.split(","):
        cleanup: Any = None
        if backend == "sqlite":
            url, load_s, cleanup = sqlite_db(cache, args.persons, people)
        else:
            url, load_s, cleanup = pg_db(cache, args.persons, people)
        try:
            if load_s is not None:
                print(f"[{backend}] {stored:,} persons imported in {load_s:.1f} s ({stored / load_s:,.0f}/s)")
            else:
                print(f"[{backend}] {stored:,} persons: cached database reused")
            if not args.cold:
                print(f"[{backend}] key index and records read once first: {prewarm(url):.1f} s", flush=True)
            results: dict[str, dict[str, Any]] = {}
            for scope in args.scopes.split(","):
                if scope != "national" and not args.no_before:
                    results[f"{scope} before"] = measure(backend, url, sample, warm, args.profile, scope,
                                                         previous=True)
                results[scope] = measure(backend, url, sample, warm, args.profile, scope)
            quality = None
            if wq is not None:
                added = load_wikidata(url, wq[0])
                print(f"[{backend}] {len(wq[0]):,} held-out Wikidata persons stored among them ({added:,} new)",
                      flush=True)
                if engine is None:
                    engine = memory_engine(wq[2], people, wq[3])
                quality = measure_wikidata(url, wq[1], wq[2], wq[3], engine)
        finally:
            if isinstance(cleanup, Path):
                shutil.rmtree(cleanup, ignore_errors=True)
            elif isinstance(cleanup, str):
                admin = create_engine(PG, isolation_level="AUTOCOMMIT")
                with admin.connect() as c:
                    c.execute(text(f'DROP SCHEMA "{cleanup}" CASCADE'))
        for scope, m in results.items():
            print(f"  person search (service: policy + key index + ranking + audit), {scope} user, {len(sample)} "
                  f"queries, half of them cross-script: p50 {m['p50']:.1f} ms, p95 {m['p95']:.1f} ms, "
                  f"{m['qps']:.0f} queries/s (1 client); recall@1 {m['r1']:.3f}, recall@10 {m['r10']:.3f}"
                  + ("" if scope == "national" else " (of persons anywhere: this user sees only part of them)"))
            before = results.get(f"{scope} before")
            if before is not None:
                same = sum(a == b for a, b in zip(before["answers"], m["answers"], strict=True))
                print(f"    same top 10 (ids, order, scores) as before: {same} of {len(sample)} queries")
        if quality is not None:
            d, m = quality["db"], quality["memory"]
            print(f"  held-out Wikidata names, cross-script, {quality['queries']} queries "
                  f"(p50 {quality['p50']:.1f} ms, p95 {quality['p95']:.1f} ms): in the database among "
                  f"{stored + len(wq[0] if wq else ()):,} persons recall@1/@10/@10 or the same name written the "
                  f"same: clean {d['clean_r1']:.3f}/{d['clean_r10']:.3f}/{d['clean_r10_name']:.3f}, noisy "
                  f"{d['noisy_r1']:.3f}/{d['noisy_r10']:.3f}/{d['noisy_r10_name']:.3f}; the names engine in "
                  f"memory over the same names, {MEMORY_CAP} candidates ranked: clean {m['clean_r1']:.3f}/"
                  f"{m['clean_r10']:.3f}/{m['clean_r10_name']:.3f}, noisy {m['noisy_r1']:.3f}/"
                  f"{m['noisy_r10']:.3f}/{m['noisy_r10_name']:.3f}", flush=True)
        print(f"  baseline: brute-force rapidfuzz over {stored:,} Latin names: {bl:.1f} ms per query "
              f"(median of {min(args.baseline_queries, len(sample))} Latin queries)", flush=True)


if __name__ == "__main__":
    main()
