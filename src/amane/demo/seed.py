"""``amane demo seed``: the unit tree, one demo account per role, and generated records.

Loads everything through the same import path as ``amane import`` (validation, keys,
versions, one audit record per batch), in one transaction per schema.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from amane.services import audit
from amane.services.audit import AuditEvent
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.imports import ImportReport, Row
from amane.services.units import load_unit_specs
from amane.store.tables import Entity, Unit, User

DEMO_PASSWORD = "Amane-demo-2026"


def _pick(units: list[Unit], *, kind: str, region: str | None = None) -> Unit:
    for u in units:
        if u.kind == kind and (region is None or u.region == region):
            return u
    raise LookupError(f"no unit of kind {kind} in region {region}")


def _under(units: list[Unit], parent: Unit, kind: str) -> Unit:
    for u in units:
        if u.kind == kind and u.path.startswith(parent.path) and u.id != parent.id:
            return u
    raise LookupError(f"no {kind} under {parent.code}")


def demo_accounts(svc: Services) -> list[dict[str, Any]]:
    """Who the demo users are: (username, role, unit, clearance). Casablanca-Settat is region 06,
    Rabat-Salé-Kénitra region 04."""
    with svc.db.read() as s:
        units = list(s.scalars(select(Unit).order_by(Unit.path)))
    hq = _pick(units, kind="headquarters")
    dpj = next((u for u in units if u.code == "DPJ"), hq)
    lab = next((u for u in units if u.kind == "lab"), dpj)
    casa = _pick(units, kind="regional_service", region="06")
    rabat = _pick(units, kind="regional_service", region="04")
    by_code = {u.code: u for u in units}
    casa_station = _under(units, by_code.get("CASA", casa), "station")
    rabat_station = _under(units, by_code.get("RABAT", rabat), "station")
    return [
        {"username": "admin", "role": "administrator", "unit": hq.code, "clearance": "secret",
         "full_name": "Administrateur système"},
        {"username": "auditor", "role": "auditor", "unit": hq.code, "clearance": "secret",
         "full_name": "Inspectrice Nadia Bennani"},
        {"username": "analyst", "role": "analyst", "unit": dpj.code, "clearance": "confidential",
         "full_name": "Analyste Youssef Idrissi"},
        {"username": "chief.casa", "role": "unit_chief", "unit": casa.code, "clearance": "confidential",
         "full_name": "Commissaire Karim El Fassi"},
        {"username": "investigator.casa", "role": "investigator", "unit": casa.code, "clearance": "restricted",
         "full_name": "Inspecteur Hamza Tazi"},
        {"username": "officer.casa", "role": "officer", "unit": casa_station.code, "clearance": "restricted",
         "full_name": "Officier Salma Berrada"},
        {"username": "investigator.rabat", "role": "investigator", "unit": rabat.code, "clearance": "restricted",
         "full_name": "Inspecteur Omar Alaoui"},
        {"username": "officer.rabat", "role": "officer", "unit": rabat_station.code, "clearance": "unclassified",
         "full_name": "Officier Imane Chraibi"},
        {"username": "labtech", "role": "lab_technician", "unit": lab.code, "clearance": "restricted",
         "full_name": "Technicienne Leila Amrani"},
        {"username": "chief.lab", "role": "unit_chief", "unit": lab.code, "clearance": "confidential",
         "full_name": "Commissaire divisionnaire Rachid Bennis"},
        {"username": "analyst.cyber", "role": "analyst", "unit": by_code["DCCYBER"].code if "DCCYBER" in by_code
         else dpj.code, "clearance": "confidential", "full_name": "Analyste Sara Benjelloun"},
    ]


def create_demo_users(svc: Services) -> None:
    system = Actor.system(source="demo-seed")
    with svc.db.read() as s:
        existing = set(s.scalars(select(User.username)))
    for i, acc in enumerate(demo_accounts(svc), start=1):
        if acc["username"] in existing:
            continue
        svc.users.create(system, username=acc["username"], password=DEMO_PASSWORD,
                         service_number=f"DEMO{i:04d}", full_name=acc["full_name"], unit=acc["unit"],
                         roles_=[acc["role"]], clearance=acc["clearance"])


def print_accounts(svc: Services, console: Console) -> None:
    """Plain lines (never truncated): the secrets must be copyable."""
    console.print(f"\n[bold]Demo accounts[/] (password for all: [bold]{DEMO_PASSWORD}[/])", soft_wrap=True)
    users = {u.username: u for u in svc.users.list(Actor.system())}
    for acc in demo_accounts(svc):
        u = users.get(acc["username"])
        if u is None:
            continue
        secret = svc.users.totp_secret(u.username)
        console.print(f"  {u.username:<20} {','.join(u.roles):<15} {u.unit:<16} {u.clearance:<13} "
                      f"TOTP secret {secret}", soft_wrap=True, highlight=False)
    console.print("One-time code for an account (on this server's console): "
                  "[bold].venv/bin/amane users otp USERNAME[/]\n", soft_wrap=True)


def load_records(svc: Services, records: Any, *, console: Console | None = None, total: int = 0) -> dict[str, int]:
    """Load generated records (``DemoRecord``s) schema by schema; relations last."""
    actor = Actor.system(source="demo-seed")
    by_schema: dict[str, list[Row]] = defaultdict(list)
    order: list[str] = []
    with svc.db.read() as s:
        units = {u.code: u for u in s.scalars(select(Unit))}
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console or Console(stderr=True))
    counts: dict[str, int] = {}
    with progress:
        gen = progress.add_task("generating", total=total or None)
        for n, rec in enumerate(records, start=1):
            if rec.schema not in by_schema:
                order.append(rec.schema)
            values = dict(rec.data)
            values["external_id"] = rec.external_id
            values["owner_unit"] = rec.owner_unit
            values["classification"] = rec.classification
            by_schema[rec.schema].append(Row(n, values))
            if n % 2000 == 0:
                progress.update(gen, completed=n)
        progress.update(gen, completed=sum(len(v) for v in by_schema.values()))
        order.sort(key=lambda name: svc.registry.get(name).is_edge)
        ext_map: dict[str, str] = {}
        any_unit = next(iter(units.values()))
        for name in order:
            rows = by_schema.pop(name)
            schema = svc.registry.get(name)
            task = progress.add_task(f"loading {name}", total=len(rows))
            items, errors = svc.imports.prepare(schema, rows, unit=any_unit, default_classification=0,
                                                actor=actor, units_by_code=units)
            if errors:
                from amane.model.errors import ValidationFailed

                raise ValidationFailed(errors[:50])
            report = ImportReport(schema=name, rows=len(rows))
            with svc.db.write() as s:
                svc.imports.write(s, actor, schema, items, report, reason="demo seed", ext_map=ext_map,
                                  progress=_advance(progress, task))
                audit.append(s, [(actor, AuditEvent("import", name, "demo", details=report.as_dict()))])
            progress.update(task, completed=len(rows))
            counts[name] = report.created + report.updated + report.unchanged
    svc.db.refresh_statistics()
    return counts


def _advance(progress: Progress, task: Any) -> Any:
    return lambda k: progress.update(task, completed=k)


def seed_demo(svc: Services, *, persons: int = 20000, incidents: int = 100000, seed: int = 2026,
              if_empty: bool = False, console: Console | None = None) -> dict[str, int]:
    from amane.demo.generate import generate

    console = console or Console(stderr=True)
    with svc.db.read() as s:
        has_records = (s.scalar(select(func.count()).select_from(Entity)) or 0) > 0
    svc.units.seed(load_unit_specs())
    create_demo_users(svc)
    counts: dict[str, int] = {}
    if has_records and if_empty:
        console.print("database already has records: demo records not loaded again")
    else:
        t0 = time.perf_counter()
        counts = load_records(svc, generate(persons=persons, incidents=incidents, seed=seed), console=console)
        console.print(f"demo records loaded in {time.perf_counter() - t0:.1f} s: "
                      + ", ".join(f"{k} {v}" for k, v in counts.items()))
        from amane.demo.procedures import seed_procedures

        procs = seed_procedures(svc, seed=seed)
        counts.update(procs)
        console.print("demo procedures: " + ", ".join(f"{k} {v}" for k, v in procs.items()))
        from amane.demo.labs import seed_labs

        lab_counts = seed_labs(svc)
        counts.update(lab_counts)
        console.print("demo evidence and lab requests: " + ", ".join(f"{k} {v}" for k, v in lab_counts.items()))
        from amane.demo.generate import END

        # the weekly spike scan, as cron would have run it over the last twelve weeks of demo data
        alerts = svc.monitoring.scan_alerts(Actor.system(), as_of=END, recent_weeks=12)
        counts["crime_alerts"] = len(alerts)
        console.print(f"demo spike alerts: {len(alerts)} over the last 12 weeks")
        from amane.demo.watch import seed_watch

        watch = seed_watch(svc)  # posts dated over the 30 days before seeding, so the dashboard shows them
        counts.update(watch)
        console.print("demo cyber watch: " + ", ".join(f"{k} {v}" for k, v in watch.items()))
    print_accounts(svc, console)
    return counts
