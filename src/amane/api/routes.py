"""REST API ``/api/v1``. Thin: parse, call a service, render. No permission checks here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from amane.api.deps import client_address, current_actor, services_dep
from amane.services.audit_log import AuditQuery
from amane.services.container import Services
from amane.services.context import Actor
from amane.services.entities import ListQuery
from amane.services.errors import FieldError, ValidationFailed
from amane.services.roles import CLEARANCE_LABELS, roles
from amane.services.search import PersonQuery

router = APIRouter(prefix="/api/v1")

Svc = Depends(services_dep)
Who = Depends(current_actor)


class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    otp: str = Field(max_length=10, description="6-digit TOTP code")


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in_days: float


@router.post("/auth/token", response_model=TokenOut, tags=["auth"])
def login(body: LoginIn, request: Request, svc: Services = Svc) -> TokenOut:
    """Exchange name + password + one-time code for a bearer token (valid 12 hours)."""
    user = svc.auth.authenticate(body.username, body.password, body.otp, source=client_address(request))
    days = svc.settings.session_absolute_s / 86400.0
    return TokenOut(token=svc.auth.create_token(user.id, "login", days=days), expires_in_days=days)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(request: Request, svc: Services = Svc, actor: Actor = Who) -> Response:
    """Revoke the bearer token used for this request."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        svc.auth.revoke_token(auth[7:].strip())
    return Response(status_code=204)


@router.get("/auth/me", tags=["auth"])
def me(actor: Actor = Who) -> dict[str, Any]:
    return {"username": actor.username, "unit": actor.unit_code, "roles": list(actor.roles),
            "clearance": list(CLEARANCE_LABELS)[actor.clearance], "capabilities": sorted(actor.capabilities),
            "national": actor.national}


# -- units ---------------------------------------------------------------------------------

