"""One object holding the database and every service, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from amane.model.schema import Registry, load_registry
from amane.services.attachments import AttachmentService
from amane.services.audit import AuditWriter
from amane.services.audit_log import AuditLogService
from amane.services.auth import AuthService
from amane.services.cases import CaseService
from amane.services.complaints import ComplaintService
from amane.services.documents import DocumentService
from amane.services.entities import EntityService
from amane.services.evidence import EvidenceService
from amane.services.hashsets import HashSetService
from amane.services.imports import ImportService
from amane.services.labs import LabService
from amane.services.monitoring import MonitoringService
from amane.services.notifications import InboxService
from amane.services.reports import ReportService
from amane.services.resolution import ResolutionService
from amane.services.search import PersonSearch
from amane.services.selectors import SelectorMatcher
from amane.services.traces import TraceService
from amane.services.units import UnitService
from amane.services.users import UserService
from amane.services.watch import WatchService
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
    resolution: ResolutionService
    complaints: ComplaintService
    reports: ReportService
    cases: CaseService
    inbox: InboxService
    attachments: AttachmentService
    documents: DocumentService
    monitoring: MonitoringService
    evidence: EvidenceService
    labs: LabService
    selectors: SelectorMatcher
    traces: TraceService
    hashsets: HashSetService
    watch: WatchService

    @classmethod
    def create(cls, settings: Settings | None = None, *, database_url: str | None = None) -> Services:
        settings = settings or get_settings()
        db = Database(database_url or settings.database_url)
        registry = load_registry()
        writer = AuditWriter(db)
        auth = AuthService(db, settings)
        entities = EntityService(db, registry, settings, writer)
        reports = ReportService(db, entities, writer)
        cases = CaseService(db, writer)
        attachments = AttachmentService(db, settings, writer)
        evidence = EvidenceService(db, writer)
        selectors = SelectorMatcher(db, writer)
        hashsets = HashSetService(db, writer)
        return cls(
            settings=settings,
            db=db,
            registry=registry,
            writer=writer,
            auth=auth,
            units=UnitService(db),
            users=UserService(db, on_access_change=auth.invalidate),
            entities=entities,
            imports=ImportService(db, registry),
            audit_log=AuditLogService(db),
            persons=PersonSearch(db, registry, settings, writer),
            resolution=ResolutionService(db, writer),
            complaints=ComplaintService(db, entities, writer),
            reports=reports,
            cases=cases,
            inbox=InboxService(db),
            attachments=attachments,
            documents=DocumentService(db, settings, entities, reports, cases, attachments),
            monitoring=MonitoringService(db, writer),
            evidence=evidence,
            labs=LabService(db, writer, attachments, evidence, settings),
            selectors=selectors,
            traces=TraceService(db, writer, selectors, hashsets),
            hashsets=hashsets,
            watch=WatchService(db, writer, selectors, proxy=settings.watch_proxy),
        )

    def __post_init__(self) -> None:
        from amane.services.resolution import collapse_hits

        resolution = self.resolution
        self.persons.collapse = lambda actor, hits: collapse_hits(resolution, actor, hits)

    def close(self) -> None:
        self.writer.close()
        self.db.dispose()
