"""The ``amane`` command line. Thin: parse, call a service, print (``--json`` where it reads records)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from amane.model.errors import AmaneError, ValidationFailed
from amane.services.context import Actor

app = typer.Typer(help="Amane: police information platform.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database set-up and migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
units_app = typer.Typer(help="The unit tree.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
import_app = typer.Typer(help="Import records from CSV or JSON Lines (all or nothing, idempotent).",
                         no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(units_app, name="units")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(import_app, name="import")
search_app = typer.Typer(help="Search records.", no_args_is_help=True)
app.add_typer(search_app, name="search")
cases_app = typer.Typer(help="Investigation case files.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
attachments_app = typer.Typer(help="Attached files.", no_args_is_help=True)
app.add_typer(attachments_app, name="attachments")
resolve_app = typer.Typer(help="Find and merge duplicate persons across units.", no_args_is_help=True)
app.add_typer(resolve_app, name="resolve")
analytics_app = typer.Typer(help="Crime statistics, CompStat, spike alerts, forecasts and their backtests.",
                            no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")
forensics_app = typer.Typer(help="Digital traces: scan images, directories and files for selectors.",
                            no_args_is_help=True)
app.add_typer(forensics_app, name="forensics")

err = Console(stderr=True)
out = Console()

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _services() -> Any:
    from amane.services.container import Services

    return Services.create()


def _call(fn: Callable[[Any], T]) -> T:
    """Run ``fn(services)`` and close the services; bad input or a refusal ends the command with exit
    code 2 and the message naming the field and the rule."""
    svc = _services()
    try:
        return fn(svc)
    except AmaneError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits
    finally:
        svc.close()


def _fail(exc: Exception) -> None:
    if isinstance(exc, ValidationFailed):
        err.print("[bold red]Invalid input[/]")
        for e in exc.errors[:50]:
            err.print(f"  {e.field}: {e.message} [dim]({e.rule})[/]")
        if len(exc.errors) > 50:
            err.print(f"  ... and {len(exc.errors) - 50} more")
    elif getattr(exc, "field", "") and getattr(exc, "rule", ""):
        err.print(f"[bold red]Error:[/] {exc.field}: {exc} [dim]({exc.rule})[/]")  # type: ignore[attr-defined]
    else:
        err.print(f"[bold red]Error:[/] {exc}")
    raise typer.Exit(2)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=False)


# -- db --------------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database schema (Alembic)."""
    from amane.settings import get_settings
    from amane.store import migrate
    from amane.store.db import Database

    db = Database(get_settings().database_url)
    migrate.upgrade(db, revision)
    err.print(f"database at revision {revision}: {db.dialect}")
    if revision == "head":
        _warn_stale_keys(db)