@router.get("/units", tags=["units"])
def list_units(svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [u.as_dict() for u in svc.units.all()]


@router.get("/units/{code}", tags=["units"])
def get_unit(code: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.units.get(code.upper()).as_dict()


@router.post("/units", status_code=201, tags=["units"])
def create_unit(body: dict[str, Any], svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Add a unit (administrators): code, parent, kind, name_ar, name_fr, name_en."""
    return svc.units.create(actor, body).as_dict()


@router.patch("/units/{code}", tags=["units"])
def patch_unit(code: str, body: dict[str, Any], svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.units.update(actor, code.upper(), body).as_dict()


# -- users ---------------------------------------------------------------------------------

class UserIn(BaseModel):
    username: str
    password: str
    service_number: str
    full_name: str
    unit: str
    roles: list[str]
    clearance: str = "unclassified"
    language: str = "fr"


class UserPatch(BaseModel):
    roles: list[str] | None = None
    clearance: str | None = None
    active: bool | None = None


@router.get("/roles", tags=["users"])
def list_roles(actor: Actor = Who) -> dict[str, Any]:
    return roles()


@router.get("/users", tags=["users"])
def list_users(svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [u.as_dict() for u in svc.users.list(actor)]


@router.post("/users", status_code=201, tags=["users"])
def create_user(body: UserIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Creates the account; the response carries the TOTP secret once (give it to the user)."""
    made = svc.users.create(actor, username=body.username, password=body.password,
                            service_number=body.service_number, full_name=body.full_name, unit=body.unit,
                            roles_=body.roles, clearance=body.clearance, language=body.language)
    return {**made.user.as_dict(), "totp_secret": made.totp_secret}


@router.get("/users/{username}", tags=["users"])
def get_user(username: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.users.get(actor, username).as_dict()


@router.patch("/users/{username}", tags=["users"])
def patch_user(username: str, body: UserPatch, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.users.update_access(actor, username, roles_=body.roles, clearance=body.clearance,
                                   active=body.active).as_dict()


# -- schemas -------------------------------------------------------------------------------

def _schema_dict(svc: Services, name: str) -> dict[str, Any]:
    sch = svc.registry.get(name)
    return {
        "name": sch.name, "label": sch.label, "plural": sch.plural, "description": sch.description,
        "edge": ({"source": sch.edge.source, "target": sch.edge.target, "directed": sch.edge.directed}
                 if sch.edge else None),
        "properties": {
            p.name: {"type": p.type.name, "label": p.label, "required": p.required, "multiple": p.multiple,
                     "range": list(p.range) or None, "values": p.values}
            for p in sch.properties.values()
        },
    }


@router.get("/schemas", tags=["schemas"])
def list_schemas(svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [_schema_dict(svc, s.name) for s in svc.registry]


@router.get("/schemas/{name}", tags=["schemas"])
def get_schema(name: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return _schema_dict(svc, name)


# -- entities ------------------------------------------------------------------------------

class EntityIn(BaseModel):
    schema_: str = Field(alias="schema")
    data: dict[str, Any]
    owner_unit: str | None = None
    classification: str | None = None
    external_id: str | None = Field(default=None, max_length=128)
    reason: str = ""


class EntityUpdate(BaseModel):
    data: dict[str, Any] | None = None
    version: int | None = None
    classification: str | None = None
    owner_unit: str | None = None
    reason: str = ""


def _if_match(value: str | None, body_version: int | None) -> int | None:
    if value:
        v = value.strip().strip('W/').strip('"')
        if not v.isdigit():
            raise ValidationFailed([FieldError("If-Match", "version.format", "If-Match must be a version number")])
        return int(v)
    return body_version


@router.get("/entities", tags=["entities"])
def list_entities(
    request: Request,
    schema: str | None = None,
    q: str | None = Query(default=None, max_length=200),
    owner_unit: str | None = None,
    classification: str | None = None,
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=50, ge=1, le=200),
    svc: Services = Svc,
    actor: Actor = Who,
) -> dict[str, Any]:
    """List visible records. Filter on a property with ``p.NAME=value`` (e.g. ``p.sex=F``)."""
    props = {k[2:]: v for k, v in request.query_params.items() if k.startswith("p.")}
    query = ListQuery(schema=schema, q=q, owner_unit=owner_unit, classification=classification, props=props,
                      page=page, per_page=per_page)
    return svc.entities.list(actor, query).as_dict()


@router.post("/entities", status_code=201, tags=["entities"])
def create_entity(body: EntityIn, response: Response, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    view = svc.entities.create(actor, body.schema_, body.data, owner_unit=body.owner_unit,
                               classification=body.classification, external_id=body.external_id,
                               reason=body.reason)
    response.headers["ETag"] = f'"{view.version}"'
    response.headers["Location"] = f"/api/v1/entities/{view.id}"
    return view.as_dict()


@router.get("/entities/{eid}", tags=["entities"], response_model=None)
def get_entity(eid: str, svc: Services = Svc, actor: Actor = Who) -> JSONResponse:
    """One record (JSON), with its version as ETag."""
    view = svc.entities.get(actor, eid)
    # rendered directly: the generic encoder costs more than the query on this hot path
    return JSONResponse(view.as_dict(), headers={"ETag": f'"{view.version}"'})


def _update(eid: str, body: EntityUpdate, if_match: str | None, partial: bool, svc: Services,
            actor: Actor, response: Response) -> dict[str, Any]:
    view = svc.entities.update(actor, eid, body.data, expected_version=_if_match(if_match, body.version),
                               partial=partial, classification=body.classification, owner_unit=body.owner_unit,
                               reason=body.reason)
    response.headers["ETag"] = f'"{view.version}"'
    return view.as_dict()


@router.put("/entities/{eid}", tags=["entities"])
def put_entity(eid: str, body: EntityUpdate, response: Response, if_match: str | None = Header(default=None),
               svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Replace the record's data. Give the version you edited (If-Match or ``version``)."""
    return _update(eid, body, if_match, False, svc, actor, response)


@router.patch("/entities/{eid}", tags=["entities"])
def patch_entity(eid: str, body: EntityUpdate, response: Response, if_match: str | None = Header(default=None),
                 svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Change some properties (others kept; null or "" removes one)."""
    return _update(eid, body, if_match, True, svc, actor, response)


@router.delete("/entities/{eid}", status_code=204, tags=["entities"])
def delete_entity(eid: str, reason: str = Query(default="", max_length=500), version: int | None = None,
                  if_match: str | None = Header(default=None), svc: Services = Svc, actor: Actor = Who) -> Response:
    svc.entities.delete(actor, eid, expected_version=_if_match(if_match, version), reason=reason)
    return Response(status_code=204)


@router.get("/entities/{eid}/history", tags=["entities"])
def entity_history(eid: str, svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [v.as_dict() for v in svc.entities.history(actor, eid)]


@router.get("/entities/{eid}/relations", tags=["relations"])
def entity_relations(eid: str, svc: Services = Svc, actor: Actor = Who) -> list[dict[str, Any]]:
    return [v.as_dict() for v in svc.entities.relations(actor, eid)]


class ShareIn(BaseModel):
    unit: str


@router.post("/entities/{eid}/shares", status_code=204, tags=["entities"])
def share_entity(eid: str, body: ShareIn, svc: Services = Svc, actor: Actor = Who) -> Response:
    svc.entities.share(actor, eid, body.unit)
    return Response(status_code=204)


@router.post("/relations", status_code=201, tags=["relations"])
def create_relation(body: EntityIn, response: Response, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Create a relation (a record whose schema has an ``edge``: Involvement, Ownership, Call...)."""
    if not svc.registry.get(body.schema_).is_edge:
        raise ValidationFailed([FieldError("schema", "schema.not_relation", f"'{body.schema_}' is not a relation")])
    return create_entity(body, response, svc, actor)


# -- search ------------------------------------------------------------------------------

@router.get("/search/persons", tags=["search"])
def search_persons(
    q: str = Query(max_length=200, description="A name in Arabic or Latin letters, any order, or an identifier"),
    limit: int = Query(default=20, ge=1, le=200),
    birth_year: int | None = Query(default=None, ge=1850, le=2100),
    birth_year_to: int | None = Query(default=None, ge=1850, le=2100),
    sex: str | None = Query(default=None, pattern="^[MFmf]$"),
    birth_place: str | None = Query(default=None, max_length=100),
    svc: Services = Svc, actor: Actor = Who,
) -> list[dict[str, Any]]:
    """Ranked persons with a score and why they matched. Needs a declared purpose (X-Purpose)."""
    hits = svc.persons.search(actor, PersonQuery(q, limit, birth_year, birth_year_to, sex, birth_place))
    return [h.as_dict() for h in hits]


# -- entity resolution -------------------------------------------------------------------

class ResolveIn(BaseModel):
    unit: str | None = Field(default=None, max_length=32, description="Only persons of this unit's subtree")
    threshold: float = Field(default=0.9, gt=0, le=1, description="Probability for proposed clusters")
    review_floor: float = Field(default=0.5, gt=0, le=1, description="Pairs from this probability are queued")


@router.post("/resolution/runs", status_code=201, tags=["resolution"])
def resolution_run(body: ResolveIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Compare the persons you may see and queue the likely duplicates for review."""
    res = svc.resolution.run(actor, unit=body.unit, threshold=body.threshold, review_floor=body.review_floor)
    return res.as_dict()


@router.get("/resolution/candidates", tags=["resolution"])
def resolution_candidates(
    status: str = Query(default="pending", max_length=16), limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0), min_probability: float = Query(default=0.0, ge=0, le=1),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    """The review queue: pairs of person records that may be the same person, most probable first."""
    items, total = svc.resolution.candidates(actor, status=status, limit=limit, offset=offset,
                                             min_probability=min_probability)
    return {"items": [c.as_dict() for c in items], "total": total, "limit": limit, "offset": offset}


@router.get("/resolution/candidates/{cid}", tags=["resolution"])
def resolution_candidate(cid: int, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    return svc.resolution.candidate(actor, cid).as_dict()


class DecisionIn(BaseModel):
    decision: str = Field(pattern="^(accept|reject)$")
    reason: str = Field(default="", max_length=500)


@router.post("/resolution/candidates/{cid}/decision", tags=["resolution"])
def resolution_decide(cid: int, body: DecisionIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Accept (the two records become one identity; both are kept) or reject (with a reason)."""
    return svc.resolution.decide(actor, cid, body.decision, reason=body.reason).as_dict()


class MergeIn(BaseModel):
    a: str = Field(max_length=32)
    b: str = Field(max_length=32)
    reason: str = Field(max_length=500)


@router.post("/resolution/merges", status_code=201, tags=["resolution"])
def resolution_merge(body: MergeIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Merge two person records you know to be the same person."""
    return svc.resolution.merge(actor, body.a, body.b, reason=body.reason).as_dict()


class UndoIn(BaseModel):
    reason: str = Field(max_length=500)


@router.post("/resolution/merges/{mid}/undo", tags=["resolution"])
def resolution_undo(mid: int, body: UndoIn, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """Undo a merge: the records are separate persons again."""
    return svc.resolution.undo(actor, mid, reason=body.reason).as_dict()


@router.get("/persons/{eid}/identity", tags=["resolution"])
def person_identity(eid: str, svc: Services = Svc, actor: Actor = Who) -> dict[str, Any]:
    """A person as one identity: every record merged with it that you may see, all names, merges."""
    return svc.resolution.identity(actor, eid).as_dict()


# -- audit ---------------------------------------------------------------------------------

@router.get("/audit", tags=["audit"])
def search_audit(
    username: str | None = None, object_id: str | None = None, action: str | None = None,
    unit: str | None = None, since: datetime | None = None, until: datetime | None = None,
    page: int = Query(default=1, ge=1), per_page: int = Query(default=50, ge=1, le=500),
    svc: Services = Svc, actor: Actor = Who,
) -> dict[str, Any]:
    items, total = svc.audit_log.search(actor, AuditQuery(username, object_id, action, unit, since, until,
                                                          page, per_page))
    return {"items": items, "total": total, "page": page, "per_page": per_page}
