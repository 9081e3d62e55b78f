"""Demo evidence and lab requests: items seized by the Casablanca investigator, one handed to the
lab, and requests to the lab in every state (submitted, accepted, in progress, completed,
rejected), made through the services by the demo users (so references, custody chains,
timelines, inbox and audit are the real ones)."""

from __future__ import annotations

from sqlalchemy import select

from amane.services.auth import actor_for
from amane.services.container import Services
from amane.services.context import Actor
from amane.store.tables import LabRequest, Unit, User

ITEMS = [
    ("CASA-S-0101", "phone", "Samsung Galaxy A14 noir, écran fissuré, saisi sur le suspect"),
    ("CASA-S-0102", "clothing", "Blouson en jean taché de sang, trouvé près du tramway"),
    ("CASA-S-0103", "drug_sample", "Sachet de poudre blanche, 12 g"),
    ("CASA-S-0104", "document", "Contrat de travail présumé falsifié"),
    ("CASA-S-0105", "weapon", "Couteau à cran d'arrêt, lame 9 cm"),
]


def _actor(svc: Services, username: str) -> Actor | None:
    with svc.db.read() as s:
        u = s.scalar(select(User).where(User.username == username))
        if u is None:
            return None
        unit = s.get(Unit, u.unit_id)
        assert unit is not None
        return actor_for(u, unit).with_request(source="demo", purpose="demo data")


def seed_labs(svc: Services) -> dict[str, int]:
    """Five items and five lab requests; nothing when the demo users are missing or it ran before."""
    inv = _actor(svc, "investigator.casa")
    tech = _actor(svc, "labtech")
    chief = _actor(svc, "chief.lab")
    if inv is None or tech is None or chief is None:
        return {}
    with svc.db.read() as s:
        if s.scalar(select(LabRequest.id).limit(1)) is not None:
            return {}
    items = [svc.evidence.register(inv, seal_number=seal, kind="physical", category=cat, description=text,
                                   place="Casablanca", purpose="saisie lors de l'interpellation")
             for seal, cat, text in ITEMS]
    phone, jacket, powder, contract, knife = items
    svc.evidence.transfer(inv, phone.id, to_user=tech.username, purpose="extraction des données",
                          place="Préfecture de police de Casablanca")
    svc.evidence.receive(tech, phone.id, place=tech.unit_code, storage_location="Coffre 2")
    lab = tech.unit_code
    urgent = svc.labs.submit(inv, lab=lab, exam_type="dna", items=[jacket.id], priority="urgent",
                             questions="Le sang sur le blouson est-il celui de la victime ?")
    digital = svc.labs.submit(inv, lab=lab, exam_type="digital", items=[phone.id],
                              questions="Extraire les contacts, messages et positions GPS du téléphone.")
    svc.labs.accept(chief, digital.id, technician=tech.username)
    prints = svc.labs.submit(inv, lab=lab, exam_type="fingerprints", items=[knife.id],
                             questions="Relever et comparer les traces papillaires sur le manche.")
    svc.labs.accept(chief, prints.id, technician=tech.username)
    svc.labs.start(tech, prints.id)
    drugs = svc.labs.submit(inv, lab=lab, exam_type="drugs_toxicology", items=[powder.id],
                            questions="Nature et taux de pureté de la poudre ?")
    svc.labs.accept(chief, drugs.id, technician=tech.username)
    svc.labs.start(tech, drugs.id)
    svc.labs.complete(tech, drugs.id, results="Chlorhydrate de cocaïne, pureté 71 %. Masse nette 11,6 g.")
    docs = svc.labs.submit(inv, lab=lab, exam_type="documents", items=[contract.id],
                           questions="Le cachet et la signature sont-ils authentiques ?")
    svc.labs.reject(chief, docs.id, reason="Examen de documents réalisé par le laboratoire régional : "
                                           "adresser la demande au laboratoire de Casablanca.")
    return {"evidence_items": len(items), "lab_requests": 5, "urgent_waiting": int(urgent.state == "submitted")}
