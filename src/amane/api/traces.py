"""REST API of trace extraction on digital evidence: queue a scan of a server-side path, follow
its progress, read the selectors found (histogram) and the records that hold them, per item and
per case. Thin: parse, call ``services.traces``, render."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from amane.api.deps import current_actor, services_dep
from amane.services.container import Services
from amane.services.context import Actor

router = APIRouter(prefix="/api/v1", tags=["evidence"])
Svc = Depends(services_dep)
Who = Depends(current_actor)


class ScanIn(BaseModel):
    path: str = Field(min_length=1, max_length=1000, description="Image, folder or file on the lab's server")
    out_dir: str | None = Field(default=None, max_length=1000, description="New or empty folder for the "
                                                                         "feature files (or the timeline)")
    kind: str = Field(default="traces", max_length=16, description="traces (selectors in the bytes) or files "
                                                                  "(file systems, hashes, hash sets, timeline)")


@router.post("/evidence/{iid}/scans", status_code=202)
def queue_scan(iid: int, body: ScanIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Queue a trace-extraction scan; ``amane forensics worker`` runs it. Poll the scan for progress."""
    return svc.traces.queue(actor, iid, body.path, out_dir=body.out_dir, kind=body.kind)


@router.get("/evidence/{iid}/scans")
def scans(iid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return {"scans": svc.traces.scans(actor, iid)}


@router.post("/scans/{scan_id}/cancel")
def cancel_scan(scan_id: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.traces.cancel(actor, scan_id)


@router.get("/evidence/{iid}/selectors")
def selectors(iid: int, kind: str | None = None, limit: int = Query(default=500, ge=1, le=5000),
              svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return {"selectors": svc.traces.selectors(actor, iid, kind=kind, limit=limit)}


@router.get("/evidence/{iid}/hits")
def item_hits(iid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Records you may see that hold a phone, e-mail, account or wallet found on the item."""
    return {"hits": svc.traces.hits(actor, iid)}


@router.get("/cases/{case_id}/trace-hits")
def case_hits(case_id: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """The same for every item of a case."""
    return {"hits": svc.traces.case_hits(actor, case_id)}


@router.get("/hashsets")
def hash_sets(svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Known-good and known-bad hash sets."""
    return {"hashsets": svc.hashsets.sets(actor)}


@router.post("/hashsets", status_code=201)
async def import_hash_set(file: UploadFile = File(description="NSRL RDS CSV, one hash per line, or sha256sum "
                                                              "output"),
                          kind: str = Form(description="known_good or known_bad"),
                          name: str = Form(max_length=200), svc: Services = Svc,
                          actor: Actor = Who) -> dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="amane-hashset-")
    try:
        path = os.path.join(folder, "set.txt")
        with open(path, "wb") as f:
            shutil.copyfileobj(file.file, f, 1024 * 1024)
        return await run_in_threadpool(lambda: svc.hashsets.import_path(actor, path, kind=kind, name=name))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
