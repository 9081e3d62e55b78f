"""The unit tree: seeding from data files, listing, editing (administrators)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amane.services import audit
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.store.db import Database
from amane.store.tables import Unit
from amane.store.types import utcnow

KINDS = (
    "headquarters", "directorate", "national_unit", "lab", "regional_service",
    "provincial_service", "district", "station",
)
NATIONAL_KINDS = frozenset({"headquarters", "directorate", "national_unit", "lab"})


@dataclass(frozen=True)
class UnitView:
    id: int
    code: str
    parent: str | None
    kind: str
    name_ar: str
    name_fr: str
    name_en: str
    national: bool
    region: str | None
    province: str | None
    depth: int

    def name(self, lang: str) -> str:
        return str(getattr(self, f"name_{lang}", "") or self.name_fr)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _view(u: Unit, codes: dict[int, str]) -> UnitView:
    return UnitView(
        id=u.id,
        code=u.code,
        parent=codes.get(u.parent_id) if u.parent_id else None,
        kind=u.kind,
        name_ar=u.name_ar,
        name_fr=u.name_fr,
        name_en=u.name_en,
        national=u.national,
        region=u.region,
        province=u.province,
        depth=u.depth,
    )


def _validate_unit(spec: dict[str, Any], where: str) -> list[FieldError]:
    errs: list[FieldError] = []
    code = str(spec.get("code") or "")
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum() or code.upper() != code:
        errs.append(FieldError(f"{where}.code", "unit.code", "code must be 1-32 uppercase letters, digits, - or _"))
    if spec.get("kind") not in KINDS:
        errs.append(FieldError(f"{where}.kind", "unit.kind", f"kind must be one of: {', '.join(KINDS)}"))
    for lang in ("ar", "fr", "en"):
        if not str(spec.get(f"name_{lang}") or "").strip():
            errs.append(FieldError(f"{where}.name_{lang}", "unit.name", f"the {lang} name is required"))
    return errs


class UnitService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def seed(self, specs: Iterable[dict[str, Any]], *, actor: Actor | None = None) -> int:
        """Create or update units from data (parents before children). Returns units written."""
        specs = list(specs)
        errors: list[FieldError] = []
        for i, spec in enumerate(specs):
            errors += _validate_unit(spec, f"units[{i}]")
        if errors:
            raise ValidationFailed(errors)
        actor = actor or Actor.system()
        with self.db.write() as s:
            by_code = {u.code: u for u in s.scalars(select(Unit))}
            n = 0
            for i, spec in enumerate(specs):
                parent = None
                if spec.get("parent"):
                    parent = by_code.get(spec["parent"])
                    if parent is None:
                        raise ValidationFailed(
                            [FieldError(f"units[{i}].parent", "unit.parent", f"unknown parent unit '{spec['parent']}'")]
                        )
                u = by_code.get(spec["code"])
                if u is None:
                    u = Unit(code=spec["code"], path="/")
                    s.add(u)
                    by_code[u.code] = u
                elif parent is not None and parent.path.startswith(u.path):
                    raise ValidationFailed([FieldError(f"units[{i}].parent", "unit.parent_cycle",
                                                       f"'{spec['parent']}' is inside '{u.code}'")])
                old_path, old_depth = u.path, u.depth
                u.parent_id = parent.id if parent else None
                u.kind = spec["kind"]
                u.name_ar, u.name_fr, u.name_en = spec["name_ar"], spec["name_fr"], spec["name_en"]
                u.national = bool(spec.get("national", spec["kind"] in NATIONAL_KINDS))
                u.region = spec.get("region")
                u.province = spec.get("province")
                u.commune = spec.get("commune")
                u.updated_at = utcnow()
                s.flush()
                new_path = (parent.path if parent else "/") + f"{u.id}/"
                new_depth = (parent.depth + 1) if parent else 0
                if old_path not in ("/", new_path):
                    _move_subtree(s, u, old_path, new_path, new_depth - (old_depth or 0))
                u.path, u.depth = new_path, new_depth
                n += 1
            audit.append(s, [(actor, audit.AuditEvent("units.seed", "unit", "*", details={"units": n}))])
        return n

    def all(self) -> list[UnitView]:
        with self.db.read() as s:
            units = list(s.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.path)))
            codes = {u.id: u.code for u in units}
            return [_view(u, codes) for u in units]

    def by_code(self, s: Session, code: str, *, field: str = "unit") -> Unit:
        u = s.scalar(select(Unit).where(Unit.code == code.strip().upper()))
        if u is None or not u.active:
            raise ValidationFailed([FieldError(field, "unit.unknown", f"unknown unit code '{code}'")])
        return u

    def get(self, code: str) -> UnitView:
        with self.db.read() as s:
            u = s.scalar(select(Unit).where(Unit.code == code))
            if u is None:
                raise NotFound("unit", code)
            parent = s.get(Unit, u.parent_id) if u.parent_id else None
            return _view(u, {parent.id: parent.code} if parent else {})

    def create(self, actor: Actor, spec: dict[str, Any]) -> UnitView:
        """Add a unit under an existing parent (administrators)."""
        actor.require("units.manage")
        allowed = {"code", "parent", "kind", "name_ar", "name_fr", "name_en", "region", "province", "commune"}
        errs = [FieldError(k, "property.unknown", f"'{k}' is not a unit field") for k in spec if k not in allowed]
        errs += _validate_unit(spec, "unit")
        if not spec.get("parent"):
            errs.append(FieldError("unit.parent", "property.required", "a new unit needs a parent unit"))
        if errs:
            raise ValidationFailed(errs)
        with self.db.write() as s:
            if s.scalar(select(Unit.id).where(Unit.code == spec["code"])) is not None:
                raise Conflict("this unit code is taken", field="code", rule="unit.code_taken")
            parent = s.scalar(select(Unit).where(Unit.code == spec["parent"], Unit.active.is_(True)))
            if parent is None or not (actor.national or parent.path.startswith(actor.unit_path)):
                raise ValidationFailed([FieldError("unit.parent", "unit.unknown", f"unknown unit '{spec['parent']}'")])
            u = Unit(code=spec["code"], parent_id=parent.id, kind=spec["kind"], name_ar=spec["name_ar"].strip(),
                     name_fr=spec["name_fr"].strip(), name_en=spec["name_en"].strip(),
                     national=spec["kind"] in NATIONAL_KINDS, region=spec.get("region") or parent.region,
                     province=spec.get("province") or parent.province, commune=spec.get("commune"), path="/")
            s.add(u)
            s.flush()
            u.path = f"{parent.path}{u.id}/"
            u.depth = parent.depth + 1
            audit.append(s, [(actor, audit.AuditEvent("create", "unit", u.code, details={"parent": parent.code}))])
        return self.get(spec["code"])

    def update(self, actor: Actor, code: str, changes: dict[str, Any]) -> UnitView:
        """Rename or re-describe a unit (administrators). Moving units is not offered here."""
        actor.require("units.manage")
        allowed = {"name_ar", "name_fr", "name_en", "active"}
        errs = [FieldError(k, "property.unknown", f"'{k}' cannot be changed") for k in changes if k not in allowed]
        errs += [
            FieldError(k, "unit.name", "the name may not be empty")
            for k in ("name_ar", "name_fr", "name_en")
            if k in changes and not str(changes[k]).strip()
        ]
        if errs:
            raise ValidationFailed(errs)
        with self.db.write() as s:
            u = s.scalar(select(Unit).where(Unit.code == code))
            if u is None or not (actor.national or u.path.startswith(actor.unit_path)):
                raise NotFound("unit", code)
            for k, v in changes.items():
                setattr(u, k, v if k == "active" else str(v).strip())
            u.updated_at = utcnow()
            audit.append(s, [(actor, audit.AuditEvent("update", "unit", code, details={"changes": changes}))])
        return self.get(code)


def _move_subtree(s: Session, unit: Unit, old: str, new: str, depth_change: int) -> None:
    """A unit moved under another parent: the paths of the units below it, and the copies of
    owner-unit paths in the key index (person search), follow, in the same transaction; need-to-know
    reads every path, so none may be left pointing at the old place."""
    from sqlalchemy import func, literal, update

    from amane.store.tables import EntityKey

    s.execute(update(Unit).where(Unit.path.startswith(old, autoescape=True), Unit.id != unit.id)
              .values(path=literal(new) + func.substr(Unit.path, len(old) + 1), depth=Unit.depth + depth_change)
              .execution_options(synchronize_session="fetch"))
    s.execute(update(EntityKey).where(EntityKey.unit_path.startswith(old, autoescape=True))
              .values(unit_path=literal(new) + func.substr(EntityKey.unit_path, len(old) + 1))
              .execution_options(synchronize_session=False))


def load_unit_specs(path: Any = None) -> list[dict[str, Any]]:
    """Unit specs from a YAML file (default: the packaged ``amane/data/units.yaml``)."""
    from importlib import resources

    import yaml

    if path is None:
        text = resources.files("amane.data").joinpath("units.yaml").read_text(encoding="utf-8")
    else:
        from pathlib import Path

        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    units = data["units"] if isinstance(data, dict) and "units" in data else data
    if not isinstance(units, list):
        raise ValidationFailed([FieldError("units", "yaml.shape", "expected a list of units")])
    return units