@db_app.command("rekey")
def db_rekey(
    schema: Annotated[list[str] | None, typer.Option(help="Record type(s) to rekey (default: all)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the key index from the records (after an upgrade of the names engine or of the
    model's identifier types); only records whose keys differ are rewritten; safe to re-run."""
    from amane.services.context import Actor
    from amane.services.rekey import rekey

    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task("rekey", total=None)
            report = rekey(svc.db, svc.registry, Actor.system(), schemas=schema or None,
                           progress=lambda done, total: prog.update(task, completed=done, total=total))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    err.print(f"{report.records:,} records read, {report.changed:,} with other keys rewritten "
              f"({report.keys_before:,} keys before, {report.keys_after:,} after)")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION (``base`` removes everything)."""
    from amane.settings import get_settings
    from amane.store import migrate
    from amane.store.db import Database

    migrate.downgrade(Database(get_settings().database_url), revision)


# -- serve -----------------------------------------------------------------------------------

def _warn_stale_keys(db: Any) -> None:
    """Say so when the key index was built by another version of the names engine's keys."""
    from sqlalchemy.exc import SQLAlchemyError

    from amane.services.rekey import keys_status

    try:
        status = keys_status(db)
    except SQLAlchemyError:  # not migrated yet: the app says so itself
        return
    if status.stale:
        err.print(f"[yellow]warning:[/yellow] {status.message()}")


@app.command()
def serve(host: str = "", port: int = 0,
          workers: Annotated[int, typer.Option(help="Server processes (gunicorn manages them when > 1)")] = 1) -> None:
    """Serve the web app and the API."""
    from amane.settings import get_settings

    s = get_settings()
    bind_host, bind_port = host or s.host, port or s.port
    from amane.store.db import Database

    db = Database(s.database_url)
    _warn_stale_keys(db)
    db.dispose()
    if workers > 1:
        # gunicorn as process manager: uvicorn's own multi-process mode showed ~40 ms stalls per request here
        os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "amane.api.asgi:app",
                                   "-k", "uvicorn_worker.UvicornWorker", "-w", str(workers),
                                   "-b", f"{bind_host}:{bind_port}", "--access-logfile", "-"])
    import uvicorn

    uvicorn.run("amane.api.asgi:app", host=bind_host, port=bind_port, log_level="info", proxy_headers=False)


# -- demo ------------------------------------------------------------------------------------

@demo_app.command("seed")
def demo_seed(
    persons: int = 20000, incidents: int = 100000, seed: int = 2026,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if records exist.")] = False,
) -> None:
    """Load the unit tree, demo users and generated demo records; print the demo accounts."""
    from amane.demo.seed import seed_demo

    svc = _services()
    try:
        seed_demo(svc, persons=persons, incidents=incidents, seed=seed, if_empty=if_empty, console=err)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()


# -- units -----------------------------------------------------------------------------------

@units_app.command("list")
def units_list(as_json: JsonOpt = False) -> None:
    """List the unit tree."""
    svc = _services()
    units = svc.units.all()
    if as_json:
        print(json.dumps([u.as_dict() for u in units], ensure_ascii=False, indent=1))
        return
    t = Table("code", "kind", "name (fr)", "name (ar)")
    for u in units:
        t.add_row(u.code, u.kind, "  " * u.depth + u.name_fr, u.name_ar)
    out.print(t)


@units_app.command("seed")
def units_seed(path: Annotated[Path | None, typer.Option("--path", help="YAML file")] = None) -> None:
    """Create/update units from a YAML file (default: the packaged tree)."""
    from amane.services.units import load_unit_specs

    svc = _services()
    try:
        n = svc.units.seed(load_unit_specs(path))
    except AmaneError as exc:
        _fail(exc)
    err.print(f"{n} units written")


# -- users -----------------------------------------------------------------------------------

@users_app.command("create")
def users_create(
    username: str,
    unit: Annotated[str, typer.Option(help="Unit code")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles")],
    full_name: Annotated[str, typer.Option(help="Full name")],
    service_number: Annotated[str, typer.Option(help="Service number")],
    clearance: str = "unclassified",
    language: str = "fr",
    as_json: JsonOpt = False,
) -> None:
    """Create a user. The password is read from standard input (one line)."""
    password = sys.stdin.readline().rstrip("\n")
    svc = _services()
    try:
        made = svc.users.create(Actor.system(), username=username, password=password,
                                service_number=service_number, full_name=full_name, unit=unit,
                                roles_=[r.strip() for r in roles.split(",") if r.strip()], clearance=clearance,
                                language=language)
    except AmaneError as exc:
        _fail(exc)
    from amane.services.auth import totp_uri

    info = {**made.user.as_dict(), "totp_secret": made.totp_secret,
            "totp_uri": totp_uri(made.totp_secret, made.user.username)}
    if as_json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        out.print(f"user [bold]{made.user.username}[/] created in {made.user.unit}; TOTP secret: "
                  f"[bold]{made.totp_secret}[/]")


@users_app.command("otp")
def users_otp(username: str) -> None:
    """Print the account's current one-time code (console access to the server only)."""
    from amane.services.auth import totp_now

    svc = _services()
    try:
        print(totp_now(svc.users.totp_secret(username)))
    except AmaneError as exc:
        _fail(exc)


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    svc = _services()
    users = svc.users.list(Actor.system())
    if as_json:
        print(json.dumps([u.as_dict() for u in users], ensure_ascii=False, indent=1))
        return
    t = Table("username", "unit", "roles", "clearance")
    for u in users:
        t.add_row(u.username, u.unit, ",".join(u.roles), u.clearance)
    out.print(t)


# -- import / export -------------------------------------------------------------------------

def _run_import(schema: str, rows: list[Any], *, unit: str, classification: str, digest: str, source_name: str,
                dry_run: bool, label: str) -> Any:
    """Import ``rows`` with a progress bar; returns the service's report (errors inside)."""
    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task(label, total=len(rows))
            report = svc.imports.import_rows(
                Actor.system(), schema, rows, unit=unit, classification=classification, digest=digest,
                source_name=source_name, dry_run=dry_run, progress=lambda n: prog.update(task, completed=n),
            )
            prog.update(task, completed=len(rows))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    return report


def _report_import(report: Any, *, as_json: bool, dry_run: bool, extra: dict[str, Any] | None = None,
                   summary: str = "") -> None:
    if as_json:
        print(json.dumps({**report.as_dict(), **(extra or {})}, ensure_ascii=False))
    if report.errors:
        if not as_json:
            _fail(ValidationFailed(report.errors))
        raise typer.Exit(2)
    if not as_json:
        verb = "checked" if dry_run else "imported"
        err.print(f"{verb} {report.rows} rows: {report.created} created, {report.updated} updated, "
                  f"{report.unchanged} unchanged{summary}")


def _import(schema: str, path: Path, unit: str, classification: str, dry_run: bool, as_json: bool) -> None:
    from amane.services.imports import read_rows

    try:
        rows, digest = read_rows(path)
    except AmaneError as exc:
        _fail(exc)
    report = _run_import(schema, rows, unit=unit, classification=classification, digest=digest,
                         source_name=path.name, dry_run=dry_run, label=f"{schema} <- {path.name}")
    _report_import(report, as_json=as_json, dry_run=dry_run)


@import_app.command("persons")
def import_persons(path: Path, unit: Annotated[str, typer.Option(help="Owner unit code")],
                   classification: str = "unclassified", dry_run: bool = False, as_json: JsonOpt = False) -> None:
    """Import persons. Columns: external_id, given_name, family_name, given_name_ar, family_name_ar,
    father_name, mother_name, birth_date, birth_place, sex, national_id, phone (any subset, at least one name)."""
    _import("Person", path, unit, classification, dry_run, as_json)


@import_app.command("incidents")
def import_incidents(
    path: Path, unit: Annotated[str, typer.Option(help="Owner unit code")],
    mapping: Annotated[str | None, typer.Option(
        help="Import mapping (packaged name such as 'toronto-mci', or a YAML file) that turns a foreign "
             "file's columns into incidents")] = None,
    skip_invalid: Annotated[bool, typer.Option(
        help="With --mapping: import the valid rows and report the rejected ones (default: any bad row "
             "rejects the whole file)")] = False,
    rejects: Annotated[Path | None, typer.Option(help="With --mapping: write the rejected rows' errors "
                                                      "to this CSV file")] = None,
    classification: str = "unclassified", dry_run: bool = False, as_json: JsonOpt = False,
) -> None:
    """Import incidents. Columns: external_id, title, offence_category, occurred_from, occurred_to, region,
    commune, address, coordinates (or lat, lon), narrative; or any columns with --mapping."""
    if mapping is None:
        _import("Incident", path, unit, classification, dry_run, as_json)
        return
    _import_mapped(path, unit, mapping, skip_invalid, rejects, classification, dry_run, as_json)


def _import_mapped(path: Path, unit: str, mapping_name: str, skip_invalid: bool, rejects: Path | None,
                   classification: str, dry_run: bool, as_json: bool) -> None:
    import csv
    import hashlib

    from amane.analytics.mapping import iter_error_summary, load_mapping, read_incidents
    from amane.services.errors import FieldError
    from amane.services.imports import Row

    try:
        mapping = load_mapping(mapping_name)
        with err.status(f"reading {path.name} with mapping {mapping.name}"):
            result = read_incidents(path, mapping)
    except AmaneError as exc:
        _fail(exc)
    if rejects is not None and result.errors:
        with rejects.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["line", "field", "rule", "message"])
            w.writeheader()
            w.writerows(e.as_dict() for e in result.errors)
    summary = [{"field": f, "rule": r, "rows": n} for f, r, n in iter_error_summary(result.errors)]
    if result.errors and not skip_invalid:
        if as_json:
            print(json.dumps({"rows": result.lines, "rejected": len(result.errors), "created": 0,
                              "errors": [e.as_dict() for e in result.errors[:100]], "summary": summary},
                             ensure_ascii=False))
            raise typer.Exit(2)
        _fail(ValidationFailed([FieldError(f"line {e.line}.{e.field}", e.rule, e.message)
                                for e in result.errors[:20]]))
    rows = []
    for r in result.rows:
        values: dict[str, Any] = {
            "external_id": r.external_id, "offence_category": r.category,
            "occurred_from": r.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "coordinates": f"{r.latitude}, {r.longitude}",
        }
        if r.title:
            values["title"] = r.title
        if r.extra:
            values["narrative"] = "; ".join(f"{k}: {v}" for k, v in r.extra.items() if v)
        rows.append(Row(r.line, values))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    report = _run_import("Incident", rows, unit=unit, classification=classification, digest=digest,
                         source_name=f"{path.name} mapping {mapping.name}", dry_run=dry_run,
                         label=f"Incident <- {path.name} ({mapping.name})")
    detail = "".join(f"\n  rejected {item['rows']}: {item['field']} ({item['rule']})" for item in summary)
    _report_import(report, as_json=as_json, dry_run=dry_run,
                   extra={"rows": result.lines, "rejected": len(result.errors), "summary": summary},
                   summary=f"; {len(result.errors)} rejected by the mapping{detail}")


@import_app.command("records")
def import_records(schema: str, path: Path, unit: Annotated[str, typer.Option(help="Owner unit code")],
                   classification: str = "unclassified", dry_run: bool = False, as_json: JsonOpt = False) -> None:
    """Import records of any schema (columns = its properties)."""
    _import(schema, path, unit, classification, dry_run, as_json)


@app.command("export")
def export(
    schema: Annotated[str | None, typer.Option(help="Only this schema")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout)")] = None,
    purpose: Annotated[str, typer.Option(help="Declared purpose (audited)")] = "",
) -> None:
    """Export records as JSON Lines (audited)."""
    from amane.services import audit
    from amane.services.imports import iter_export

    svc = _services()
    actor = Actor.system().with_request(purpose=purpose)
    n = 0
    fh = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for rec in iter_export(svc.db, actor, schema):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    finally:
        if output:
            fh.close()
    with svc.db.write() as s:
        audit.append(s, [(actor, audit.AuditEvent("export", schema or "entity", "",
                                                  details={"records": n, "file": str(output or "-")}))])
    err.print(f"{n} records exported")


# -- search ------------------------------------------------------------------------------

@search_app.command("persons")
def search_persons(
    query: str,
    purpose: Annotated[str, typer.Option(help="Declared purpose (required, audited)")],
    limit: int = 20,
    birth_year: Annotated[int | None, typer.Option(help="Year of birth")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find persons by name in either script (any order, typos) or by identifier; best first."""
    from amane.services.search import PersonQuery

    svc = _services()
    try:
        hits = svc.persons.search(Actor.system(source="cli").with_request(purpose=purpose),
                                  PersonQuery(query, limit=limit, birth_year=birth_year))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=1))
        return
    t = Table("score", "names", "born", "unit", "why")
    for h in hits:
        t.add_row(f"{h.score:.2f}", " / ".join(h.names), str(h.data.get("birth_date", "")), h.owner_unit, h.why)
    out.print(t)


# -- cases -----------------------------------------------------------------------------------

@cases_app.command("list")
def cases_list(
    state: Annotated[str | None, typer.Option(help="open, investigating, referred, closed, archived")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Case files (as the console operator: every unit)."""
    svc = _services()
    try:
        items, total = svc.cases.list(Actor.system(source="cli"), state=state, per_page=200)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps([c.as_dict() for c in items], ensure_ascii=False, default=str))
        return
    t = Table("id", "reference", "state", "unit", "title", "team")
    for c in items:
        t.add_row(str(c.id), c.reference, c.state, c.unit, c.title, ", ".join(f"{m.username} ({m.role})"
                                                                              for m in c.team))
    out.print(t)
    err.print(f"{len(items)} of {total} cases")


@cases_app.command("show")
def cases_show(case_id: int, as_json: JsonOpt = False) -> None:
    """One case file: team, incidents, tasks, timeline."""
    svc = _services()
    try:
        view = svc.cases.get(Actor.system(source="cli"), case_id)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(view.as_dict(), ensure_ascii=False, default=str))
        return
    out.print(f"[bold]{view.reference}[/] {view.title} [dim]({view.state}, {view.unit})[/]")
    for m in view.team:
        out.print(f"  {m.role:10} {m.username} ({m.unit})")
    for tk in view.tasks:
        out.print(f"  task #{tk.id} [{tk.status}] {tk.title} -> {tk.assignee} due {tk.due_date or '-'}")
    for e in view.events:
        out.print(f"  {e.at:%Y-%m-%d %H:%M} {e.user or 'system'}: {e.kind} {e.text}")


@cases_app.command("export")
def cases_export(case_id: int, output: Annotated[Path, typer.Option("--output", "-o", help="ZIP file to write")],
                 lang: Annotated[str, typer.Option(help="ar, fr or en")] = "fr",
                 purpose: Annotated[str, typer.Option(help="Declared purpose (audited)")] = "case export") -> None:
    """The case file as a ZIP: case PDF, report PDFs, attachments, manifest.json with SHA-256s."""
    svc = _services()
    try:
        view, data = svc.documents.case_export(Actor.system(source="cli").with_request(purpose=purpose), case_id,
                                               lang=lang)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    tmp = output.with_name(output.name + ".part")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(output)
    err.print(f"{view.reference}: {len(data):,} bytes written to {output}")


@attachments_app.command("sweep")
def attachments_sweep(as_json: JsonOpt = False) -> None:
    """Remove stored files that no record references (older than the grace period)."""
    svc = _services()
    try:
        report = svc.attachments.sweep()
    finally:
        svc.close()
    if as_json:
        print(json.dumps(report.__dict__, default=str))
    else:
        err.print(f"removed {len(report.removed)} unreferenced files and {report.removed_temp} temp files")


@attachments_app.command("check")
def attachments_check(as_json: JsonOpt = False) -> None:
    """Read every referenced file back from storage and re-hash it; exit 1 if one is missing or altered."""
    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task("checking", total=None)
            report = svc.attachments.check(progress=lambda done, total: prog.update(task, completed=done, total=total))
    finally:
        svc.close()
    if as_json:
        print(json.dumps(report))
    else:
        err.print(f"{report['checked']} files checked ({report['bytes']:,} bytes): "
                  f"{len(report['missing'])} missing, {len(report['corrupt'])} altered")
        for sha in report["missing"]:
            err.print(f"missing: {sha}")
        for sha in report["corrupt"]:
            err.print(f"altered: {sha}")
    if report["missing"] or report["corrupt"]:
        raise typer.Exit(1)


@attachments_app.command("copy")
def attachments_copy(
    from_dir: Annotated[Path, typer.Option("--from-dir", help="A local blob directory (the old attachments dir)")],
    as_json: JsonOpt = False,
) -> None:
    """Copy the referenced files from a local blob directory into the configured storage (e.g. when
    moving to S3): verified, idempotent, resumable; exit 1 if a source file is missing or altered."""
    from amane.files import LocalBlobStore

    if not from_dir.is_dir():
        err.print(f"--from-dir: no such directory: {from_dir}")
        raise typer.Exit(2)
    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task("copying", total=None)
            report = svc.attachments.copy_from(
                LocalBlobStore(from_dir), progress=lambda done, total: prog.update(task, completed=done, total=total))
    finally:
        svc.close()
    if as_json:
        print(json.dumps(report))
    else:
        err.print(f"{report['copied']} files copied ({report['bytes']:,} bytes), {report['present']} already there, "
                  f"{len(report['missing'])} missing at the source, {len(report['corrupt'])} altered at the source")
    if report["missing"] or report["corrupt"]:
        raise typer.Exit(1)


# -- resolve ---------------------------------------------------------------------------------

@resolve_app.command("persons")
def resolve_persons(
    unit: Annotated[str | None, typer.Option(help="Only persons of this unit's subtree")] = None,
    threshold: Annotated[float, typer.Option(help="Match probability for the proposed clusters")] = 0.9,
    review_floor: Annotated[float, typer.Option(help="Pairs from this probability go to the review queue")] = 0.5,
    queue: Annotated[bool, typer.Option("--queue/--no-queue", help="Store the pairs in the review queue")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Find persons recorded more than once (across scripts and units) and queue them for review.
    Prints the proposed clusters: lists of record ids with their match probability."""
    svc = _services()
    try:
        with _progress() as prog:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = prog.add_task(stage, total=max(total, 1))
                prog.update(tasks[stage], completed=done, total=max(total, 1))

            result = svc.resolution.run(Actor.system(source="cli"), unit=unit, threshold=threshold,
                                        review_floor=review_floor, progress=progress, queue=queue)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(result.clusters, ensure_ascii=False, indent=1))
        return
    err.print(f"{result.persons} persons compared: {result.pairs} likely pairs, {result.queued} queued for review, "
              f"{result.already_decided} already decided; {len(result.clusters)} clusters at p >= {threshold}")
    t = Table("records", "min p", "mean p")
    for c in result.clusters[:50]:
        t.add_row(" ".join(c["ids"]), f"{c['min_probability']:.3f}", f"{c['mean_probability']:.3f}")
    out.print(t)


@resolve_app.command("merge")
def resolve_merge(a: str, b: str, reason: Annotated[str, typer.Option(help="Why they are one person")]) -> None:
    """Merge two person records known to be the same person (both records are kept)."""
    svc = _services()
    try:
        view = svc.resolution.merge(Actor.system(source="cli"), a, b, reason=reason)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    print(json.dumps(view.as_dict(), ensure_ascii=False))


@resolve_app.command("undo")
def resolve_undo(merge_id: int, reason: Annotated[str, typer.Option(help="Why the merge was wrong")]) -> None:
    """Undo a merge: the records are separate persons again."""
    svc = _services()
    try:
        view = svc.resolution.undo(Actor.system(source="cli"), merge_id, reason=reason)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    print(json.dumps(view.as_dict(), ensure_ascii=False))


# -- audit -----------------------------------------------------------------------------------

@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Walk the hash chain; name the first altered or missing row. Exit 1 if broken."""
    from amane.services.audit import verify

    svc = _services()
    checked, problem = verify(svc.db)
    if as_json:
        print(json.dumps({"checked": checked, "ok": problem is None,
                          "seq": problem.seq if problem else None, "problem": problem.problem if problem else None}))
    elif problem is None:
        out.print(f"[green]audit chain intact[/]: {checked} records")
    else:
        err.print(f"[bold red]{problem}[/] ({checked} records verified before it)")
    raise typer.Exit(0 if problem is None else 1)


# -- analytics -------------------------------------------------------------------------------

def _date(value: str | None, name: str) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(ValidationFailed([_field_error(name, "date.format", f"'{value}' is not a date (YYYY-MM-DD)")]))


def _field_error(name: str, rule: str, message: str) -> Any:
    from amane.services.errors import FieldError

    return FieldError(name, rule, message)


@analytics_app.command("backtest")
def analytics_backtest(
    start: Annotated[str, typer.Option(help="First forecast origin (YYYY-MM-DD, local midnight)")],
    end: Annotated[str, typer.Option(help="No origin on or after this day")],
    input_files: Annotated[list[Path] | None, typer.Option("--input", help="CSV file(s) read with --mapping "
                                                            "instead of the database (repeat for several)")] = None,
    mapping: Annotated[str | None, typer.Option(help="Import mapping of --input (e.g. toronto-mci)")] = None,
    unit: Annotated[str | None, typer.Option(help="Without --input: the unit whose history to use")] = None,
    horizon: Annotated[float, typer.Option(help="Forecast horizon in days (and step between origins)")] = 7,
    step: Annotated[float | None, typer.Option(help="Days between origins (default: the horizon)")] = None,
    cell: Annotated[float, typer.Option(help="Square cell size in metres")] = 250,
    models: Annotated[str, typer.Option(help="Comma-separated models")] = "last_period,ewma,kde,kde_decay,etas",
    categories: Annotated[str | None, typer.Option(help="Also evaluate these offence codes one by one")] = None,
    windows: Annotated[bool, typer.Option(help="With --json: include every window's figures")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rolling-origin backtest: train on everything before each origin, forecast [origin, origin +
    horizon), score hit rate, PAI and PEI at 1% and 5% of the area, per model."""
    import time

    from amane.analytics.backtest import backtest
    from amane.analytics.events import Events
    from amane.analytics.forecast import NotEnoughData

    d0, d1 = _date(start, "start"), _date(end, "end")
    model_list = [m.strip() for m in models.split(",") if m.strip()]
    cats = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    timezone = "Africa/Casablanca"
    t0 = time.perf_counter()
    try:
        if input_files:
            from amane.analytics.mapping import load_mapping, read_events

            if not mapping:
                _fail(ValidationFailed([_field_error("mapping", "property.required",
                                                     "--input needs --mapping (e.g. toronto-mci)")]))
            m = load_mapping(mapping or "")
            timezone = m.timezone
            with err.status("reading " + ", ".join(p.name for p in input_files)):
                events, errors = read_events(list(input_files), m)
            if errors:
                err.print(f"{len(errors)} rows rejected by mapping {m.name} (first: line {errors[0].line} "
                          f"{errors[0].field}: {errors[0].message})")
        else:
            svc = _services()
            try:
                arr = svc.monitoring.events(Actor.system(), unit=unit, audit_action="backtest")
            finally:
                svc.close()
            events = Events(arr.t, arr.lat, arr.lon, arr.category)
        read_s = time.perf_counter() - t0
        with _progress() as prog:
            task = prog.add_task("backtest windows", total=None)
            result = backtest(events, start=d0, end=d1, horizon_days=horizon, step_days=step, cell_m=cell,
                              models=model_list, categories=cats, timezone=timezone,
                              progress=lambda done, total: prog.update(task, completed=done, total=total))
    except NotEnoughData as exc:
        _fail(exc)
    except ValueError as exc:
        _fail(ValidationFailed([_field_error("models" if "model" in str(exc) else "start", "backtest.input",
                                             str(exc))]))
    except AmaneError as exc:
        _fail(exc)
    data = result.to_dict(windows=windows)
    data["events"] = len(events)
    data["read_seconds"] = round(read_s, 2)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    t = Table("model", "hit rate 1%", "PAI 1%", "PEI 1%", "hit rate 5%", "PAI 5%", "PEI 5%", "fit s", "windows")
    for name, row in data["models"].items():
        def f(key: str, row: dict[str, Any] = row) -> str:
            v = row.get(key)
            return "-" if v is None else f"{v:.3f}"
        t.add_row(name, f("hit_rate_1"), f("pai_1"), f("pei_1"), f("hit_rate_5"), f("pai_5"), f("pei_5"),
                  f("fit_seconds"), str(row.get("windows")))
    out.print(t)


@analytics_app.command("scan-alerts")
def analytics_scan_alerts(
    as_of: Annotated[str | None, typer.Option(help="Last day of the week tested (default: yesterday)")] = None,
    alpha: Annotated[float, typer.Option(help="False-alarm rate per unit, offence group and week")] = 0.01,
    method: Annotated[str, typer.Option(help="farrington, poisson or cusum")] = "farrington",
    recent_weeks: Annotated[int, typer.Option("--weeks", help="Test each of the last N weeks (each against "
                                                             "the weeks before it)")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Test last week against each unit's own history (per offence group) and send the alerts to the
    units' chiefs and analysts. Run weekly, e.g. from cron on Monday morning."""
    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task("units x offence groups", total=None)
            created = svc.monitoring.scan_alerts(Actor.system(), as_of=_date(as_of, "as_of"), alpha=alpha,
                                                 method=method, recent_weeks=recent_weeks,
                                                 progress=lambda d, n: prog.update(task, completed=d, total=n))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(created, ensure_ascii=False, indent=1))
        return
    for a in created:
        out.print(f"{a['unit']['code']:<14} {a['category_label'].get('en', a['category']):<40} "
                  f"{a['period_start']}..{a['period_end']}  {a['reason']}")
    err.print(f"{len(created)} new alert(s)")


@analytics_app.command("compstat")
def analytics_compstat(
    unit: Annotated[str | None, typer.Option(help="Unit code (default: all units)")] = None,
    as_of: Annotated[str | None, typer.Option(help="Last day (default: today)")] = None,
    lang: Annotated[str, typer.Option(help="Labels in ar, fr or en")] = "fr",
    as_json: JsonOpt = False,
) -> None:
    """CompStat: last 7 days, 28 days and year to date against the same days a year earlier."""
    svc = _services()
    try:
        report = svc.monitoring.compstat(Actor.system(), unit=unit, as_of=_date(as_of, "as_of"))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    data = report.as_dict()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:+.1f}%"

    t = Table("", "7 d", "prev", "%", "28 d", "prev", "%", "YTD", "prev", "%",
              title=f"CompStat {data['unit']['name'].get(lang, '')} - {data['as_of']}")
    for row in [*data["groups"], data["total"]]:
        t.add_row(row["label"].get(lang, row["key"]), str(row["d7"]), str(row["d7_prev"]), pct(row["d7_change_pct"]),
                  str(row["d28"]), str(row["d28_prev"]), pct(row["d28_change_pct"]), str(row["ytd"]),
                  str(row["ytd_prev"]), pct(row["ytd_change_pct"]))
    out.print(t)


@analytics_app.command("near-repeat")
def analytics_near_repeat(
    unit: Annotated[str | None, typer.Option(help="Unit code (default: all units)")] = None,
    start: Annotated[str | None, typer.Option(help="First day (default: a year before the end)")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (default: today)")] = None,
    category: Annotated[str | None, typer.Option(help="Offence code, e.g. burglary")] = None,
    group: Annotated[str | None, typer.Option(help="Offence group, e.g. property")] = None,
    space: Annotated[int, typer.Option(help="Spatial band width, metres")] = 100,
    time: Annotated[int, typer.Option(help="Time band width, days")] = 7,
    permutations: int = 99,
    as_json: JsonOpt = False,
) -> None:
    """Knox test of near-repeat victimisation: are incidents close in space also close in time?"""
    svc = _services()
    try:
        res = svc.monitoring.near_repeat(Actor.system(), unit=unit, start=_date(start, "start"),
                                         end=_date(end, "end"), category=category, group=group, space_m=space,
                                         time_days=time, permutations=permutations)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return
    if res["table"] is None:
        _fail(ValidationFailed([_field_error("data", "data.not_enough", res["meta"]["not_enough_data"])]))
    out.print(f"{res['meta']['events']} incidents, {res['meta']['start']} .. {res['meta']['end']}")
    print(res["text"])


@analytics_app.command("rebuild-facts")
def analytics_rebuild_facts() -> None:
    """Recompute the statistics table from the Incident records (after a restore, say)."""
    from amane.services.facts import rebuild_facts

    svc = _services()
    try:
        with err.status("rebuilding incident facts"), svc.db.write() as s:
            n = rebuild_facts(s)
    finally:
        svc.close()
    err.print(f"{n} incident facts written")


# Command groups kept in their own modules (they register on the Typer apps above).
from amane.cli import evidence as _evidence  # noqa: E402,F401
from amane.cli import forensics as _forensics  # noqa: E402,F401
from amane.cli import traces as _traces  # noqa: E402,F401
from amane.cli import watch as _watch  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":
    # Run the imported module, not this ``__main__`` copy: command groups in other modules register on it.
    from amane.cli.main import main as _main

    _main()
