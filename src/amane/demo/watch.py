"""Demo content for the cyber watch: the project's own labelled posts (``amane/watch/data``,
written for Amane, see docs/watch-classifier.md) ingested as a synthetic channel of the central
cybercrime service over the 30 days before the demo's last day, a few posts that carry the phone
number of a person already in the demo records (so the "known selector" alert and the record hit
show), and a small watchlist. Every text is synthetic; the demo banner says so."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select

from amane.services.container import Services
from amane.services.context import Actor
from amane.store.tables import Entity, Unit, WatchSource

SOURCE = "demo: canal Telegram"
UNIT = "DCCYBER"
TERMS = (
    ("phrase", "harraga", "migrant_smuggling", "Départs clandestins"),
    ("keyword", "ketama", "drugs", "Provenance cannabis"),
    ("regex", r"\bcvv\d?\b", "carding", "Données de cartes"),
)


def _posts() -> list[dict[str, Any]]:
    text = resources.files("amane.watch").joinpath("data/posts.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def seed_watch(svc: Services, *, end: datetime | None = None) -> dict[str, int]:
    """Ingest the demo channel once (nothing is done if the demo source exists)."""
    from amane.watch.sources import RawDoc

    with svc.db.read() as s:
        if s.scalar(select(WatchSource.id).where(WatchSource.name == SOURCE)) is not None:
            return {}
        unit = s.scalar(select(Unit).where(Unit.code == UNIT))
        if unit is None:
            return {}
        # a person of the demo records with a phone: the channel "leaks" it in a few posts
        person = s.execute(select(Entity.id, Entity.data).where(Entity.schema == "Person",
                                                                  Entity.deleted_at.is_(None),
                                                                  Entity.classification <= 1)
                           .order_by(Entity.id).limit(500)).all()
    phone = next((str(d.get("phone")) for _id, d in person if d.get("phone")), None)
    system = Actor.system(unit_id=unit.id, unit_code=UNIT, source="demo-seed")
    for kind, pattern, category, label in TERMS:
        svc.watch.add_term(system, kind, pattern, category=category, label=label, unit=UNIT)
    end = end or datetime.now(UTC)
    posts = _posts()
    random.Random(2026).shuffle(posts)  # the file is ordered by language; a channel is not
    step = timedelta(days=28) / max(1, len(posts))  # all within the dashboard's default 30 days
    docs = []
    for i, p in enumerate(posts):
        at = end - (len(posts) - i) * step
        docs.append(RawDoc(source=SOURCE, external_id=f"demo-{p['id']}", text=p["text"], media_type="telegram",
                           location=f"result.json#message {i + 1}", author=f"user{(i * 7919) % 400:03d}",
                           published=at))
    if phone:
        for j, msg in enumerate((f"Livraison ce soir, appelle {phone} pour la commande (chira, 50g).",
                                 f"واش كاين شي حد؟ عيط ل {phone} على الطلبية ديال الحشيش",
                                 f"New batch available, contact {phone} on WhatsApp, cash only.")):
            docs.append(RawDoc(source=SOURCE, external_id=f"demo-known-{j}", text=msg, media_type="telegram",
                               location=f"result.json#message {len(posts) + j + 1}", author="user777",
                               published=end - timedelta(hours=3 - j)))
    report = svc.watch.ingest(system, docs, source=SOURCE, kind="telegram", unit=UNIT)
    return {"watch_items": report.ingested + report.duplicates + report.near_duplicates,
            "watch_alerts": report.alerts}
