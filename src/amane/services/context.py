"""Who is acting: the user, their unit scope, clearance and capabilities, and from where."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from amane.services.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    unit_id: int | None
    unit_code: str
    #: Materialised path of the user's unit (``/1/4/``); the scope is this subtree.
    unit_path: str
    clearance: int
    capabilities: frozenset[str]
    roles: tuple[str, ...] = ()
    #: Users of national units see every unit's records (still bounded by clearance).
    national: bool = False
    source: str = ""
    purpose: str = ""
    language: str = "fr"
    extra: dict[str, str] = field(default_factory=dict)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise Forbidden(capability)

    def with_request(self, *, source: str = "", purpose: str = "") -> Actor:
        return replace(self, source=source or self.source, purpose=purpose or self.purpose)

    @classmethod
    def system(cls, *, unit_id: int | None = None, unit_code: str = "SYSTEM", source: str = "cli") -> Actor:
        """The operator at the server's console (CLI imports, seeding). Still audited."""
        return cls(
            user_id=None,
            username="system",
            unit_id=unit_id,
            unit_code=unit_code,
            unit_path="/",
            clearance=3,
            capabilities=frozenset(
                {
                    "records.read", "records.create", "records.update", "records.delete",
                    "records.export", "records.import", "records.share", "persons.search", "persons.resolve",
                    "units.manage", "users.manage", "users.read", "audit.read", "complaints.take",
                    "complaints.decide", "reports.write", "reports.approve", "cases.open", "cases.supervise",
                    "analytics.read", "evidence.register", "evidence.custody", "lab.work",
                    "watch.read", "watch.ingest", "watch.triage", "watch.manage", "watch.export",
                }
            ),
            roles=("system",),
            national=True,
            source=source,
        )
