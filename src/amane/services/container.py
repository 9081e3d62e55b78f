"""One object holding the database and every service, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from amane.model.schema import Registry, load_registry
from amane.services.audit import AuditWriter
from amane.services.audit_log import AuditLogService
from amane.services.auth import AuthService
from amane.services.entities import EntityService
from amane.services.imports import ImportService
from amane.services.search import PersonSearch
from amane.services.units import UnitService
from amane.services.users import UserService
from amane.settings import Settings, get_settings
from amane.store.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: Registry
    writer: AuditWriter
    auth: AuthService
    units: UnitService
    users: UserService
    entities: EntityService
    imports: ImportService
    audit_log: AuditLogService
    persons: PersonSearch

    @classmethod
    def create(cls, settings: Settings | None = None, *, database_url: str | None = None) -> Services:
        settings = settings or get_settings()
        db = Database(database_url or settings.database_url)
        registry = load_registry()
        writer = AuditWriter(db)
        auth = AuthService(db, settings)
        return cls(
            settings=settings,
            db=db,
            registry=registry,
            writer=writer,
            auth=auth,
            units=UnitService(db),
            users=UserService(db, on_access_change=auth.invalidate),
            entities=EntityService(db, registry, settings, writer),
            imports=ImportService(db, registry),
            audit_log=AuditLogService(db),
            persons=PersonSearch(db, registry, settings, writer),
        )

    def close(self) -> None:
        self.writer.close()
        self.db.dispose()
