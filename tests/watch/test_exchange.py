"""STIX 2.1 / MISP exchange of watch items (amane.watch.exchange)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stix2
from pymisp import MISPEvent

from amane.watch.exchange import (
    TLP_EXTENSION_ID,
    TLP_LEVELS,
    TLP_MARKING_IDS,
    ExportItem,
    ExportSelector,
    canonical_kind,
    parse_stix_bundle,
    to_misp_event,
    to_stix_bundle,
)

SAMPLES = Path(__file__).parent / "samples" / "stix"
T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 3, 22, 15, tzinfo=UTC)
CREATED = datetime(2026, 2, 4, 10, 0, tzinfo=UTC)

# Fictional values in documentation ranges (RFC 2606/5737/3849) or public test numbers.
SELECTORS = {
    "email": "Vendeur.Passage@Example.org",
    "phone": "+212661000111",
    "url": "https://shop.example.com/cards?id=7&q='x'",
    "domain": "shop.example.com",
    "onion": "examplemarketxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion",
    "ipv4": "198.51.100.23",
    "ipv6": "2001:db8::42",
    "card": "4111111111111111",
    "iban": "MA64011519000001205000534921",
    "btc": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    "bech32": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # extractor name, exported as btc
    "eth": "0x52908400098527886E0F7030069857D2E4169EE7",
}


def _sel(kind: str, value: str, **kw: object) -> ExportSelector:
    return ExportSelector(kind=kind, value=value, first_seen=T0, last_seen=T1, **kw)  # type: ignore[arg-type]


def _items() -> list[ExportItem]:
    first = ExportItem(
        id="watch-item-1",
        source="telegram:channel-x",
        url="https://t.me/s/channel_x/812",
        published=T0,
        title="بيع بطاقات / vente de cartes",
        text="كارطات مفعلة 4111 1111 1111 1111 ... contact Vendeur.Passage@Example.org",
        categories=("carding", "drugs"),
        language="ar",
        selectors=tuple(_sel(k, v, count=2, label="seller contact") for k, v in SELECTORS.items()),
        analyst_note="Seller active since January; same wallet as case 2026/114.",
    )
    second = ExportItem(
        id="watch-item-2",
        source="rss:forum",
        url=None,
        published=None,
        title=None,
        text="traversée garantie, appeler le numéro",
        categories=("migrant-smuggling",),
        language="fr",
        selectors=(_sel("phone", "+212661000111"), _sel("telegram", "@passeur_x")),
    )
    third = ExportItem(
        id="watch-item-3",
        source="folder",
        url=None,
        published=None,
        title="no selectors",
        text="text only",
        categories=(),
        language="mixed",  # not a BCP 47 tag: left out of the note's ``lang``
        selectors=(),
    )
    return [first, second, third]


def _expected_pairs() -> set[tuple[str, str]]:
    pairs = set()
    for kind, value in SELECTORS.items():
        k = canonical_kind(kind)
        assert k is not None
        pairs.add((k, value.lower() if k in ("email", "domain", "onion") else value))
    return pairs


# --------------------------------------------------------------------------------------------
# STIX export


def test_bundle_objects_all_parse_with_stix2_and_round_trip_gives_back_selectors() -> None:
    bundle = to_stix_bundle(_items(), tlp="amber", identity_name="DGSN cyber unit", created=CREATED)
    # The whole bundle and every object validate, custom SCOs included (they are registered).
    stix2.parse(bundle, allow_custom=False)
    for obj in bundle["objects"]:
        stix2.parse(obj, allow_custom=False)
    report = parse_stix_bundle(json.dumps(bundle))
    assert {(i.kind, i.value) for i in report.indicators} == _expected_pairs()
    # Each selector once: the SCO behind each indicator is reported as covered.
    assert len(report.indicators) == len(SELECTORS)
    assert all(i.tlp == "amber" and i.source_name == "DGSN cyber unit" for i in report.indicators)
    covered = [s for s in report.skipped if s[1].startswith("covered_by: indicator--")]
    assert len(covered) == len(SELECTORS)
    phone = next(i for i in report.indicators if i.kind == "phone")
    assert set(phone.labels) == {"carding", "drugs", "migrant-smuggling"}  # merged over both items
    assert phone.created == CREATED


def test_bundle_shape_markings_and_types() -> None:
    bundle = to_stix_bundle(_items(), tlp="amber+strict", identity_name="DGSN cyber unit", created=CREATED)
    objs = bundle["objects"]
    by_type: dict[str, list[dict[str, object]]] = {}
    for o in objs:
        by_type.setdefault(str(o["type"]), []).append(o)
    assert len(by_type["indicator"]) == len(SELECTORS)
    assert len(by_type["relationship"]) == len(SELECTORS)
    assert len(by_type["note"]) == 3
    assert len(by_type["identity"]) == 1
    assert {o["value"] for o in by_type["phone-number"]} == {"+212661000111"}
    assert [o["card_number"] for o in by_type["payment-card"]] == ["4111111111111111"]
    assert [o["iban"] for o in by_type["bank-account"]] == ["MA64011519000001205000534921"]
    assert len(by_type["cryptocurrency-wallet"]) == 3
    assert len(by_type["domain-name"]) == 2  # domain and onion
    (marking,) = by_type["marking-definition"]
    assert marking == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER+STRICT",
        "extensions": {TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}},
    }
    for o in objs:
        if o["type"] != "marking-definition":
            assert o["object_marking_refs"] == [marking["id"]], o["id"]
    patterns = {o["pattern"] for o in by_type["indicator"]}
    assert "[payment-card:card_number = '4111111111111111']" in patterns
    assert "[url:value = 'https://shop.example.com/cards?id=7&q=\\'x\\'']" in patterns
    notes = {o["id"]: o for o in by_type["note"]}
    first = next(n for n in notes.values() if "Seller active" in str(n["content"]))
    assert first["labels"] == ["carding", "drugs"]
    assert first["lang"] == "ar"
    assert "telegram:@passeur_x" not in str(first["content"])
    second = next(n for n in notes.values() if "traversée" in str(n["content"]))
    assert "Other selectors: telegram:@passeur_x" in str(second["content"])
    assert second["object_refs"] == [
        next(o["id"] for o in by_type["indicator"] if o["name"] == "Phone number: +212661000111"),
        by_type["phone-number"][0]["id"],
    ]
    empty = next(n for n in notes.values() if n["abstract"] == "no selectors")
    assert empty["object_refs"] == [by_type["identity"][0]["id"]]
    assert "lang" not in empty


@pytest.mark.parametrize(
    ("level", "marking_id"),
    [
        ("clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
        ("green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
        ("amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
        ("amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
        ("red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
    ],
)
def test_tlp_marking_ids_are_the_published_oasis_ones(level: str, marking_id: str) -> None:
    assert TLP_MARKING_IDS[level] == marking_id
    bundle = to_stix_bundle(_items()[:1], tlp=level.upper(), identity_name="unit", created=CREATED)
    markings = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
    assert [m["id"] for m in markings] == [marking_id]
    assert markings[0]["name"] == f"TLP:{level.upper()}"
    assert {i.tlp for i in parse_stix_bundle(json.dumps(bundle)).indicators} == {level}


def test_ids_are_deterministic_and_namespaced() -> None:
    a = to_stix_bundle(_items(), tlp="green", identity_name="unit", created=CREATED)
    b = to_stix_bundle(list(reversed(_items())), tlp="green", identity_name="unit", created=CREATED)
    assert a == b
    later = to_stix_bundle(_items(), tlp="green", identity_name="unit", created=datetime(2026, 5, 1, tzinfo=UTC))
    assert sorted(o["id"] for o in a["objects"]) == sorted(o["id"] for o in later["objects"])
    other_ns = to_stix_bundle(_items(), tlp="green", identity_name="unit", created=CREATED, namespace=uuid.uuid4())
    ids_a = {o["id"] for o in a["objects"] if o["type"] in ("indicator", "note", "identity")}
    ids_o = {o["id"] for o in other_ns["objects"] if o["type"] in ("indicator", "note", "identity")}
    assert ids_a.isdisjoint(ids_o)
    # SCO ids follow STIX's own rule, whatever the namespace.
    scos = {o["id"] for o in a["objects"] if o["type"] == "email-addr"}
    assert scos == {stix2.v21.EmailAddress(value="vendeur.passage@example.org").id}


def test_export_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="tlp: tlp.unknown"):
        to_stix_bundle(_items(), tlp="orange", identity_name="unit")
    with pytest.raises(ValueError, match="identity_name: required"):
        to_stix_bundle(_items(), tlp="red", identity_name="  ")
    with pytest.raises(ValueError, match="info: required"):
        to_misp_event(_items(), tlp="red", info="")
    assert TLP_LEVELS == ("clear", "green", "amber", "amber+strict", "red")


# --------------------------------------------------------------------------------------------
# MISP export


def test_misp_event_structure_types_and_tags() -> None:
    doc = to_misp_event(_items(), tlp="amber", info="Carding channel, February", created=CREATED)
    event = doc["Event"]
    assert event["info"] == "Carding channel, February"
    assert event["date"] == "2026-02-04"
    assert event["Tag"] == [{"name": "tlp:amber"}]
    assert event["distribution"] == "1"
    by_value = {a["value"]: a for a in event["Attribute"]}
    expected = {
        "vendeur.passage@example.org": ("email", "Social network", True),
        "+212661000111": ("phone-number", "Financial fraud", False),
        "https://shop.example.com/cards?id=7&q='x'": ("url", "Network activity", True),
        "shop.example.com": ("domain", "Network activity", True),
        SELECTORS["onion"]: ("domain", "Network activity", True),
        "198.51.100.23": ("ip-dst", "Network activity", True),
        "2001:db8::42": ("ip-dst", "Network activity", True),
        "4111111111111111": ("cc-number", "Financial fraud", True),
        "MA64011519000001205000534921": ("iban", "Financial fraud", True),
        SELECTORS["btc"]: ("btc", "Financial fraud", True),
        SELECTORS["bech32"]: ("btc", "Financial fraud", True),
        "https://t.me/s/channel_x/812": ("link", "External analysis", False),
        "Seller active since January; same wallet as case 2026/114.": ("comment", "Other", False),
    }
    assert {v: (a["type"], a["category"], a["to_ids"]) for v, a in by_value.items()} == expected
    card_tags = {t["name"] for t in by_value["4111111111111111"]["Tag"]}
    assert card_tags == {
        'amane:category="carding"',
        'amane:category="drugs"',
        'dark-web:topic="credit-card"',
        'dark-web:topic="drugs-narcotics"',
    }
    phone_tags = {t["name"] for t in by_value["+212661000111"]["Tag"]}
    assert 'amane:category="migrant-smuggling"' in phone_tags
    (coin,) = event["Object"]
    assert coin["name"] == "coin-address"
    rel = {a["object_relation"]: a["value"] for a in coin["Attribute"]}
    assert rel == {"address-crypto": SELECTORS["eth"], "symbol": "ETH"}
    # PyMISP loads it back, checking every type and type/category pair against MISP's describeTypes.
    loaded = MISPEvent()
    loaded.load(json.dumps(doc))
    assert len(loaded.attributes) == len(expected)
    assert [t.name for t in loaded.tags] == ["tlp:amber"]


def test_misp_event_is_deterministic() -> None:
    a = to_misp_event(_items(), tlp="red", info="x", created=CREATED)
    b = to_misp_event(list(reversed(_items())), tlp="red", info="x", created=CREATED)
    assert a == b
    assert a["Event"]["distribution"] == "0"


# --------------------------------------------------------------------------------------------
# STIX import


def test_partner_bundle_selectors_markings_and_reasons() -> None:
    report = parse_stix_bundle((SAMPLES / "partner-valid.json").read_bytes())
    got = {(i.kind, i.value, i.tlp, i.stix_id.split("--")[0]) for i in report.indicators}
    assert got == {
        ("domain", "market-example.onion.example.net", "green", "indicator"),
        ("email", "contact.passage@example.org", "green", "indicator"),
        ("url", "https://passage.example.com/ar/offers", "green", "indicator"),
        ("ipv4", "198.51.100.23", "green", "indicator"),
        ("ipv4", "203.0.113.7", "green", "indicator"),
        ("ipv6", "2001:db8::42", "amber", "indicator"),  # TLP 1.0 amber marking
        ("phone", "+212700000222", "amber", "indicator"),
        ("phone", "+212661000111", "green", "phone-number"),
        ("btc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "green", "cryptocurrency-wallet"),
    }
    domain = next(i for i in report.indicators if i.kind == "domain")
    assert domain.labels == ("drugs",)
    assert domain.description == "Mirror of a drug market seen on a forum."
    assert domain.source_name == "Partner CERT (fictional)"
    assert domain.created == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    reasons = dict(report.skipped)
    assert reasons["indicator--3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f"] == "pattern.unsupported: AND of observations"
    assert reasons["indicator--4d5e6f7a-8b9c-4d0e-9f2a-3b4c5d6e7f8a"] == "indicator.revoked"
    assert reasons["indicator--5e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8a9b"] == "pattern.unsupported: pattern_type yara"
    assert reasons["indicator--6f7a8b9c-0d1e-4f2a-9b4c-5d6e7f8a9b0c"].startswith("pattern.unsupported")
    assert reasons["malware--9c0d1e2f-3a4b-4c5d-8e7f-8a9b0c1d2e3f"] == "type.not_a_selector: malware"
    assert reasons["email-addr--ce0aeb0a-c71a-5d58-b0b4-5b8ae64665a2"] == (
        "covered_by: indicator--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    )


def test_import_twice_gives_the_same_keys() -> None:
    data = (SAMPLES / "partner-valid.json").read_text(encoding="utf-8")
    first, second = parse_stix_bundle(data), parse_stix_bundle(data.encode())
    assert first == second
    keys = [(i.stix_id, i.kind, i.value) for i in first.indicators]
    assert len(keys) == len(set(keys))  # the idempotency key is unique within the bundle


def test_unknown_and_broken_objects_are_skipped_with_a_reason() -> None:
    report = parse_stix_bundle((SAMPLES / "partner-unknown-types.json").read_text(encoding="utf-8"))
    assert [(i.kind, i.value, i.tlp) for i in report.indicators] == [("url", "https://shop.example.com/cards", None)]
    reasons = dict(report.skipped)
    assert reasons["x-acme-ticket--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"] == "type.unknown: x-acme-ticket"
    assert reasons["attack-pattern--1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"] == "type.not_a_selector: attack-pattern"
    assert reasons["indicator--3d4e5f6a-7b8c-4d9e-9f0a-2b3c4d5e6f7a"].startswith("object.invalid: Invalid value")
    assert "pattern" in reasons["indicator--4e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a8b"]
    assert reasons["#5"].startswith("object.invalid") and reasons["#6"].startswith("object.invalid")
    assert len(report.skipped) == 6


def test_stix20_bundle_is_read() -> None:
    report = parse_stix_bundle((SAMPLES / "partner-stix20.json").read_bytes())
    (only,) = report.indicators
    assert (only.kind, only.value, only.tlp, only.source_name) == (
        "domain",
        "weapons-example.example.net",
        "amber",
        "Older partner (fictional)",
    )
    assert report.skipped == []


def test_or_patterns_with_escapes_and_parentheses() -> None:
    pattern = (
        "([email-addr:value = 'it\\'s@example.org'] OR [url:value = 'https://a.example.com/x\\\\y']) "
        "OR [domain-name:value = 'Dup.Example.com' OR (domain-name:value = 'dup.example.com')]"
    )
    bundle = {
        "type": "bundle",
        "id": "bundle--5a7f0c62-2f7e-4d5c-9b1e-3c2d1e0f9a8b",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c",
                "created": "2026-01-01T00:00:00Z",
                "modified": "2026-01-01T00:00:00Z",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
        ],
    }
    report = parse_stix_bundle(json.dumps(bundle))
    assert [(i.kind, i.value) for i in report.indicators] == [
        ("email", "it's@example.org"),
        ("url", "https://a.example.com/x\\y"),
        ("domain", "dup.example.com"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((SAMPLES / "malformed.json").read_bytes(), r"^bundle: json\.malformed: .* at line \d+ column \d+$"),
        (b"\xff\xfe{not utf8", r"^bundle: encoding\.invalid"),
        ("[]", r"^bundle: type\.invalid"),
        ('{"type": "indicator", "id": "indicator--x"}', r"^bundle: type\.invalid"),
        ('{"type": "bundle", "id": "bundle--x", "objects": {}}', r"^bundle: objects\.invalid"),
        ("[" * 100_000, r"^bundle: json\.malformed"),
    ],
)
def test_bundle_level_errors(data: bytes | str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_stix_bundle(data)


def test_huge_bundles_are_bounded() -> None:
    objects = [
        {
            "type": "domain-name",
            "spec_version": "2.1",
            "id": f"domain-name--{uuid.uuid4()}",
            "value": f"h{i}.example.org",
        }
        for i in range(30)
    ]
    data = json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    with pytest.raises(ValueError, match=r"bundle: objects\.too_many: 30 objects, at most 20"):
        parse_stix_bundle(data, max_objects=20)
    with pytest.raises(ValueError, match=r"bundle: size\.too_large: \d+ bytes, at most 1000"):
        parse_stix_bundle(data.encode(), max_bytes=1000)
    assert len(parse_stix_bundle(data, max_objects=30).indicators) == 30


def test_canonical_kind_aliases() -> None:
    assert [canonical_kind(k) for k in ("ccn", "Bitcoin", "bech32", "ethereum", "e-mail", "card", "telegram")] == [
        "card",
        "btc",
        "btc",
        "eth",
        "email",
        "card",
        None,
    ]


def test_tlp_read_from_a_partner_minted_tlp2_marking_and_none_for_other_markings() -> None:
    own_red = "marking-definition--2c3d4e5f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
    statement = "marking-definition--3d4e5f6a-2b3c-4d4e-9f5a-6b7c8d9e0f1a"
    bundle = {
        "type": "bundle",
        "id": "bundle--6b8a1d73-3a8f-4e6d-8c2f-4d3e2f1a0b9c",
        "objects": [
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": own_red,
                "created": "2024-01-01T00:00:00Z",
                "name": "TLP:RED",
                "extensions": {TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "red"}},
            },
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": statement,
                "created": "2024-01-01T00:00:00Z",
                "definition_type": "statement",
                "definition": {"statement": "Copyright partner"},
            },
            {
                "type": "domain-name",
                "spec_version": "2.1",
                "id": "domain-name--7a2b8e4c-1d3f-5a6b-9c0d-2e3f4a5b6c7d",
                "value": "red.example.com",
                "object_marking_refs": [statement, own_red],
            },
            {
                "type": "domain-name",
                "spec_version": "2.1",
                "id": "domain-name--8b3c9f5d-2e4a-5b7c-8d1e-3f4a5b6c7d8e",
                "value": "plain.example.com",
                "object_marking_refs": [statement],
            },
        ],
    }
    report = parse_stix_bundle(json.dumps(bundle))
    assert {i.value: i.tlp for i in report.indicators} == {"red.example.com": "red", "plain.example.com": None}
    assert report.skipped == []


def test_wallet_kinds_are_told_apart_by_form() -> None:
    values = {
        "0x52908400098527886E0F7030069857D2E4169EE7": "eth",
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy": "btc",
        "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ": "btc",
        "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge": "wallet",
    }
    objects = [
        {
            "type": "cryptocurrency-wallet",
            "spec_version": "2.1",
            "id": f"cryptocurrency-wallet--{uuid.uuid5(uuid.NAMESPACE_URL, v)}",
            "value": v,
        }
        for v in values
    ]
    data = json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    assert {i.value: i.kind for i in parse_stix_bundle(data).indicators} == values
