"""``amane evidence``: register digital evidence from a path on the lab's server (hashed on intake),
re-verify it, verify its custody chain, print its custody sheet (registered from ``main``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from amane.cli.main import JsonOpt, _call, _fail, _field_error, _services, app, err, out
from amane.model.errors import AmaneError, ValidationFailed

evidence_app = typer.Typer(help="The evidence register: intake with hashes, verification, custody sheet.",
                           no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
AsUser = Annotated[str, typer.Option("--as", help="Username acting (becomes the custodian; audited)")]


def _acting(svc: Any, username: str) -> Any:
    """The actor of a named user (the CLI runs on the lab's server as that user)."""
    from amane.services.auth import actor_for
    from amane.store.tables import Unit, User

    with svc.db.read() as s:
        user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
        unit = s.get(Unit, user.unit_id) if user is not None else None
        if user is None or unit is None:
            raise ValidationFailed([_field_error("as", "user.unknown", f"no active user '{username}'")])
        return actor_for(user, unit, source="cli")


@evidence_app.command("register")
def evidence_register(
    path: Annotated[Path, typer.Argument(help="The item's content (image, file) on this server, read only")],
    seal: Annotated[str, typer.Option(help="Seal number")],
    category: Annotated[str, typer.Option(help="disk_image, phone, computer, storage_media, ...")],
    as_user: AsUser,
    description: Annotated[str, typer.Option(help="Description")] = "",
    case: Annotated[int | None, typer.Option(help="Case file id")] = None,
    place: Annotated[str, typer.Option(help="Where it was seized or imaged")] = "",
    parent: Annotated[int | None, typer.Option(help="Item it was derived from (e.g. the phone of this image)")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a digital item: its content is hashed (SHA-256, SHA-1, MD5) in one read, never written."""
    from amane.services.evidence import digest_path

    svc = _services()
    try:
        if not path.is_file():
            raise ValidationFailed([_field_error("path", "path.missing", f"{path} is not a readable file")])
        actor = _acting(svc, as_user)
        t0 = time.perf_counter()
        digests = digest_path(path)
        seconds = time.perf_counter() - t0
        view = svc.evidence.register(actor, seal_number=seal, kind="digital", category=category,
                                     description=description, case_id=case, place=place, parent_id=parent,
                                     digests=digests)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    data = view.as_dict() | {"hash_seconds": round(seconds, 3),
                             "hash_mb_per_s": round(digests.size / 1e6 / seconds, 1) if seconds else None}
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1, default=str))
        return
    out.print(f"{view.reference} registered; custodian {view.custodian}")
    out.print(f"SHA-256 {digests.sha256}\nSHA-1   {digests.sha1}\nMD5     {digests.md5}")
    err.print(f"{digests.size:,} bytes hashed in {seconds:.2f} s ({data['hash_mb_per_s']} MB/s)")


@evidence_app.command("verify")
def evidence_verify(
    item: int,
    path: Annotated[Path, typer.Argument(help="The content to check against the intake hashes")],
    as_user: AsUser,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash the content and compare with the intake hashes; a mismatch is recorded, never fixed."""
    svc = _services()
    try:
        if not path.is_file():
            raise ValidationFailed([_field_error("path", "path.missing", f"{path} is not a readable file")])
        actor = _acting(svc, as_user)
        with open(path, "rb", buffering=0) as f:
            result = svc.evidence.verify(actor, item, f)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
    else:
        out.print("hashes match" if result.match else "[bold red]HASH MISMATCH[/] (recorded, chiefs notified)")
    if not result.match:
        raise typer.Exit(1)


@evidence_app.command("chain")
def evidence_chain(item: int, as_user: AsUser, as_json: JsonOpt = False) -> None:
    """Recompute the item's hash-chained custody log; exit 1 when it was altered."""
    report = _call(lambda svc: svc.evidence.verify_chain(_acting(svc, as_user), item))
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        out.print(f"custody chain intact: {report.events} events" if report.ok else
                  f"[bold red]custody chain broken at event {report.broken_seq}[/]: {report.reason}")
    if not report.ok:
        raise typer.Exit(1)


@evidence_app.command("custody-sheet")
def evidence_sheet(
    item: int,
    as_user: AsUser,
    out_file: Annotated[Path, typer.Option("--out", help="New PDF file")],
    lang: Annotated[str, typer.Option(help="ar, fr or en")] = "fr",
) -> None:
    """Print the item's custody sheet (PDF): details, hashes, every custody event, chain verification."""
    svc = _services()
    try:
        if out_file.exists():
            raise ValidationFailed([_field_error("out", "path.exists", f"{out_file} exists; not overwritten")])
        _view, chain, pdf = svc.labs.custody_sheet(_acting(svc, as_user), item, lang=lang)
    except AmaneError as exc:
        _fail(exc)
    finally:
        svc.close()
    out_file.write_bytes(pdf)
    err.print(f"written {out_file} ({len(pdf):,} bytes); chain {'intact' if chain.ok else 'BROKEN'}")
