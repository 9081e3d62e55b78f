"""Demo procedures: complaints at a Casablanca station (some filed online), their reports at each
stage of approval, and two case files with tasks, made through the services by the demo users
(so numbering, timelines, inbox and audit are the real ones)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from amane.services.auth import actor_for
from amane.services.container import Services
from amane.services.context import Actor
from amane.store.tables import Unit, User

COMPLAINTS: list[dict[str, Any]] = [
    {"complainant_name": "Samira Benjelloun", "category": "robbery", "place": "Boulevard Zerktouni",
     "facts": "Un individu à moto m'a arraché mon sac près de la station de tramway."},
    {"complainant_name": "محمد الإدريسي", "category": "burglary", "place": "حي المعاريف",
     "facts": "تم كسر باب الشقة وسرقة حاسوب وهاتف أثناء غيابي."},
    {"complainant_name": "Youssef Amrani", "category": "vehicle_theft", "place": "Parking du Maârif",
     "facts": "Ma voiture Dacia Logan a disparu du parking pendant la nuit."},
    {"complainant_name": "فاطمة الزهراء بناني", "category": "online_fraud", "place": "",
     "facts": "دفعت ثمن هاتف عبر موقع إعلانات ولم أتوصل بأي شيء، والبائع لا يجيب."},
    {"complainant_name": "Hicham Tazi", "category": "threats", "place": "Derb Sultan",
     "facts": "Je reçois des menaces répétées par téléphone depuis une semaine."},
    {"complainant_name": "نادية الفاسي", "category": "fraud", "place": "عين السبع",
     "facts": "سلمت مبلغا ماليا لشخص وعدني بعقد عمل في الخارج واختفى."},
    {"complainant_name": "Karim Chraibi", "category": "criminal_damage", "place": "Rue de Strasbourg",
     "facts": "La vitrine de mon magasin a été brisée dans la nuit."},
    {"complainant_name": "Omar Berrada", "category": "theft", "place": "Marché central",
     "facts": "On m'a volé mon portefeuille dans la foule du marché."},
]


def _actor(svc: Services, username: str) -> Actor | None:
    with svc.db.read() as s:
        u = s.scalar(select(User).where(User.username == username))
        if u is None:
            return None
        unit = s.get(Unit, u.unit_id)
        assert unit is not None
        return actor_for(u, unit).with_request(source="demo", purpose="demo data")


def seed_procedures(svc: Services, *, seed: int = 2026) -> dict[str, int]:
    rng = random.Random(seed)
    officer = _actor(svc, "officer.casa")
    investigator = _actor(svc, "investigator.casa")
    chief = _actor(svc, "chief.casa")
    if officer is None or investigator is None or chief is None:
        return {}
    counts = {"complaints": 0, "accepted": 0, "reports": 0, "cases": 0}
    accepted: list[Any] = []
    for n, data in enumerate(COMPLAINTS):
        form = {**data, "occurred_from": f"2026-11-{10 + n:02d}T{8 + n:02d}:15"}
        form = {k: v for k, v in form.items() if v}
        if n % 3 == 0:
            receipt = svc.complaints.file_online(form, unit=officer.unit_code, source="192.0.2.1")
        else:
            receipt = svc.complaints.take(officer, form)
        counts["complaints"] += 1
        if n < 6:
            accepted.append(svc.complaints.accept(investigator, receipt.complaint_id))
            counts["accepted"] += 1
        elif n == 6:
            svc.complaints.close(investigator, receipt.complaint_id, reason="Plainte retirée par le plaignant")
    reports = []
    for n, comp in enumerate(accepted):
        content = {"title": f"Procès-verbal {comp.reference}", "offence_category": comp.data.get("category"),
                   "occurred_from": comp.data.get("occurred_from"), "address": comp.data.get("place", ""),
                   "narrative": comp.data.get("facts", "") + "\n\nConstatations faites sur les lieux."}
        rep = svc.reports.create(officer, {k: v for k, v in content.items() if v}, complaint_id=comp.id)
        counts["reports"] += 1
        if n >= 1:
            rep = svc.reports.submit(officer, rep.id, version=rep.version)
        if n >= 3:
            rep = svc.reports.approve(chief, rep.id, version=rep.version)
        elif n == 2:
            rep = svc.reports.return_to_author(chief, rep.id, reason="Préciser l'heure des faits",
                                               version=rep.version)
        reports.append(rep)
    incidents = [c.incident_id for c in accepted if c.incident_id]
    if len(incidents) >= 4:
        case = svc.cases.open(chief, title="Vols et cambriolages, Maârif", incidents=incidents[:2],
                              lead=investigator.username, members=[officer.username],
                              summary="Série de vols à l'arraché et de cambriolages dans le même quartier.")
        svc.cases.transition(investigator, case.id, "investigating", reason="Enquête ouverte")
        svc.cases.add_task(chief, case.id, title="Exploiter la vidéosurveillance du tramway",
                           assignee=officer.username, due_date=f"2026-12-{rng.randint(1, 9):02d}")
        svc.cases.add_task(investigator, case.id, title="Entendre les témoins", assignee=investigator.username)
        svc.cases.add_note(investigator, case.id, "Deux victimes décrivent le même scooter noir.")
        svc.cases.open(chief, title="Escroqueries en ligne", incidents=incidents[3:5], lead=investigator.username)
        counts["cases"] = 2
    return counts
