"""REST API of the evidence register: register (physical as JSON, digital with its content as a
multipart upload hashed on intake), read, list, custody log, two-sided transfers, storage,
examination, return or destruction, integrity re-verification and custody chain verification.
Thin: parse, call ``services.evidence``, render."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError

from amane.api.deps import current_actor, services_dep
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.errors import FieldError, ValidationFailed

router = APIRouter(prefix="/api/v1", tags=["evidence"])
Svc = Depends(services_dep)
Who = Depends(current_actor)


class ItemIn(BaseModel):
    seal_number: str = Field(max_length=64)
    kind: str = Field(max_length=16, description="physical or digital")
    category: str = Field(max_length=32)
    description: str = Field(default="", max_length=20000)
    unit: str | None = Field(default=None, max_length=32, description="Owning unit code (default: yours)")
    classification: str | None = Field(default=None, max_length=16)
    case_id: int | None = None
    incident_id: str | None = Field(default=None, max_length=32)
    storage_location: str = Field(default="", max_length=300)
    parent_id: int | None = Field(default=None, description="Source item of a derived item")
    place: str = Field(default="", max_length=300, description="Where it was seized")
    purpose: str = Field(default="", max_length=1000)


def _register(svc: Services, actor: Actor, body: ItemIn, content: Any = None) -> dict[str, Any]:
    return svc.evidence.register(actor, seal_number=body.seal_number, kind=body.kind, category=body.category,
                                 description=body.description, unit=body.unit, classification=body.classification,
                                 case_id=body.case_id, incident_id=body.incident_id,
                                 storage_location=body.storage_location, parent_id=body.parent_id, place=body.place,
                                 purpose=body.purpose, content=content).as_dict()


@router.post("/evidence", status_code=201)
def register_item(body: ItemIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Register a seized item under seal; you become its custodian. Digital items go through
    ``POST /evidence/digital`` with their content."""
    return _register(svc, actor, body)


@router.post("/evidence/digital", status_code=201)
def register_digital(file: UploadFile = File(description="The item's content, hashed on intake (SHA-256, SHA-1, "
                                                         "MD5); not kept by the register"),
                     data: str = Form(description="The item's fields as JSON (same as POST /evidence)"),
                     svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    try:
        body = ItemIn.model_validate_json(data)
    except PydanticError as exc:
        raise ValidationFailed([FieldError("data." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "data",
                                           str(e["type"]), str(e["msg"])) for e in exc.errors()]) from None
    return _register(svc, actor, body, file.file)


@router.get("/evidence")
def list_items(state: str | None = None, kind: str | None = None, category: str | None = None,
               case_id: int | None = None, incident_id: str | None = None, seal_number: str | None = None,
               held: bool = False, pending: bool = False, page: int = Query(default=1, ge=1),
               per_page: int = Query(default=50, ge=1, le=200), svc: Services = Svc,
               actor: Actor = Who) -> dict[str, Any]:
    """Items you may see; ``held``: those you hold; ``pending``: transfers you sent or must confirm."""
    items, total = svc.evidence.list(actor, state=state, kind=kind, category=category, case_id=case_id,
                                     incident_id=incident_id, seal_number=seal_number, held=held, pending=pending,
                                     page=page, per_page=per_page)
    return {"items": [i.as_dict() for i in items], "total": total, "page": page, "per_page": per_page}


@router.get("/evidence/{iid}")
def get_item(iid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.evidence.get(actor, iid).as_dict()


@router.get("/evidence/{iid}/custody")
def custody_log(iid: int, svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [e.as_dict() for e in svc.evidence.custody_log(actor, iid)]


@router.get("/evidence/{iid}/chain")
def verify_chain(iid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Recompute the custody log's hash chain; ``broken_seq`` names the first bad event."""
    return svc.evidence.verify_chain(actor, iid).as_dict()


class TransferIn(BaseModel):
    to_user: str = Field(max_length=64, description="Username of the receiver, who must confirm")
    purpose: str = Field(max_length=1000)
    place: str = Field(default="", max_length=300)


@router.post("/evidence/{iid}/transfer")
def transfer(iid: int, body: TransferIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Hand the item over; custody changes only when the receiver confirms (409 lists what is allowed)."""
    return svc.evidence.transfer(actor, iid, to_user=body.to_user, place=body.place, purpose=body.purpose).as_dict()


@router.post("/evidence/{iid}/receive")
def receive(iid: int, place: str = Form(default="", max_length=300),
            storage_location: str = Form(default="", max_length=300), file: UploadFile | None = File(default=None),
            svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """The named receiver takes custody (form fields; a digital item's content, when sent, is re-verified)."""
    return svc.evidence.receive(actor, iid, place=place, storage_location=storage_location or None,
                                content=file.file if file is not None else None).as_dict()


class RefuseIn(BaseModel):
    reason: str = Field(max_length=1000)
    place: str = Field(default="", max_length=300)


@router.post("/evidence/{iid}/refuse")
def refuse(iid: int, body: RefuseIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.evidence.refuse(actor, iid, reason=body.reason, place=body.place).as_dict()


class StoreIn(BaseModel):
    storage_location: str = Field(max_length=300)
    place: str = Field(default="", max_length=300)


@router.post("/evidence/{iid}/store")
def store(iid: int, body: StoreIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.evidence.store(actor, iid, storage_location=body.storage_location, place=body.place).as_dict()


class ExamineIn(BaseModel):
    purpose: str = Field(max_length=1000)
    notes: str = Field(default="", max_length=5000)
    place: str = Field(default="", max_length=300)


@router.post("/evidence/{iid}/examine")
def examine(iid: int, body: ExamineIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.evidence.examine(actor, iid, purpose=body.purpose, notes=body.notes, place=body.place).as_dict()


class DisposeIn(BaseModel):
    action: str = Field(pattern="^(returned|destroyed)$")
    reason: str = Field(max_length=1000)
    place: str = Field(default="", max_length=300)
    to_whom: str = Field(default="", max_length=300, description="Who the item is returned to")


@router.post("/evidence/{iid}/dispose")
def dispose(iid: int, body: DisposeIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Return the item to its owner or destroy it (final; reason required)."""
    return svc.evidence.dispose(actor, iid, body.action, reason=body.reason, place=body.place,
                                to_whom=body.to_whom).as_dict()


@router.post("/evidence/{iid}/verify")
def verify(iid: int, file: UploadFile, place: str = Form(default="", max_length=300),
           purpose: str = Form(default="", max_length=1000), svc: Services = Svc,
           actor: Actor = Who) -> dict[str, Any]:
    """Re-hash a digital item's content: ``verified`` or ``integrity_failure`` (recorded, chiefs alerted)."""
    return svc.evidence.verify(actor, iid, file.file, place=place, purpose=purpose).as_dict()
