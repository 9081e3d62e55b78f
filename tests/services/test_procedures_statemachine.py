"""Random sequences of actions by different users through complaints, reports and cases
(hypothesis ``RuleBasedStateMachine``). Whatever happens, after every step:

- no object is in a state its machine does not have, and versions only grow;
- an approved version of a report never changes (locked stays locked);
- every action that succeeded wrote an audit record for its object, and the chain verifies;
- the case compartment holds: exactly the team and the supervisors whose scope holds the
  owning unit can open a case; others get ``NotFound``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from amane.services import cases as cases_mod
from amane.services import reports as reports_mod
from amane.services.audit import verify
from amane.services.context import Actor
from amane.services.errors import AmaneError, NotFound
from amane.store.tables import AuditRecord, Case, CaseMember, Complaint, Report, ReportVersion, Unit, User

ACTORS = [("REGA", "officer"), ("REGA", "investigator"), ("REGA", "unit_chief"), ("REGA", "analyst"),
          ("REGB", "unit_chief"), ("REGB", "investigator"), ("HQ", "unit_chief"), ("HQ", "analyst")]
COMPLAINT = {"complainant_name": "Hamid Ouali", "facts": "cambriolage", "category": "burglary",
             "occurred_from": "2026-10-10T03:00"}
REPORT = {"title": "Cambriolage", "offence_category": "burglary", "occurred_from": "2026-10-10T03:00",
          "narrative": "Constatations"}


def test_random_procedure_sequences(world: Any) -> None:
    svc = world.svc
    actors = [world.actor(u, r) for u, r in ACTORS]
    chief = world.actor("REGA", "unit_chief")
    incident = svc.entities.create(chief, "Incident", {"offence_category": "burglary", "title": "base",
                                                       "occurred_from": "2026-10-10T03:00"}).id

    class Procedures(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.complaints: list[int] = []
            self.reports: list[int] = []
            self.cases: list[int] = []
            self.done: list[tuple[str, str]] = []  # (object type, id) of successful actions
            self.approved: dict[tuple[int, int], dict[str, Any]] = {}  # (report, version) -> content

        def _do(self, kind: str, oid: Any, fn: Any) -> Any:
            try:
                out = fn()
            except AmaneError:
                return None
            self.done.append((kind, str(oid if oid is not None else getattr(out, "id", ""))))
            return out

        @rule(who=st.sampled_from(actors))
        def take_complaint(self, who: Actor) -> None:
            r = self._do("Complaint", None, lambda: svc.complaints.take(who, COMPLAINT))
            if r is not None:
                self.done[-1] = ("Complaint", str(r.complaint_id))
                self.complaints.append(r.complaint_id)

        @precondition(lambda self: self.complaints)
        @rule(who=st.sampled_from(actors), i=st.integers(0, 50),
              decision=st.sampled_from(["accept", "close", "redirect"]))
        def decide_complaint(self, who: Actor, i: int, decision: str) -> None:
            cid = self.complaints[i % len(self.complaints)]
            if decision == "accept":
                self._do("Complaint", cid, lambda: svc.complaints.accept(who, cid))
            elif decision == "close":
                self._do("Complaint", cid, lambda: svc.complaints.close(who, cid, reason="r"))
            else:
                self._do("Complaint", cid, lambda: svc.complaints.redirect(who, cid, unit="STB", reason="r"))

        @rule(who=st.sampled_from(actors))
        def create_report(self, who: Actor) -> None:
            r = self._do("Report", None, lambda: svc.reports.create(who, REPORT, incident_id=incident))
            if r is not None:
                self.reports.append(r.id)

        @precondition(lambda self: self.reports)
        @rule(who=st.sampled_from(actors), i=st.integers(0, 50),
              action=st.sampled_from(["submit", "approve", "return", "update", "correct"]))
        def act_on_report(self, who: Actor, i: int, action: str) -> None:
            rid = self.reports[i % len(self.reports)]
            with svc.db.read() as s:
                version = s.scalar(select(Report.version).where(Report.id == rid))
            calls = {
                "submit": lambda: svc.reports.submit(who, rid, version=version),
                "approve": lambda: svc.reports.approve(who, rid, version=version),
                "return": lambda: svc.reports.return_to_author(who, rid, reason="r", version=version),
                "update": lambda: svc.reports.update(who, rid, {**REPORT, "narrative": "v"}, version=version),
                "correct": lambda: svc.reports.correct(who, rid, {**REPORT, "narrative": "c"}, reason="r",
                                                       version=version),
            }
            out = self._do("Report", rid, calls[action])
            if out is not None and out.state == "approved":
                self.approved[(rid, out.version)] = dict(out.content)

        @rule(who=st.sampled_from(actors), lead=st.sampled_from(actors))
        def open_case(self, who: Actor, lead: Actor) -> None:
            c = self._do("Case", None, lambda: svc.cases.open(who, title="t", incidents=[incident],
                                                               lead=lead.username))
            if c is not None:
                self.cases.append(c.id)

        @precondition(lambda self: self.cases)
        @rule(who=st.sampled_from(actors), i=st.integers(0, 50),
              goal=st.sampled_from(list(cases_mod.STATES.transitions)))
        def move_case(self, who: Actor, i: int, goal: str) -> None:
            cid = self.cases[i % len(self.cases)]
            self._do("Case", cid, lambda: svc.cases.transition(who, cid, goal, reason="r"))

        @precondition(lambda self: self.cases)
        @rule(who=st.sampled_from(actors), i=st.integers(0, 50), member=st.sampled_from(actors))
        def add_member(self, who: Actor, i: int, member: Actor) -> None:
            cid = self.cases[i % len(self.cases)]
            self._do("Case", cid, lambda: svc.cases.add_member(who, cid, member.username))

        @invariant()
        def states_are_legal(self) -> None:
            with svc.db.read() as s:
                assert set(s.scalars(select(Complaint.status))) <= {"received", "accepted", "closed"}
                assert set(s.scalars(select(Report.state))) <= set(reports_mod.STATES.transitions)
                assert set(s.scalars(select(Case.state))) <= set(cases_mod.STATES.transitions)
                for rid, n in s.execute(select(ReportVersion.report_id, func.count()).group_by(
                        ReportVersion.report_id)):
                    assert s.scalar(select(Report.version).where(Report.id == rid)) >= n

        @invariant()
        def approved_versions_are_locked(self) -> None:
            with svc.db.read() as s:
                for (rid, version), content in self.approved.items():
                    kept = s.scalar(select(ReportVersion.content).where(ReportVersion.report_id == rid,
                                                                        ReportVersion.version == version))
                    assert kept == content

        @invariant()
        def actions_are_audited(self) -> None:
            with svc.db.read() as s:
                audited = {(t, i) for t, i in s.execute(select(AuditRecord.object_type, AuditRecord.object_id))}
            for item in self.done:
                assert item in audited, item

        @invariant()
        def compartments_hold(self) -> None:
            with svc.db.read() as s:
                for cid in self.cases:
                    team = set(s.scalars(select(User.username).join(CaseMember, CaseMember.user_id == User.id)
                                         .where(CaseMember.case_id == cid)))
                    unit_path = s.scalar(select(Unit.path).join(Case, Case.unit_id == Unit.id).where(Case.id == cid))
                    for a in actors:
                        expected = a.username in team or (a.can("cases.supervise") and (
                            a.national or str(unit_path).startswith(a.unit_path)))
                        try:
                            svc.cases.get(a, cid)
                            seen = True
                        except NotFound:
                            seen = False
                        assert seen == expected, (a.username, cid, team)

        def teardown(self) -> None:
            assert verify(svc.db)[1] is None

    run_state_machine_as_test(Procedures, settings=settings(
        max_examples=12, stateful_step_count=14, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
