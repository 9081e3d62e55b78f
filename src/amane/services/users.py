"""User accounts, roles and clearances. Every permission change is audited."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from amane.services import audit
from amane.services.auth import hash_password, new_totp_secret
from amane.services.context import Actor
from amane.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from amane.services.policy import in_scope_units
from amane.services.roles import CLEARANCES, clearance_level, roles
from amane.store.db import Database
from amane.store.tables import Unit, User, UserRole
from amane.store.types import utcnow

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    service_number: str
    full_name: str
    unit: str
    roles: tuple[str, ...]
    clearance: str
    active: bool
    language: str

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["roles"] = list(self.roles)
        return d


def _view(u: User, unit_code: str) -> UserView:
    return UserView(
        id=u.id,
        username=u.username,
        service_number=u.service_number,
        full_name=u.full_name,
        unit=unit_code,
        roles=tuple(sorted(r.role for r in u.roles)),
        clearance=CLEARANCES[u.clearance],
        active=u.active,
        language=u.language,
    )


def check_password_rules(password: str) -> list[FieldError]:
    errs = []
    if len(password) < MIN_PASSWORD:
        errs.append(FieldError("password", "password.length", f"the password needs at least {MIN_PASSWORD} characters"))
    if password.strip() != password or password.isdigit() or password.isalpha():
        errs.append(
            FieldError("password", "password.strength", "use letters and digits or symbols, without edge spaces")
        )
    return errs


@dataclass
class CreatedUser:
    user: UserView
    totp_secret: str


class UserService:
    def __init__(self, db: Database, *, on_access_change: Callable[[], None] | None = None) -> None:
        self.db = db
        self._on_access_change = on_access_change

    def create(
        self,
        actor: Actor,
        *,
        username: str,
        password: str,
        service_number: str,
        full_name: str,
        unit: str,
        roles_: list[str],
        clearance: str | int = 0,
        language: str = "fr",
        totp_secret: str | None = None,
    ) -> CreatedUser:
        actor.require("users.manage")
        errs: list[FieldError] = []
        username = username.strip().lower()
        if not USERNAME.match(username):
            errs.append(FieldError("username", "username.format", "2-64 lowercase letters, digits, '.', '_' or '-'"))
        errs += check_password_rules(password)
        if not service_number.strip():
            errs.append(FieldError("service_number", "property.required", "the service number is required"))
        if not full_name.strip():
            errs.append(FieldError("full_name", "property.required", "the full name is required"))
        known = roles()
        for r in roles_:
            if r not in known:
                errs.append(FieldError("roles", "role.unknown", f"unknown role '{r}'; allowed: {', '.join(known)}"))
        if not roles_:
            errs.append(FieldError("roles", "property.required", "at least one role is required"))
        try:
            level = clearance_level(clearance)
        except ValueError as exc:
            errs.append(FieldError("clearance", "clearance.unknown", str(exc)))
            level = 0
        if level > actor.clearance:
            errs.append(FieldError("clearance", "clearance.above_own", "you cannot grant a clearance above your own"))
        if language not in ("ar", "fr", "en"):
            errs.append(FieldError("language", "enum.value", "language must be ar, fr or en"))
        if errs:
            raise ValidationFailed(errs)
        secret = totp_secret or new_totp_secret()
        with self.db.write() as s:
            u_unit = s.scalar(select(Unit).where(Unit.code == unit.strip().upper(), in_scope_units(actor)))
            if u_unit is None:
                raise ValidationFailed([FieldError("unit", "unit.unknown", f"unknown unit code '{unit}'")])
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict("this username is taken", field="username", rule="username.taken")
            if s.scalar(select(User.id).where(User.service_number == service_number.strip())) is not None:
                raise Conflict("this service number is taken", field="service_number", rule="service_number.taken")
            user = User(
                username=username,
                service_number=service_number.strip(),
                full_name=full_name.strip(),
                unit_id=u_unit.id,
                clearance=level,
                password_hash=hash_password(password),
                totp_secret=secret,
                language=language,
                roles=[UserRole(role=r) for r in sorted(set(roles_))],
            )
            s.add(user)
            s.flush()
            audit.append(
                s,
                [
                    (
                        actor,
                        audit.AuditEvent(
                            "permission",
                            "user",
                            str(user.id),
                            details={"op": "create", "username": username, "unit": u_unit.code,
                                     "roles": sorted(set(roles_)), "clearance": CLEARANCES[level]},
                        ),
                    )
                ],
            )
            view = _view(user, u_unit.code)
        return CreatedUser(view, secret)

    def list(self, actor: Actor) -> list[UserView]:
        actor.require("users.read")
        with self.db.read() as s:
            rows = s.execute(
                select(User, Unit.code).join(Unit, Unit.id == User.unit_id).where(in_scope_units(actor))
                .order_by(User.username)
            ).all()
            return [_view(u, code) for u, code in rows]

    def get(self, actor: Actor, username: str) -> UserView:
        actor.require("users.read")
        with self.db.read() as s:
            row = s.execute(
                select(User, Unit.code).join(Unit, Unit.id == User.unit_id)
                .where(User.username == username, in_scope_units(actor))
            ).first()
            if row is None:
                raise NotFound("user", username)
            return _view(row[0], row[1])

    def update_access(
        self, actor: Actor, username: str, *, roles_: builtins.list[str] | None = None,
        clearance: str | None = None, active: bool | None = None,
    ) -> UserView:
        """Change roles, clearance or the active flag: a permission change, audited."""
        actor.require("users.manage")
        errs: list[FieldError] = []
        known = roles()
        if roles_ is not None:
            errs += [FieldError("roles", "role.unknown", f"unknown role '{r}'") for r in roles_ if r not in known]
            if not roles_:
                errs.append(FieldError("roles", "property.required", "at least one role is required"))
        level = None
        if clearance is not None:
            try:
                level = clearance_level(clearance)
            except ValueError as exc:
                errs.append(FieldError("clearance", "clearance.unknown", str(exc)))
            if level is not None and level > actor.clearance:
                errs.append(FieldError("clearance", "clearance.above_own",
                                       "you cannot grant a clearance above your own"))
        if errs:
            raise ValidationFailed(errs)
        with self.db.write() as s:
            row = s.execute(
                select(User, Unit.code).join(Unit, Unit.id == User.unit_id)
                .where(User.username == username, in_scope_units(actor))
            ).first()
            if row is None:
                raise NotFound("user", username)
            user, code = row
            before = {"roles": sorted(r.role for r in user.roles), "clearance": CLEARANCES[user.clearance],
                      "active": user.active}
            if roles_ is not None:
                user.roles = [UserRole(role=r) for r in sorted(set(roles_))]
            if level is not None:
                user.clearance = level
            if active is not None:
                user.active = active
            user.updated_at = utcnow()
            s.flush()
            after = {"roles": sorted(r.role for r in user.roles), "clearance": CLEARANCES[user.clearance],
                     "active": user.active}
            audit.append(s, [(actor, audit.AuditEvent("permission", "user", str(user.id),
                                                     details={"op": "update", "before": before, "after": after}))])
            view = _view(user, code)
        if self._on_access_change is not None:
            self._on_access_change()
        return view

    def totp_secret(self, username: str) -> str:
        """For the server's console only (``amane users otp``): the account's TOTP secret."""
        with self.db.read() as s:
            secret = s.scalar(select(User.totp_secret).where(User.username == username.strip().lower()))
            if secret is None:
                raise NotFound("user", username)
            return secret
