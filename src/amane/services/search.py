"""Person search across scripts and spellings, backed by the key index.

A stored person's names are turned into comparison keys by the names engine
(:mod:`amane.names`) and stored in ``entity_keys`` with the other look-up keys. A query is
turned into its (typo-tolerant) keys; the database returns the visible persons sharing the most
keys (an indexed look-up, never a scan of every row); the engine then scores each candidate
against the query and explains the match. Identifiers (CNIE, phone, plate, passport...) hit
directly. Every search needs a declared purpose and is audited with its terms.

Speed at 1,000,000 persons: the key index (``kind, value, entity_id``) answers every look-up
from the index alone. In the first try each key contributes at most ``max(CANDIDATES,
ROW_BUDGET / keys)`` postings (its lowest ids), so a common pair (5,000 namesakes of "Mohamed
Alaoui") costs no more than a rare one, and only the ``CANDIDATES`` best persons by key overlap
are read and checked against the access policy. When fewer than ``CANDIDATES`` of them are
visible to the actor (a filter) and more persons share a key, the second try ranks every posting
and checks the best ``DEEP`` persons, the third all of them: exactly the ranking of the whole
key index.

Users of a region or a station (not national) read only the postings of their own part of the
country: every key row carries its record's owner unit path and classification, so the index
``kind, value, unit_path, classification, entity_id`` hands over the postings of the user's
subtree within their clearance as one range per key; the postings of records shared with a unit
of the subtree (and owned outside it) are added from the shares. Those are the persons the user
may see (bar deleted records), so every one of their postings is ranked (``SCOPED_TRIES``: no
cap per key) and the best ``CANDIDATES`` are nearly always all visible: the exact answer that
the policy filter over the whole key index gives, at the cost of the user's share of the
namesakes instead of the country's. The policy clause is still applied to every candidate
record: the copied path and classification only narrow the look-up, they never widen it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, String, TextClause, and_, bindparam, column, select, text

from amane import names as names_engine
from amane.model.schema import EntitySchema, Registry
from amane.model.types import get_type
from amane.services.audit import AuditEvent, AuditWriter
from amane.services.context import Actor
from amane.services.errors import FieldError, ValidationFailed
from amane.services.policy import visible_entities
from amane.settings import Settings
from amane.store.db import Database
from amane.store.tables import Entity, Unit

#: Person properties that hold the person's own names (searched), and relatives' names (shown).
NAME_PROPS = ("given_name", "family_name", "given_name_ar", "family_name_ar")
ALIAS_PROP = "aliases"
#: How many candidates the key index hands to the scorer (best key overlap first).
CANDIDATES = 100
#: Weight of a shared key by kind when ordering candidates: full name, two parts in any order,
#: two parts with one consonant dropped (typos), one part (single-word queries only).
KEY_WEIGHTS = {"nf": 4, "np": 2, "nd": 1, "nm": 1}
#: Postings (key index rows) the first try reads at most, shared between the query's keys; each
#: key reads at least CANDIDATES of them (its lowest entity ids).
ROW_BUDGET = 2000
#: Persons the second try ranks by key overlap (every posting of every key) before it checks
#: which of them the actor may see, in that order; the third try ranks all of them.
DEEP = 800
#: The tries: (postings capped per key, persons ranked: a parameter, or None for all).
TRIES: tuple[tuple[bool, str | None], ...] = ((True, "top"), (False, "deep"), (False, None))
#: Numbers of keys the look-up statement is built for (a query's keys are padded to the next).
STATEMENT_SIZES = (4, 8, 16, 24, 32, 48, 64)
#: The tries of a user who is not national: every posting of their subtree ranked, then the best
#: ``CANDIDATES``, ``DEEP`` or all of those persons checked against the policy (the records are read
#: only then; deleted ones and a sex filter can leave too few for the first).
SCOPED_TRIES: tuple[tuple[bool, str | None], ...] = ((False, "top"), (False, "deep"), (False, None))
#: Whether such a user's look-up is narrowed to their subtree in the key index (False: the
#: national tries over every posting, then the policy; the previous way, kept for the benchmark).
SCOPED_LOOKUP = True
IDENTIFIER_TYPES = ("cin", "phone", "plate", "iban", "vin", "email", "crypto")
MAX_QUERY = 200


def identifier_keys(text: str) -> list[tuple[str, str]]:
    """(kind, key) pairs for a query that reads as an identifier (CNIE, phone, plate, IBAN, VIN,
    e-mail, crypto address), normalised the way stored values are; empty for anything else."""
    keys: list[tuple[str, str]] = []
    for type_name in IDENTIFIER_TYPES:
        vt = get_type(type_name)
        try:
            value = vt.clean(text)
        except Exception:  # noqa: BLE001 - not this kind of identifier
            continue
        if vt.key_kind:
            keys += [(vt.key_kind, k) for k in vt.keys(value)]
    return keys


def person_names(data: Mapping[str, Any]) -> list[str]:
    """The full names a person is known by: Latin, Arabic-script, and each alias."""
    out = []
    latin = " ".join(str(data[p]) for p in ("given_name", "family_name") if data.get(p))
    arabic = " ".join(str(data[p]) for p in ("given_name_ar", "family_name_ar") if data.get(p))
    for n in (latin, arabic, *(data.get(ALIAS_PROP) or [])):
        if n and n not in out:
            out.append(str(n))
    return out


@functools.lru_cache(maxsize=65536)
def _keys_of_name(name: str) -> tuple[tuple[str, str], ...]:
    """The engine's keys for one full name (names repeat a lot in police data: cached)."""
    try:
        return tuple(names_engine.index_keys(name))
    except ValueError:
        return ()


