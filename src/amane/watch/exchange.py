"""Exchange of watch intelligence: STIX 2.1 bundles and MISP events out, STIX bundles in (issue 7, part 5).

Pure functions, no database: the service layer selects the items, applies need-to-know and audit,
and stores what :func:`parse_stix_bundle` returns, keyed on the STIX ids for idempotency.

Libraries do the format work: ``stix2`` builds and validates every STIX object (SCO ids follow the
STIX 2.1 deterministic-id rule, patterns are checked by ``stix2-patterns``) and parses partner
patterns into an AST; ``pymisp`` builds the MISP event and checks every attribute type/category pair
against MISP's own ``describeTypes.json``. Written here by hand, because no library does it: the
mapping from Amane selector kinds to STIX/MISP types, the deterministic ids of SDOs, and the walk
over a pattern AST that accepts only plain ``=`` comparisons combined with OR.

TLP 2.0: STIX 2.1 (and ``stix2``) only predefine TLP 1.0 markings. The five TLP 2.0 marking
definitions below are the ones OASIS publishes in ``cti-stix-common-objects``,
``extension-definition-specifications/tlp-2.0/`` (extension definition
``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``; ids, names and the ``created``
timestamp 2022-10-01 are fixed by that extension's JSON schema and examples), for FIRST's TLP 2.0.

Selectors without a standard STIX Cyber-observable (phone numbers, payment cards, IBANs, crypto
wallets) use the custom SCO types OpenCTI defines and imports (``phone-number``, ``payment-card``
with ``card_number``, ``bank-account`` with ``iban``, ``cryptocurrency-wallet``, all with ``value``),
so a partner running OpenCTI reads them as observables; their indicators use the same paths in
patterns (``[phone-number:value = '...']``). In MISP they become ``phone-number``, ``cc-number``,
``iban`` and ``btc`` attributes; an Ethereum address, which has no MISP attribute type, becomes a
``coin-address`` object (``address-crypto`` + ``symbol`` ETH) as the MISP object template prescribes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.exceptions import STIXError
from stix2.pattern_visitor import create_pattern_object
from stix2.properties import StringProperty
from stix2.registry import class_for_type

__all__ = [
    "DEFAULT_NAMESPACE",
    "TLP_EXTENSION_ID",
    "TLP_LEVELS",
    "TLP_MARKING_IDS",
    "ExportItem",
    "ExportSelector",
    "ImportReport",
    "ImportedIndicator",
    "canonical_kind",
    "parse_stix_bundle",
    "tlp_marking",
    "to_misp_event",
    "to_stix_bundle",
]

TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")

#: OASIS TLP 2.0 marking extension (cti-stix-common-objects, tlp-2.0).
TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

#: Published ids of the TLP 2.0 marking definitions (same source).
TLP_MARKING_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP_CREATED = "2022-10-01T00:00:00.000Z"

#: TLP 1.0 markings predefined by STIX 2.1 (read on import; WHITE is CLEAR under TLP 2.0).
_TLP1_IDS: dict[str, str] = {
    stix2.TLP_WHITE.id: "clear",
    stix2.TLP_GREEN.id: "green",
    stix2.TLP_AMBER.id: "amber",
    stix2.TLP_RED.id: "red",
}

#: Namespace of the uuid5 ids of the SDOs Amane produces, unless the caller passes its own.
DEFAULT_NAMESPACE = uuid.UUID("8bcbd197-69c4-410e-8e74-75f9281b47a7")

#: MISP event distribution per TLP level: red stays in the organisation, amber/amber+strict in the
#: community, green goes to connected communities, clear to all.
_MISP_DISTRIBUTION = {"clear": 3, "green": 2, "amber": 1, "amber+strict": 1, "red": 0}


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class ExportSelector:
    """One selector seen in an item, kind as the watch names it (``email``, ``phone``, ``card``, ``btc``...)."""

    kind: str
    value: str
    first_seen: datetime
    last_seen: datetime
    count: int = 1
    label: str = ""


@dataclass(frozen=True)
class ExportItem:
    """One watch item selected for sharing, with its selectors."""

    id: str
    source: str
    url: str | None
    published: datetime | None
    title: str | None
    text: str
    categories: tuple[str, ...]
    language: str
    selectors: tuple[ExportSelector, ...]
    analyst_note: str = ""


@dataclass(frozen=True)
class ImportedIndicator:
    """A selector read from a partner bundle. ``(stix_id, kind, value)`` is unique within a bundle;
    ``stix_id`` alone is, except for an indicator whose pattern ORs several values."""

    stix_id: str
    kind: str
    value: str
    tlp: str | None
    labels: tuple[str, ...]
    description: str
    created: datetime | None
    source_name: str


@dataclass(frozen=True)
class ImportReport:
    """Result of :func:`parse_stix_bundle`: the selectors and every object left out, with why."""

    indicators: list[ImportedIndicator] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Kinds


@dataclass(frozen=True)
class _KindMap:
    stix_type: str
    stix_path: str  # property compared in patterns and holding the value in the SCO
    title: str
    misp_type: str | None  # None: a MISP object instead (Ethereum)
    misp_category: str
    to_ids: bool


# The watch's selector kinds (``amane.watch.selectors``; the forensics extractor names are aliases).
# Import adds one more, ``wallet``: a wallet SCO or pattern whose address is neither Bitcoin nor Ethereum.
_KINDS: dict[str, _KindMap] = {
    "email": _KindMap("email-addr", "value", "E-mail address", "email", "Social network", True),
    "url": _KindMap("url", "value", "URL", "url", "Network activity", True),
    "domain": _KindMap("domain-name", "value", "Domain", "domain", "Network activity", True),
    "onion": _KindMap("domain-name", "value", "Onion service", "domain", "Network activity", True),
    "ipv4": _KindMap("ipv4-addr", "value", "IPv4 address", "ip-dst", "Network activity", True),
    "ipv6": _KindMap("ipv6-addr", "value", "IPv6 address", "ip-dst", "Network activity", True),
    # Phone numbers are not something an IDS can match: MISP's own default is to_ids off.
    "phone": _KindMap("phone-number", "value", "Phone number", "phone-number", "Financial fraud", False),
    "card": _KindMap("payment-card", "card_number", "Payment card", "cc-number", "Financial fraud", True),
    "iban": _KindMap("bank-account", "iban", "IBAN", "iban", "Financial fraud", True),
    "btc": _KindMap("cryptocurrency-wallet", "value", "Bitcoin wallet", "btc", "Financial fraud", True),
    "eth": _KindMap("cryptocurrency-wallet", "value", "Ethereum wallet", None, "Financial fraud", True),
}

_KIND_ALIASES = {
    "ccn": "card",
    "bitcoin": "btc",
    "bech32": "btc",
    "ethereum": "eth",
    "e-mail": "email",
    "ip": "ipv4",
}


def canonical_kind(kind: str) -> str | None:
    """The watch's name for a selector kind (extractor names ``ccn``, ``bitcoin``, ``bech32``,
    ``ethereum`` accepted), or None for a kind that cannot be exported."""
    k = kind.strip().lower()
    k = _KIND_ALIASES.get(k, k)
    return k if k in _KINDS else None


# The custom SCOs, registered with stix2 once so that its parser validates them. If another
# package (pycti) registered the same types first, theirs are used: the wire format is the same.
def _custom_sco(type_name: str, props: list[str], id_prop: str) -> type:
    existing = class_for_type(type_name, "2.1", "observables")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    properties = [(p, StringProperty(required=True)) for p in props]

    @stix2.v21.CustomObservable(type_name, properties, [id_prop])
    class _Sco:
        pass

    return _Sco


_SCO_CLASSES: dict[str, type] = {
    "phone-number": _custom_sco("phone-number", ["value"], "value"),
    "payment-card": _custom_sco("payment-card", ["value", "card_number"], "card_number"),
    "bank-account": _custom_sco("bank-account", ["value", "iban"], "iban"),
    "cryptocurrency-wallet": _custom_sco("cryptocurrency-wallet", ["value"], "value"),
    "email-addr": stix2.v21.EmailAddress,
    "url": stix2.v21.URL,
    "domain-name": stix2.v21.DomainName,
    "ipv4-addr": stix2.v21.IPv4Address,
    "ipv6-addr": stix2.v21.IPv6Address,
}

# Category names of the watch classifier (as slugs) -> topic of MISP's dark-web taxonomy.
_DARK_WEB_TOPIC = {
    "drugs": "drugs-narcotics",
    "terrorism": "extremism",
    "violent-extremism": "extremism",
    "terrorism-violent-extremism": "extremism",
    "carding": "credit-card",
    "financial-data-theft": "credit-card",
    "carding-financial-data-theft": "credit-card",
    "hacking": "hacking",
    "malware": "hacking",
    "hacking-malware": "hacking",
    "weapons": "weapons",
}


_CASELESS = ("domain", "onion", "email")
#: BCP 47 language tag, as STIX ``lang`` wants; other language labels are left out of the note.
_LANG_TAG_RE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9+]+", "-", text.strip().lower()).strip("-")


def tlp_marking(tlp: str) -> stix2.v21.MarkingDefinition:
    """The OASIS TLP 2.0 marking definition for ``tlp`` (one of :data:`TLP_LEVELS`)."""
    level = _check_tlp(tlp)
    return stix2.v21.MarkingDefinition(
        id=TLP_MARKING_IDS[level],
        created=_TLP_CREATED,
        name=f"TLP:{level.upper()}",
        extensions={TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
    )


def _check_tlp(tlp: str) -> str:
    level = tlp.strip().lower().removeprefix("tlp:")
    if level == "white":
        level = "clear"
    if level not in TLP_LEVELS:
        raise ValueError(f"tlp: tlp.unknown: {tlp!r} is not one of {', '.join(TLP_LEVELS)}")
    return level


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


# --------------------------------------------------------------------------------------------
# Export


@dataclass
class _Merged:
    kind: str
    value: str
    first_seen: datetime
    last_seen: datetime
    count: int
    labels: set[str]
    notes: set[str]


def _key(sel: ExportSelector) -> tuple[str, str] | None:
    """(canonical kind, normalised value) of an exportable selector, None for the others."""
    kind = canonical_kind(sel.kind)
    value = sel.value.strip()
    if kind is None or not value:
        return None
    return kind, value.lower() if kind in _CASELESS else value


def _merged_selectors(items: Sequence[ExportItem]) -> dict[tuple[str, str], _Merged]:
    """Exportable selectors of all items, one per (kind, value), with periods, counts and labels merged."""
    merged: dict[tuple[str, str], _Merged] = {}
    for item in items:
        for sel in item.selectors:
            key = _key(sel)
            if key is None:
                continue
            kind, value = key
            m = merged.get(key)
            first, last = _utc(sel.first_seen), _utc(sel.last_seen)
            if m is None:
                merged[key] = _Merged(kind, value, first, last, sel.count, set(item.categories), set())
                m = merged[key]
            else:
                m.first_seen, m.last_seen = min(m.first_seen, first), max(m.last_seen, last)
                m.count += sel.count
                m.labels.update(item.categories)
            if sel.label:
                m.notes.add(sel.label)
    return merged


def _sco_for(sel: _Merged, marking: str) -> Any:
    km = _KINDS[sel.kind]
    cls = _SCO_CLASSES[km.stix_type]
    # OpenCTI's card and bank-account SCOs carry the number twice: in ``value`` and in the typed field.
    props: dict[str, Any] = {"object_marking_refs": [marking], "value": sel.value, km.stix_path: sel.value}
    return cls(**props)


def _describe(sel: _Merged) -> str:
    parts = [
        f"Seen {sel.count} time(s) between {sel.first_seen:%Y-%m-%dT%H:%M:%SZ} and {sel.last_seen:%Y-%m-%dT%H:%M:%SZ}."
    ]
    if sel.notes:
        parts.append("Context: " + "; ".join(sorted(sel.notes)) + ".")
    return " ".join(parts)


def to_stix_bundle(
    items: Sequence[ExportItem],
    *,
    tlp: str,
    identity_name: str,
    created: datetime | None = None,
    namespace: uuid.UUID | None = None,
    text_excerpt: int = 1000,
) -> dict[str, Any]:
    """A STIX 2.1 bundle (as a JSON-ready dict) of the items: one SCO, one indicator and one
    ``based-on`` relationship per distinct selector, one note per item, the producing identity and
    the TLP 2.0 marking, every object marked with it. Ids are uuid5 of ``namespace`` and content
    (SCO ids follow STIX's own deterministic rule), so the same selection exported again gives the
    same ids; with the same ``created`` it gives the same bundle."""
    level = _check_tlp(tlp)
    if not identity_name.strip():
        raise ValueError("identity_name: required: the producing unit must be named")
    ns = namespace or DEFAULT_NAMESPACE
    when = _utc(created or datetime.now(UTC))
    marking = tlp_marking(level)
    mref = marking.id

    def sdo_id(stix_type: str, key: str) -> str:
        return f"{stix_type}--{uuid.uuid5(ns, f'{stix_type}|{key}')}"

    identity = stix2.v21.Identity(
        id=sdo_id("identity", identity_name.strip()),
        name=identity_name.strip(),
        identity_class="organization",
        created=when,
        modified=when,
        object_marking_refs=[mref],
    )
    common = {"created": when, "modified": when, "created_by_ref": identity.id, "object_marking_refs": [mref]}

    merged = _merged_selectors(items)
    objects: list[Any] = [marking, identity]
    refs_by_key: dict[tuple[str, str], list[str]] = {}
    for key in sorted(merged):
        sel = merged[key]
        km = _KINDS[sel.kind]
        sco = _sco_for(sel, mref)
        indicator = stix2.v21.Indicator(
            id=sdo_id("indicator", f"{sel.kind}|{sel.value}"),
            name=f"{km.title}: {sel.value}",
            description=_describe(sel),
            indicator_types=["malicious-activity"],
            pattern=f"[{km.stix_type}:{km.stix_path} = '{_escape(sel.value)}']",
            pattern_type="stix",
            valid_from=sel.first_seen,
            labels=sorted(sel.labels) or None,
            **common,
        )
        rel = stix2.v21.Relationship(
            id=sdo_id("relationship", f"based-on|{indicator.id}|{sco.id}"),
            relationship_type="based-on",
            source_ref=indicator.id,
            target_ref=sco.id,
            **common,
        )
        objects += [sco, indicator, rel]
        refs_by_key[key] = [indicator.id, sco.id]

    for item in sorted(items, key=lambda i: i.id):
        refs: list[str] = []
        for own in item.selectors:
            own_key = _key(own)
            for ref in refs_by_key.get(own_key, []) if own_key else []:
                if ref not in refs:
                    refs.append(ref)
        objects.append(
            stix2.v21.Note(
                id=sdo_id("note", item.id),
                abstract=(item.title or f"{item.source} item {item.id}")[:300],
                content=_note_content(item, text_excerpt),
                authors=[identity_name.strip()],
                object_refs=refs or [identity.id],
                labels=sorted(set(item.categories)) or None,
                lang=item.language if _LANG_TAG_RE.fullmatch(item.language) else None,
                **common,
            )
        )

    ids = sorted(o.id for o in objects)
    bundle = stix2.v21.Bundle(
        id=f"bundle--{uuid.uuid5(ns, 'bundle|' + '|'.join(ids) + '|' + when.isoformat())}",
        objects=objects,
    )
    result: dict[str, Any] = json.loads(bundle.serialize())
    return result


def _note_content(item: ExportItem, text_excerpt: int) -> str:
    lines = []
    if item.analyst_note:
        lines.append(item.analyst_note.strip())
        lines.append("")
    lines.append("Categories: " + (", ".join(item.categories) if item.categories else "none"))
    lines.append(f"Source: {item.source}")
    if item.url:
        lines.append(f"URL: {item.url}")
    if item.published:
        lines.append(f"Published: {_utc(item.published):%Y-%m-%dT%H:%M:%SZ}")
    lines.append(f"Language: {item.language}")
    others = [f"{s.kind}:{s.value}" for s in item.selectors if _key(s) is None and s.value.strip()]
    if others:
        lines.append("Other selectors: " + ", ".join(others))
    text = item.text.strip()
    if text and text_excerpt > 0:
        excerpt = text[:text_excerpt] + ("…" if len(text) > text_excerpt else "")
        lines += ["", excerpt]
    return "\n".join(lines)


def to_misp_event(
    items: Sequence[ExportItem],
    *,
    tlp: str,
    info: str,
    created: datetime | None = None,
    namespace: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A MISP event (``{"Event": {...}}``) with one attribute per distinct selector (MISP type,
    category and ``to_ids`` from the table above), a ``link`` attribute per item URL, a
    ``coin-address`` object per Ethereum address, the ``tlp:`` tag on the event and category tags
    (``amane:category``, and MISP's ``dark-web:topic`` where one fits) on the attributes."""
    from pymisp import MISPEvent, MISPObject  # imported here: only MISP export needs it

    level = _check_tlp(tlp)
    if not info.strip():
        raise ValueError("info: required: a MISP event needs an info line")
    ns = namespace or DEFAULT_NAMESPACE
    when = _utc(created or datetime.now(UTC))

    def uid(key: str) -> str:
        return str(uuid.uuid5(ns, f"misp|{key}"))

    merged = _merged_selectors(items)
    event = MISPEvent()
    event.uuid = uid("event|" + "|".join(sorted(i.id for i in items)) + "|" + info)
    event.info = info.strip()
    event.date = when.date()
    event.published = False
    event.analysis = 2  # completed: an analyst selected these items
    event.threat_level_id = 4  # undefined: the watch does not grade threat
    event.distribution = _MISP_DISTRIBUTION[level]
    event.add_tag(f"tlp:{level}")

    for key in sorted(merged):
        sel = merged[key]
        km = _KINDS[sel.kind]
        tags = _category_tags(sel.labels)
        comment = _describe(sel)
        if km.misp_type is None:
            obj = MISPObject("coin-address", standalone=False)
            obj.uuid = uid(f"object|{sel.kind}|{sel.value}")
            obj.comment = comment
            obj.first_seen, obj.last_seen = sel.first_seen, sel.last_seen
            address = obj.add_attribute(
                "address-crypto", value=sel.value, to_ids=True, uuid=uid(f"{sel.kind}|{sel.value}")
            )
            for tag in tags:
                address.add_tag(tag)  # type: ignore[union-attr]
            obj.add_attribute("symbol", value="ETH", uuid=uid(f"symbol|{sel.value}"))
            event.add_object(obj)
            continue
        attr: Any = event.add_attribute(
            km.misp_type,
            sel.value,
            category=km.misp_category,
            to_ids=km.to_ids,
            comment=comment,
            uuid=uid(f"{sel.kind}|{sel.value}"),
            first_seen=sel.first_seen,
            last_seen=sel.last_seen,
        )
        for tag in tags:
            attr.add_tag(tag)

    for item in sorted(items, key=lambda i: i.id):
        if item.url:
            link: Any = event.add_attribute(
                "link",
                item.url,
                category="External analysis",
                to_ids=False,
                comment=(item.title or f"{item.source} item {item.id}")[:255],
                uuid=uid(f"link|{item.id}"),
            )
            for tag in _category_tags(set(item.categories)):
                link.add_tag(tag)
        if item.analyst_note:
            event.add_attribute(
                "comment",
                item.analyst_note,
                category="Other",
                to_ids=False,
                uuid=uid(f"note|{item.id}"),
            )
    result: dict[str, Any] = json.loads(event.to_json())
    return {"Event": result.get("Event", result)}


def _category_tags(categories: set[str]) -> list[str]:
    tags: set[str] = set()
    for cat in categories:
        slug = _slug(cat)
        if not slug:
            continue
        tags.add(f'amane:category="{slug}"')
        topic = _DARK_WEB_TOPIC.get(slug)
        if topic:
            tags.add(f'dark-web:topic="{topic}"')
    return sorted(tags)


# --------------------------------------------------------------------------------------------
# Import

_SCO_KIND = {
    "email-addr": "email",
    "url": "url",
    "domain-name": "domain",
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "phone-number": "phone",
    "payment-card": "card",
    "bank-account": "iban",
    "cryptocurrency-wallet": "wallet",
}
# (object type, property) accepted in pattern comparisons, and the property holding an SCO's value.
_PATH_FOR = {
    "email-addr": "value",
    "url": "value",
    "domain-name": "value",
    "ipv4-addr": "value",
    "ipv6-addr": "value",
    "phone-number": "value",
    "payment-card": "card_number",
    "bank-account": "iban",
    "cryptocurrency-wallet": "value",
}
_CONTEXT_TYPES = {"marking-definition", "identity", "extension-definition", "language-content"}
_READ_TYPES = {"marking-definition", "identity", "indicator", *_SCO_KIND}
_UNESCAPE_RE = re.compile(r"\\(.)")
_ETH_RE = re.compile(r"0x[0-9a-fA-F]{40}")
_BTC_RE = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|(?i:bc1[02-9ac-hj-np-z]{8,87})")


_PATTERN_NAMES = {
    "AndObservationExpression": "AND of observations",
    "AndBooleanExpression": "AND of comparisons",
    "FollowedByObservationExpression": "FOLLOWEDBY",
    "QualifiedObservationExpression": "qualifier (WITHIN, REPEATS, START/STOP)",
}


class _Unsupported(Exception):
    """A pattern that is not a plain OR of equality comparisons."""


def _kind_of(stix_type: str, value: str) -> str:
    kind = _SCO_KIND[stix_type]
    if kind == "domain" and value.lower().endswith(".onion"):
        return "onion"
    if kind == "wallet":
        if _ETH_RE.fullmatch(value):
            return "eth"
        if _BTC_RE.fullmatch(value):
            return "btc"
    return kind


def _comparisons(node: Any) -> Iterator[tuple[str, str, str]]:
    """(object type, property, value) of each comparison of an OR-only pattern."""
    name = type(node).__name__
    if name in ("OrObservationExpression", "OrBooleanExpression"):
        for op in node.operands:
            yield from _comparisons(op)
    elif name == "ParentheticalExpression":
        yield from _comparisons(node.expression)
    elif name == "ObservationExpression":
        yield from _comparisons(node.operand)
    elif name == "EqualityComparisonExpression":
        if node.negated or node.operator != "=":
            raise _Unsupported("negated comparison")
        path = node.lhs.property_path
        if len(path) != 1 or type(path[0]).__name__ != "BasicObjectPathComponent":
            raise _Unsupported("nested property path")
        if type(node.rhs).__name__ != "StringConstant":
            raise _Unsupported(f"non-string constant {type(node.rhs).__name__}")
        # stix2 keeps a literal's escapes; STIX patterning defines only \\' and \\\\.
        yield node.lhs.object_type_name, path[0].property_name, _UNESCAPE_RE.sub(r"\1", str(node.rhs.value))
    else:
        raise _Unsupported(_PATTERN_NAMES.get(name, name))


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def parse_stix_bundle(data: bytes | str, *, max_objects: int = 50_000, max_bytes: int = 64 * 2**20) -> ImportReport:
    """Selectors from a partner's STIX 2.1 (or 2.0) bundle: from the SCOs of the supported types and
    from indicators whose pattern is a plain ``=`` comparison on such a type, or an OR of them.

    Whole-bundle problems (over ``max_bytes`` or ``max_objects``, not UTF-8, not JSON, not a bundle)
    raise ``ValueError("bundle: <rule>: <detail>")`` and yield nothing; a bad or unsupported
    object is left out and listed in ``skipped`` as ``(id or #index, reason)``. An SCO whose value an
    indicator of the same bundle already carries is left out as ``covered_by``, so a bundle from
    :func:`to_stix_bundle` gives each selector once. Nothing is stored: the caller keys records on
    ``stix_id`` (plus kind and value for OR patterns), so importing the same bundle twice is a no-op.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ValueError(f"bundle: size.too_large: {size} bytes, at most {max_bytes} accepted")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"bundle: encoding.invalid: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ValueError(f"bundle: json.malformed: {exc.msg.removesuffix(' at')} at {where}") from None
    except RecursionError:
        raise ValueError("bundle: json.malformed: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("type") != "bundle":
        raise ValueError("bundle: type.invalid: the top-level object must be a STIX bundle (type 'bundle')")
    objects = doc.get("objects", [])
    if not isinstance(objects, list):
        raise ValueError("bundle: objects.invalid: 'objects' must be a list")
    if len(objects) > max_objects:
        raise ValueError(f"bundle: objects.too_many: {len(objects)} objects, at most {max_objects} accepted")
    bundle_version = "2.0" if doc.get("spec_version") == "2.0" else None

    report = ImportReport()
    valid: list[tuple[str, dict[str, Any]]] = []
    tlp_of: dict[str, str] = dict(_TLP1_IDS)
    tlp_of.update({v: k for k, v in TLP_MARKING_IDS.items()})
    names: dict[str, str] = {}
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str):
            report.skipped.append((f"#{index}", "object.invalid: not a STIX object with 'type' and 'id'"))
            continue
        version = bundle_version or ("2.1" if "spec_version" in obj else "2.0")
        if obj["type"] not in _READ_TYPES:
            valid.append((version, obj))  # left out below with its reason; validating it would only cost time
            continue
        try:
            stix2.parse(obj, allow_custom=True, version=version)
        except (STIXError, ValueError, TypeError, KeyError) as exc:
            report.skipped.append((obj["id"], f"object.invalid: {_first_line(exc)}"))
            continue
        valid.append((version, obj))
        if obj["type"] == "marking-definition":
            level = _marking_level(obj)
            if level:
                tlp_of[obj["id"]] = level
        elif obj["type"] == "identity" and isinstance(obj.get("name"), str):
            names[obj["id"]] = obj["name"]

    scos: list[dict[str, Any]] = []
    covered: dict[tuple[str, str], str] = {}
    for version, obj in valid:
        otype = obj["type"]
        if otype in _CONTEXT_TYPES:
            continue
        if otype in _SCO_KIND:
            scos.append(obj)
            continue
        if otype != "indicator":
            known = class_for_type(otype, version) is not None
            reason = "type.not_a_selector" if known else "type.unknown"
            report.skipped.append((obj["id"], f"{reason}: {otype}"))
            continue
        if obj.get("revoked"):
            report.skipped.append((obj["id"], "indicator.revoked"))
            continue
        if obj.get("pattern_type", "stix") != "stix":
            report.skipped.append((obj["id"], f"pattern.unsupported: pattern_type {obj.get('pattern_type')}"))
            continue
        try:
            comps = list(_comparisons(create_pattern_object(obj["pattern"], version=version)))
        except _Unsupported as exc:
            report.skipped.append((obj["id"], f"pattern.unsupported: {exc}"))
            continue
        except Exception as exc:  # noqa: BLE001 - stix2's pattern parser raises assorted errors
            report.skipped.append((obj["id"], f"pattern.invalid: {_first_line(exc)}"))
            continue
        seen: set[tuple[str, str]] = set()
        for stix_type, prop, value in comps:
            if _PATH_FOR.get(stix_type) != prop or not value.strip():
                continue
            record = _record(obj, _kind_of(stix_type, value.strip()), value.strip(), tlp_of, names)
            if (record.kind, record.value) in seen:
                continue  # the same value twice in one pattern
            seen.add((record.kind, record.value))
            covered.setdefault((record.kind, record.value), obj["id"])
            report.indicators.append(record)
        if not seen:
            types = ", ".join(sorted({f"{t}:{p}" for t, p, _ in comps}))
            report.skipped.append((obj["id"], f"pattern.unsupported: no selector in {types}"))

    for obj in scos:
        prop = _PATH_FOR[obj["type"]]
        raw = obj.get(prop) or obj.get("value")
        if not isinstance(raw, str) or not raw.strip():
            report.skipped.append((obj["id"], f"object.invalid: no {prop}"))
            continue
        record = _record(obj, _kind_of(obj["type"], raw.strip()), raw.strip(), tlp_of, names)
        if (record.kind, record.value) in covered:
            report.skipped.append((obj["id"], f"covered_by: {covered[(record.kind, record.value)]}"))
            continue
        covered[(record.kind, record.value)] = obj["id"]
        report.indicators.append(record)
    return report


def _record(
    obj: dict[str, Any], kind: str, value: str, tlp_of: dict[str, str], names: dict[str, str]
) -> ImportedIndicator:
    if kind in _CASELESS:
        value = value.lower()
    tlp = next((tlp_of[m] for m in obj.get("object_marking_refs", []) if m in tlp_of), None)
    labels = tuple(str(x) for x in obj.get("labels", []) if isinstance(x, str))
    description = obj.get("description") or obj.get("name") or ""
    return ImportedIndicator(
        stix_id=obj["id"],
        kind=kind,
        value=value,
        tlp=tlp,
        labels=labels,
        description=str(description),
        created=_timestamp(obj.get("created")),
        source_name=names.get(str(obj.get("created_by_ref", "")), ""),
    )


def _marking_level(obj: dict[str, Any]) -> str | None:
    ext = obj.get("extensions", {}).get(TLP_EXTENSION_ID) if isinstance(obj.get("extensions"), dict) else None
    if isinstance(ext, dict) and isinstance(ext.get("tlp_2_0"), str):
        level = ext["tlp_2_0"].lower()
        return level if level in TLP_LEVELS else None
    # TLP 1.0 markings need no reading: stix2 accepts them only under their predefined ids.
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
