"""``amane forensics worker|queue|hits``: trace scans attached to digital evidence (registered from ``main``)."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.table import Table

from amane.cli.main import JsonOpt, _call, _fail, _progress, _services, err, forensics_app, out
from amane.model.errors import AmaneError
from amane.services.context import Actor


@forensics_app.command("queue")
def forensics_queue(
    item: Annotated[int, typer.Argument(help="Digital evidence item id")],
    path: Annotated[str, typer.Argument(help="Image, folder or file on this server")],
    out_dir: Annotated[str | None, typer.Option("--out", help="New or empty folder for the feature files "
                                                               "(or the timeline)")] = None,
    files: Annotated[bool, typer.Option("--files", help="List the file systems (deleted files too), hash every "
                                                        "file, match the hash sets, write the timeline")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Queue a scan of an item's content for the worker: selectors in the bytes, or (--files) its files."""
    data = _call(lambda svc: svc.traces.queue(Actor.system(source="cli"), item, path, out_dir=out_dir,
                                               kind="files" if files else "traces"))
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        out.print(f"scan {data['id']} queued ({data['bytes_total']:,} bytes)")


@forensics_app.command("worker")
def forensics_worker(
    once: Annotated[bool, typer.Option("--once", help="Run the queued scans, then stop (for cron)")] = False,
    jobs: Annotated[int, typer.Option(help="Processes per scan")] = 1,
    poll: Annotated[float, typer.Option(help="Seconds between looks at the queue")] = 5.0,
) -> None:
    """Run queued trace scans. Scans left running by a stopped worker are queued again first."""
    svc = _services()
    try:
        n = svc.traces.requeue_interrupted()
        if n:
            err.print(f"{n} interrupted scan(s) queued again")
        while True:
            scan_id = svc.traces.next_queued()
            if scan_id is None:
                if once:
                    break
                time.sleep(poll)
                continue
            with _progress() as prog:
                task = prog.add_task(f"scan {scan_id}", total=None)
                done = svc.traces.run(scan_id, jobs=jobs,
                                      progress=lambda d, t, k=task: prog.update(k, completed=d, total=t))
            err.print(f"scan {scan_id}: {done['status']}" + (f" ({done['error']})" if done["error"] else
                                                             f", {sum(done['counts'].values())} features"))
    except KeyboardInterrupt:
        err.print("stopped; a scan in progress will be queued again at the next start")
    finally:
        svc.close()


@forensics_app.command("hits")
def forensics_hits(
    item: Annotated[int, typer.Argument(help="Evidence item id")],
    as_json: JsonOpt = False,
) -> None:
    """Records that hold a phone, e-mail, account or wallet found on an item."""
    hits = _call(lambda svc: svc.traces.hits(Actor.system(source="cli"), item))
    if as_json:
        print(json.dumps(hits, ensure_ascii=False, indent=1))
        return
    t = Table("selector", "record", "unit", "linked", "cases")
    for h in hits:
        t.add_row(f"{h['kind']}: {h['value']}", f"{h['record']['schema']} {h['record']['caption']}",
                  h["record"]["unit"], ", ".join(x["caption"] for x in h["linked"]),
                  ", ".join(c["reference"] for c in h["cases"]) + (
                      f" (contact {', '.join(h['contact_units'])})" if h["contact_units"] else ""))
    out.print(t)


@forensics_app.command("hashset-import")
def hashset_import(
    path: str,
    kind: Annotated[str, typer.Option(help="known_good (files to skip) or known_bad (files that alert)")],
    name: Annotated[str | None, typer.Option(help="Name of the set (default: the file name)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a hash set (NSRL RDS CSV, one MD5/SHA-1/SHA-256 per line, or sha256sum output)."""
    svc = _services()
    try:
        with _progress() as prog:
            task = prog.add_task("import", total=None)
            data = svc.hashsets.import_path(Actor.system(source="cli"), path, kind=kind, name=name,
                                            progress=lambda d, t: prog.update(task, completed=d, total=t))
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        out.print(f"hash set {data['name']} ({data['kind']}): {data['counts']}; {data['bad_lines']} bad line(s)")


@forensics_app.command("hashsets")
def hashset_list(as_json: JsonOpt = False) -> None:
    """The known-good and known-bad hash sets."""
    rows = _call(lambda svc: svc.hashsets.sets(Actor.system(source="cli")))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table("id", "name", "kind", "hashes")
    for r in rows:
        t.add_row(str(r["id"]), r["name"], r["kind"], ", ".join(f"{k} {v}" for k, v in r["counts"].items()))
    out.print(t)