def name_index_keys(schema: str, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Keys of the names engine for a record (persons only), to store beside the model's keys."""
    if schema != "Person":
        return []
    keys: dict[tuple[str, str], None] = {}
    for n in person_names(data):
        for k in _keys_of_name(n):
            keys[k] = None
    return list(keys)


def record_keys(schema: EntitySchema, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every look-up key of a record: the model's (identifiers, name keys) plus, for persons, the
    names engine's cross-script keys, which supersede the model's simple name keys there."""
    keys = schema.keys(data)
    if schema.name == "Person":
        keys = [k for k in keys if k[0] != "name"] + name_index_keys(schema.name, data)
    return list(dict.fromkeys(keys))


#: Columns of a key-table row, in the order of :func:`key_rows`.
KEY_COLUMNS = ("entity_id", "kind", "value", "unit_path", "classification")
#: Longest key value stored (the column's width).
KEY_VALUE_MAX = 200


def key_rows(eid: str, keys: Iterable[tuple[str, str]], unit_path: str,
             classification: int) -> list[tuple[str, str, str, str, int]]:
    """The ``entity_keys`` rows (``KEY_COLUMNS`` order) of a record's keys, with the owner unit's
    path and the classification; every write of keys (create, update, import, rekey) goes through
    here, so all of them store the same rows for the same record."""
    rows = ((eid, k, v[:KEY_VALUE_MAX], unit_path, classification) for k, v in keys)
    return list(dict.fromkeys(rows))


@dataclass
class PersonHit:
    id: str
    external_id: str | None
    score: float
    names: list[str]
    why: str
    owner_unit: str
    data: dict[str, Any] = field(default_factory=dict)
    #: Other records of the same identity (merged by an analyst) that the user may see.
    merged_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "external_id": self.external_id, "score": round(self.score, 4), "names": self.names,
                "why": self.why, "owner_unit": self.owner_unit, "birth_date": self.data.get("birth_date"),
                "sex": self.data.get("sex"), "national_id": self.data.get("national_id"),
                "merged_ids": self.merged_ids}


@dataclass
class PersonQuery:
    text: str
    limit: int = 20
    birth_year: int | None = None
    birth_year_to: int | None = None
    sex: str | None = None
    birth_place: str | None = None

    def terms(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


class PersonSearch:
    def __init__(self, db: Database, registry: Registry, settings: Settings, writer: AuditWriter) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.writer = writer
        #: Set by the container: folds records merged into one identity (``resolution.collapse_hits``).
        self.collapse: Callable[[Actor, list[PersonHit]], list[PersonHit]] | None = None

    def search(self, actor: Actor, query: PersonQuery) -> list[PersonHit]:
        actor.require("persons.search")
        errors = []
        text = (query.text or "").strip()
        if not actor.purpose.strip():
            errors.append(FieldError("purpose", "purpose.required", "a person search needs a declared purpose"))
        if len(text) > MAX_QUERY:
            errors.append(FieldError("q", "query.length", f"the query may have at most {MAX_QUERY} characters"))
        elif not text:
            errors.append(FieldError("q", "property.required", "type a name or an identifier"))
        if not 1 <= query.limit <= 200:
            errors.append(FieldError("limit", "limit.range", "limit must be between 1 and 200"))
        if errors:
            raise ValidationFailed(errors)
        id_keys = identifier_keys(text)
        exact = bool(id_keys)
        if id_keys:
            keys = id_keys
        else:
            try:
                keys = names_engine.query_keys(text)
                if len(names_engine.analyse(text).tokens) > 1:
                    # one-part keys would pull in everyone called Mohamed: only for one-word queries
                    keys = [k for k in keys if k[0] != "nm"] or keys
            except ValueError as exc:
                raise ValidationFailed([FieldError("q", "query.name", str(exc))]) from None
        hits = self._candidates(actor, keys, query, exact=exact) if keys else []
        if self.collapse is not None and hits:
            hits = self.collapse(actor, hits)  # a merged identity shows once, with all its names
        self.writer.record(actor, AuditEvent("search", "Person", "", details={
            "terms": query.terms(), "results": len(hits), "ids": [h.id for h in hits[:20]]}))
        return hits

    def _candidates(self, actor: Actor, keys: Sequence[tuple[str, str]], query: PersonQuery, *,
                    exact: bool) -> list[PersonHit]:
        keys = list(dict.fromkeys(keys))
        params: dict[str, Any] = {"cap": max(CANDIDATES, ROW_BUDGET // len(keys)), "top": CANDIDATES}
        # a few statement sizes, each prepared once per connection: the unused places get a key
        # that no record has
        n = next((size for size in STATEMENT_SIZES if size >= len(keys)), len(keys))
        for i, (kind, value) in enumerate(keys + [("", "")] * (n - len(keys))):
            params[f"k{i}"], params[f"v{i}"] = kind, value
        if query.sex:
            params["sex"] = query.sex.upper()
        lateral = self.db.dialect == "postgresql"
        visible = visible_entities(actor)
        params["deep"] = DEEP
        scoped = SCOPED_LOOKUP and not actor.national and bool(actor.unit_path)
        tries = TRIES
        if scoped:
            tries = SCOPED_TRIES
            params["scope_lo"], params["scope_hi"] = subtree_range(actor.unit_path)
            params["scope_like"] = _like_prefix(actor.unit_path)
            params["clearance"] = actor.clearance
        # outside a transaction: each try is one statement (on PostgreSQL no BEGIN/ROLLBACK round trips)
        with self.db.statement_engine.connect() as c:
            t = 0
            while True:
                capped, ranked_limit = tries[t]
                stmt = _statement(n, capped, ranked_limit, lateral, visible, bool(query.sex), scoped)
                rows = c.execute(stmt, params).all()
                # A try is the answer when it filled the candidates, or when it ranked every person
                # sharing a key (fewer than its limit: then no key reached its cap either, as
                # cap >= top); the last try ranks every person.
                if len(rows) >= CANDIDATES or ranked_limit is None or (rows and rows[0][5] < params[ranked_limit]):
                    break
                t += 1
                deeper = tries[t][1]
                if deeper is not None and len(rows) * params[deeper] < CANDIDATES * params[ranked_limit]:
                    t += 1  # at the share of persons this actor may see, that try could not fill them
        hits: list[PersonHit] = []
        for eid, ext, data, unit_code, _n, _groups in rows:
            if not _birth_ok(data.get("birth_date"), query):
                continue
            if query.birth_place and query.birth_place.casefold() not in str(data.get("birth_place", "")).casefold():
                continue
            known = person_names(data)
            if exact:
                hits.append(PersonHit(eid, ext, 1.0, known, "identifier: exact match", unit_code, data))
            else:
                hits.append(PersonHit(eid, ext, 0.0, known, "", unit_code, data))
        if exact or not hits:
            hits.sort(key=lambda h: (-h.score, h.id))
            return hits[: query.limit]
        # one ranking call: the query is analysed once, namesakes and shared name parts are scored
        # once (the same scores as names_engine.similarity for each candidate); the explanation is
        # written for the hits returned only
        matches = dict(names_engine.rank(query.text, {i: h.names for i, h in enumerate(hits)},
                                         limit=len(hits), min_score=-1.0))
        for i, h in enumerate(hits):
            h.score = matches[i].score
        best = sorted(range(len(hits)), key=lambda i: (-hits[i].score, hits[i].id))[: query.limit]
        for i in best:
            hits[i].why = matches[i].why
        return [hits[i] for i in best]


_WEIGHT_SQL = "CASE {col} " + " ".join(f"WHEN '{k}' THEN {w}" for k, w in KEY_WEIGHTS.items()) + " ELSE 1 END"


def subtree_range(path: str) -> tuple[str, str]:
    """``(low, high)``: a unit path starts with ``path`` exactly when ``low <= it < high`` in byte
    order (``/1/4/`` -> ``/1/40``: nothing sorts between ``/1/4/...`` and the next character)."""
    return path, path[:-1] + chr(ord(path[-1]) + 1)


def _like_prefix(path: str) -> str:
    """A LIKE pattern (escape ``!``) matching the paths that start with ``path``."""
    return path.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


_STATEMENTS: dict[tuple[int, bool, str | None, bool, int, bool, bool], tuple[Any, Any]] = {}


def _statement(n: int, capped: bool, ranked_limit: str | None, lateral: bool, visible: Any, sex: bool,
               scoped: bool = False) -> Any:
    """The candidates' statement for ``n`` keys, built once per shape: the access clause is one
    object per scope and clearance (``policy``), the key values are parameters."""
    key = (n, capped, ranked_limit, lateral, id(visible), sex, scoped)
    hit = _STATEMENTS.get(key)
    if hit is not None and hit[0] is visible:  # the entry holds the clause: its id stays its own
        return hit[1]
    if len(_STATEMENTS) > 1024:
        _STATEMENTS.clear()
    stmt = _build_statement(n, capped, ranked_limit, lateral, visible, sex, scoped)
    _STATEMENTS[key] = (visible, stmt)
    return stmt


def _build_statement(n: int, capped: bool, ranked_limit: str | None, lateral: bool, visible: Any, sex: bool,
                     scoped: bool) -> Any:
    ranked = _ranked_sql(n, capped=capped, ranked_limit=ranked_limit, lateral=lateral, scoped=scoped).columns(
        column("entity_id", String), column("shared", Integer), column("groups", Integer)
    ).subquery("ranked")
    conds: list[Any] = [Entity.schema == "Person", visible]
    if sex:
        conds.append(Entity.data["sex"].as_string() == bindparam("sex"))
    return (
        select(Entity.id, Entity.external_id, Entity.data, Unit.code, ranked.c.shared, ranked.c.groups)
        .join_from(ranked, Entity, ranked.c.entity_id == Entity.id)
        .join(Unit, Unit.id == Entity.owner_unit_id)
        .where(and_(*conds))
        # ranked.entity_id, not entities.id (equal): the order of the subquery, so that a
        # database that can stops at the first `top` visible persons
        .order_by(ranked.c.shared.desc(), ranked.c.entity_id)
        .limit(bindparam("top", type_=Integer))
    )


#: Postings of the actor's subtree within clearance (``ix_entity_keys_scope``: one range per key).
_IN_SCOPE = "unit_path >= :scope_lo AND unit_path < :scope_hi AND classification <= :clearance"


def _shared_sql(n: int) -> str:
    """Postings of records shared with a unit of the actor's subtree and owned outside it (those
    owned inside are in the subtree's postings), within clearance: the few shared records first,
    then their own keys (primary key ``entity_id, kind, value``; the CROSS JOIN keeps SQLite's
    loop in that order). An ``OR`` of pairs, not a VALUES list: with one, PostgreSQL may read every
    posting of each key in the country and hash-join them to the shared records."""
    pairs = " OR ".join(f"(ek.kind = :k{i} AND ek.value = :v{i})" for i in range(n))
    return ("SELECT ek.entity_id AS entity_id, ek.kind AS kind FROM (SELECT DISTINCT sh.entity_id AS entity_id "
            "FROM entity_shares AS sh WHERE sh.unit_id IN (SELECT su.id FROM units AS su "
            "WHERE su.path LIKE :scope_like ESCAPE '!')) AS shared CROSS JOIN entity_keys AS ek "
            f"WHERE ek.entity_id = shared.entity_id AND ({pairs}) "
            "AND (ek.unit_path < :scope_lo OR ek.unit_path >= :scope_hi) AND ek.classification <= :clearance")


def _ranked_sql(n: int, *, capped: bool, ranked_limit: str | None, lateral: bool, scoped: bool = False) -> TextClause:
    """Persons sharing the most of ``n`` keys (``:k0``/``:v0``...), weighted by kind, best first.

    One index range per key, read from the index alone. ``capped``: each key gives at most
    ``:cap`` postings (its lowest entity ids). ``ranked_limit``: only the best that many persons
    are returned, with ``groups``, the number of persons the postings held; None: every person.
    ``scoped``: only the postings of the actor's subtree within clearance, and of records shared
    with it (``:scope_lo``, ``:scope_hi``, ``:scope_like``, ``:clearance``).
    PostgreSQL (``lateral``): the keys are a VALUES list joined LATERAL to the index (one plan for
    any number of keys; a UNION ALL of capped look-ups costs more to plan than to run there).
    SQLite has no LATERAL: a UNION ALL (a row-value ``IN`` scans the whole index there, and an
    ``OR`` of pairs cannot cap each key)."""
    where = f" AND {_IN_SCOPE}" if scoped else ""
    if lateral:
        values = ", ".join(f"(:k{i}, :v{i})" for i in range(n))
        cap = " ORDER BY entity_id LIMIT :cap" if capped else ""
        hits = (f"(VALUES {values}) AS q(kind, value) CROSS JOIN LATERAL (SELECT entity_id, kind FROM entity_keys "
                f"WHERE kind = q.kind AND value = q.value{where}{cap}) AS hits")
        if scoped:
            hits = f"(SELECT hits.entity_id, hits.kind FROM {hits} UNION ALL {_shared_sql(n)}) AS hits"
    else:
        if capped:
            arms = [f"SELECT entity_id, kind FROM (SELECT entity_id, kind FROM entity_keys WHERE kind = :k{i} "
                    f"AND value = :v{i}{where} ORDER BY entity_id LIMIT :cap) AS p{i}" for i in range(n)]
        else:
            arms = [f"SELECT entity_id, kind FROM entity_keys WHERE kind = :k{i} AND value = :v{i}{where}"
                    for i in range(n)]
        if scoped:
            arms.append(_shared_sql(n))
        hits = f"({' UNION ALL '.join(arms)}) AS hits"
    tail = "ORDER BY shared DESC, hits.entity_id" + (f" LIMIT :{ranked_limit}" if ranked_limit else "")
    groups = "COUNT(*) OVER ()" if ranked_limit else "0"
    return text(
        f"SELECT hits.entity_id AS entity_id, SUM({_WEIGHT_SQL.format(col='hits.kind')}) AS shared, "
        f"{groups} AS groups FROM {hits} GROUP BY hits.entity_id {tail}"
    )


def _birth_ok(birth_date: Any, q: PersonQuery) -> bool:
    if q.birth_year is None and q.birth_year_to is None:
        return True
    if not birth_date:
        return True  # unknown birth date: keep, the score decides
    year = int(str(birth_date)[:4])
    low = q.birth_year if q.birth_year is not None else -1
    high = q.birth_year_to if q.birth_year_to is not None else (q.birth_year if q.birth_year is not None else 9999)
    return low <= year <= high
