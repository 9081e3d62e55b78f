"""Schema loading, validation, keys, references, and the generated reference docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from amane.model import docs
from amane.model.errors import FieldError, SchemaError, ValidationFailed
from amane.model.schema import LANGUAGES, EntitySchema, Registry, load_registry, load_vocabulary

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "src" / "amane" / "schema"
ARABIC = re.compile(r"[\u0600-\u06ff]")

# The property names other parts of Amane code against.
CONTRACT: dict[str, set[str]] = {
    "Person": {
        "given_name", "family_name", "given_name_ar", "family_name_ar", "father_name", "mother_name",
        "birth_date", "birth_place", "sex", "nationality", "national_id", "phone", "aliases", "address",
        "notes",
    },
    "Vehicle": {"plate", "vin", "make", "model", "colour", "year", "notes"},
    "Phone": {"number", "imei", "operator", "notes"},
    "Email": {"address"},
    "IdentityDocument": {"doc_type", "number", "country", "issued_on", "expires_on", "holder_name"},
    "Location": {"name", "address", "commune", "region", "coordinates"},
    "Organisation": {"name", "name_ar", "org_type", "registration_number", "country", "notes"},
    "Weapon": {"weapon_type", "make", "model", "serial_number", "calibre", "notes"},
    "BankAccount": {"iban", "bank", "holder_name", "country"},
    "CryptoWallet": {"address", "currency"},
    "Incident": {
        "title", "offence_category", "occurred_from", "occurred_to", "region", "commune", "address",
        "coordinates", "narrative",
    },
    "Involvement": {"person", "incident", "role"},
    "Ownership": {"owner", "asset"},
    "Association": {"person", "nature"},
    "Family": {"person", "relative", "relationship"},
    "Membership": {"member", "organisation", "role"},
    "Call": {"caller", "callee", "started_at", "duration_s"},
    "Transfer": {"payer", "beneficiary", "amount", "currency", "date"},
}  # fmt: skip
EDGES = {
    "Involvement": ("person", "incident"),
    "Ownership": ("owner", "asset"),
    "Family": ("person", "relative"),
    "Membership": ("member", "organisation"),
    "Call": ("caller", "callee"),
    "Transfer": ("payer", "beneficiary"),
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def errors_of(schema: EntitySchema, data: Any, **kwargs: Any) -> dict[str, str]:
    """field -> rule of every error raised by validate()."""
    with pytest.raises(ValidationFailed) as info:
        schema.validate(data, **kwargs)
    assert all(isinstance(e, FieldError) and e.message for e in info.value.errors)
    return {e.field: e.rule for e in info.value.errors}


# --------------------------------------------------------------------------- loading


def test_every_schema_file_loads_and_is_named_after_its_file(registry: Registry) -> None:
    files = sorted(p.stem for p in SCHEMA_DIR.glob("*.yaml"))
    assert registry.names() == files
    assert set(CONTRACT) <= set(files)
    assert load_registry() is registry, "the packaged registry is cached"
    assert len(load_registry(SCHEMA_DIR).names()) == len(files)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_properties_exist(registry: Registry, name: str) -> None:
    schema = registry.get(name)
    missing = CONTRACT[name] - set(schema.properties)
    assert not missing, f"{name} lacks {missing}"


def test_contract_property_types(registry: Registry) -> None:
    person = registry.get("Person").properties
    assert {n: person[n].type.name for n in ("birth_date", "nationality", "national_id", "phone", "sex")} == {
        "birth_date": "date",
        "nationality": "country",
        "national_id": "cin",
        "phone": "phone",
        "sex": "enum",
    }
    assert person["birth_date"].past_only and person["aliases"].multiple
    assert set(person["sex"].values or {}) == {"M", "F"}
    incident = registry.get("Incident").properties
    assert incident["offence_category"].required and incident["offence_category"].values_from == "offences"
    assert incident["occurred_from"].required and incident["occurred_from"].past_only
    assert incident["occurred_from"].type.name == "datetime"
    assert set(registry.get("IdentityDocument").properties["doc_type"].values or {}) == {
        "cnie", "passport", "driving_licence", "residence_card", "other",
    }  # fmt: skip
    assert set(registry.get("Organisation").properties["org_type"].values or {}) == {
        "company", "association", "criminal_group", "other",
    }  # fmt: skip
    assert set(registry.get("CryptoWallet").properties["currency"].values or {}) == {
        "BTC",
        "ETH",
        "USDT",
        "other",
    }
    assert set(registry.get("Involvement").properties["role"].values or {}) == {
        "suspect", "victim", "witness", "complainant",
    }  # fmt: skip
    assert set(registry.get("Family").properties["relationship"].values or {}) == {
        "father", "mother", "parent", "child", "sibling", "spouse", "cousin", "other",
    }  # fmt: skip
    assert registry.get("Vehicle").properties["plate"].type.name == "plate"
    assert registry.get("BankAccount").properties["iban"].type.name == "iban"
    assert registry.get("Call").properties["duration_s"].type.name == "integer"


def _all_labels(registry: Registry) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for schema in registry:
        out += [(schema.name, schema.label), (f"{schema.name} plural", schema.plural)]
        if schema.edge is not None:
            out.append((f"{schema.name} edge", schema.edge.label))
        for prop in schema.properties.values():
            out.append((f"{schema.name}.{prop.name}", prop.label))
            for code, labels in (prop.values or {}).items():
                out.append((f"{schema.name}.{prop.name}={code}", labels))
    return out


def test_every_label_exists_in_arabic_french_and_english(registry: Registry) -> None:
    labels = _all_labels(registry)
    assert len(labels) > 200
    for where, label in labels:
        for lang in LANGUAGES:
            assert label.get(lang, "").strip(), f"{where} has no {lang} label"
        assert ARABIC.search(label["ar"]), f"{where}: the Arabic label is not in Arabic: {label['ar']!r}"
        assert not ARABIC.search(label["fr"] + label["en"]), f"{where}: Arabic text in fr/en label"
    for schema in registry:
        assert schema.description, f"{schema.name} has no description"
        assert schema.label_for("ar") == schema.label["ar"]
        assert schema.label_for("de") == schema.label["en"], "unknown language falls back to English"


def test_offence_taxonomy() -> None:
    vocab = load_vocabulary("offences")
    assert 25 <= len(vocab.values) <= 40
    assert {"persons", "property", "drugs", "organised", "cyber", "public_order", "terrorism"} <= set(vocab.groups)
    assert set(vocab.group_of) == set(vocab.values), "every offence has a group"
    assert all(vocab.in_group(group) for group in vocab.groups), "no empty group"
    for code, labels in list(vocab.values.items()) + list(vocab.groups.items()):
        assert ARABIC.search(labels["ar"]) and labels["fr"] and labels["en"], code
    assert vocab.group_of["drug_trafficking"] == "drugs"
    assert vocab.values["money_laundering"]["fr"] == "Blanchiment de capitaux"


def test_edges_join_two_entity_references(registry: Registry) -> None:
    assert {s.name for s in registry.relations()} >= set(EDGES) | {"Association"}
    assert not any(s.is_edge for s in registry.entities())
    entity_names = {s.name for s in registry.entities()}
    for rel in registry.relations():
        assert rel.edge is not None
        for end in (rel.edge.source, rel.edge.target):
            prop = rel.properties[end]
            assert prop.type.name == "entity" and prop.required and not prop.multiple
            assert prop.range and set(prop.range) <= entity_names
    for name, (source, target) in EDGES.items():
        edge = registry.get(name).edge
        assert edge is not None and (edge.source, edge.target) == (source, target)
    assert registry.get("Ownership").properties["owner"].range == ("Person", "Organisation")
    assert set(registry.get("Ownership").properties["asset"].range) == {
        "Vehicle", "Phone", "Email", "BankAccount", "CryptoWallet", "Weapon", "IdentityDocument",
    }  # fmt: skip
    association = registry.get("Association").edge
    assert association is not None and not association.directed
    assert {r.name for r in registry.relations_for("Phone")} == {"Call", "Ownership"}


def test_unknown_schema_is_a_validation_error(registry: Registry) -> None:
    with pytest.raises(ValidationFailed) as info:
        registry.get("Spaceship")
    assert [(e.field, e.rule) for e in info.value.errors] == [("schema", "schema.unknown")]
    assert "Person" in registry and "Spaceship" not in registry


def test_schema_descriptions_are_json_serialisable(registry: Registry) -> None:
    dumped = json.dumps([s.as_dict() for s in registry], ensure_ascii=False)
    assert "offence_category" in dumped and "الاسم العائلي" in dumped


# --------------------------------------------------------------------------- validation


def test_valid_person_is_cleaned(registry: Registry) -> None:
    person = registry.get("Person")
    cleaned = person.validate(
        {
            "given_name": "  Youssef ",
            "family_name": "El   Amrani",
            "family_name_ar": "العمراني",
            "birth_date": "14/07/1990",
            "sex": "Masculin",
            "nationality": "ma",
            "national_id": "bk 123456",
            "phone": "06 61 23 45 67",
            "aliases": ["Jo", "", "Jo", "  Zizou "],
            "notes": "",
        }
    )
    assert cleaned == {
        "given_name": "Youssef",
        "family_name": "El Amrani",
        "family_name_ar": "العمراني",
        "aliases": ["Jo", "Zizou"],
        "sex": "M",
        "birth_date": "1990-07-14",
        "nationality": "MA",
        "national_id": "BK123456",
        "phone": "+212661234567",
    }
    assert list(cleaned) == [p for p in person.properties if p in cleaned], "declaration order"
    assert person.caption(cleaned) == "Youssef El Amrani"
    assert person.caption({"given_name_ar": "يوسف", "family_name_ar": "العمراني"}) == "يوسف العمراني"
    assert person.caption({"aliases": ["Jo", "Zizou"]}) == "Jo, Zizou"
    assert person.caption({}, "fr") == "Personne"


def test_validate_collects_every_error_with_its_field(registry: Registry) -> None:
    person = registry.get("Person")
    tomorrow_year = "2999-01-01"
    errors = errors_of(
        person,
        {
            "given_name": "Youssef",
            "birth_date": tomorrow_year,
            "phone": "0612",
            "national_id": "12345678",
            "sex": "X",
            "nationality": "Maroc",
            "aliases": ["Jo", "42"],
            "eye_colour": "brown",
        },
    )
    assert errors == {
        "data.birth_date": "date.future",
        "data.phone": "phone.invalid",
        "data.national_id": "cin.format",
        "data.sex": "enum.value",
        "data.nationality": "country.code",
        "data.aliases.1": "name.letters",
        "data.eye_colour": "property.unknown",
    }


def test_required_and_required_any(registry: Registry) -> None:
    assert errors_of(registry.get("Person"), {"birth_date": "1990-01-01"}) == {"data": "property.required_any"}
    assert errors_of(registry.get("Person"), {}) == {"data": "property.required_any"}
    assert errors_of(registry.get("Incident"), {"title": "Vol à l'arraché"}) == {
        "data.offence_category": "property.required",
        "data.occurred_from": "property.required",
    }
    # a required field that is present but invalid is reported once, for its own rule
    assert errors_of(registry.get("Incident"), {"offence_category": "jaywalking", "occurred_from": "hier"}) == {
        "data.offence_category": "enum.value",
        "data.occurred_from": "datetime.format",
    }
    assert errors_of(registry.get("Involvement"), {"person": "p1", "incident": "i1"}) == {
        "data.role": "property.required"
    }


def test_partial_skips_required_checks_but_not_values(registry: Registry) -> None:
    incident = registry.get("Incident")
    assert incident.validate({"narrative": "Complément d'information."}, partial=True) == {
        "narrative": "Complément d'information."
    }
    assert incident.validate({}, partial=True) == {}
    assert errors_of(incident, {"commune": "99.999.99.9"}, partial=True) == {"data.commune": "commune.unknown"}
    assert registry.get("Person").validate({"phone": "0522 22 33 44"}, partial=True) == {"phone": "+212522223344"}


def test_incident_window_order_and_values_from(registry: Registry) -> None:
    incident = registry.get("Incident")
    cleaned = incident.validate(
        {
            "title": "Cambriolage d'une bijouterie",
            "offence_category": "burglary",
            "occurred_from": "2024-05-03 22:30",
            "occurred_to": "2024-05-04 06:00",
            "region": "6",
            "commune": "06.141.01.0",
            "coordinates": "33.5731, -7.5898",
        }
    )
    assert cleaned["occurred_from"] == "2024-05-03T21:30:00Z"
    assert cleaned["region"] == "06"
    assert cleaned["coordinates"] == {"lat": 33.5731, "lon": -7.5898}
    assert incident.caption(cleaned) == "Cambriolage d'une bijouterie"
    assert incident.caption({"offence_category": "burglary"}, "ar") == "السرقة بالكسر والتسلق"
    errors = errors_of(
        incident,
        {"offence_category": "theft", "occurred_from": "2024-05-04 06:00", "occurred_to": "2024-05-03 22:30"},
    )
    assert errors == {"data.occurred_to": "property.order"}


def test_non_mapping_data_is_refused(registry: Registry) -> None:
    for bad in (["given_name", "Ali"], "Ali", None, 42):
        assert errors_of(registry.get("Person"), bad) == {"data": "data.type"}


def test_multiple_property_accepts_a_single_value(registry: Registry) -> None:
    aliases = registry.get("Person").properties["aliases"]
    assert aliases.clean("Le Marocain") == ["Le Marocain"]
    assert aliases.clean(None) == []
    assert registry.get("Person").properties["phone"].clean("  ") is None


# --------------------------------------------------------------------------- keys and references


def test_keys(registry: Registry) -> None:
    person = registry.get("Person")
    data = person.validate(
        {
            "given_name": "Hicham",
            "family_name": "Ouazzani",
            "given_name_ar": "هشام",
            "aliases": ["Hicham", "Babi"],
            "national_id": "AB12345",
            "phone": "0661234567",
            "address": "Derb Sultan, Casablanca",
        }
    )
    keys = person.keys(data)
    assert ("phone", "+212661234567") in keys
    assert ("cin", "AB12345") in keys
    assert ("name", "هشام") in keys and ("name", "ouazzani") in keys and ("name", "babi") in keys
    assert keys.count(("name", "hicham")) == 1, "de-duplicated"
    assert not any(kind == "address" for kind, _ in keys)

    vehicle = registry.get("Vehicle")
    v = vehicle.validate({"plate": "12345-A-6", "vin": "vf1rfb00x57123456", "year": "2017"})
    assert vehicle.keys(v) == [("plate", "12345-أ-6"), ("vin", "VF1RFB00X57123456")]
    assert vehicle.caption(v) == "12345-أ-6"

    account = registry.get("BankAccount")
    a = account.validate({"iban": "011 519 0000012050005349 21"})
    assert account.keys(a) == [("iban", "MA64011519000001205000534921")]

    doc = registry.get("IdentityDocument")
    d = doc.validate({"doc_type": "passport", "number": "TZ-1234567", "holder_name": "Samira Idrissi"})
    assert ("document", "TZ1234567") in doc.keys(d)
    assert doc.caption(d) == "Passport TZ-1234567"
    assert doc.caption(d, "fr") == "Passeport TZ-1234567"

    wallet = registry.get("CryptoWallet")
    w = wallet.validate({"address": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "currency": "ETH"})
    assert w["address"] == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert wallet.keys(w) == [("crypto", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")]


def test_references(registry: Registry) -> None:
    ownership = registry.get("Ownership")
    data = ownership.validate({"owner": "per_01", "asset": "veh_77", "nature": "user", "since": "2021-09-01"})
    assert ownership.references(data) == [("owner", "per_01"), ("asset", "veh_77")]
    assert ownership.caption(data, "fr") == "Utilisateur"
    assert registry.get("Person").references({"given_name": "Ali"}) == []
    errors = errors_of(ownership, {"owner": "per 01"})
    assert errors == {"data.owner": "entity.format", "data.asset": "property.required"}


def test_call_and_transfer(registry: Registry) -> None:
    call = registry.get("Call").validate(
        {
            "caller": "ph1",
            "callee": "ph2",
            "started_at": "2024-01-15T08:15:00Z",
            "duration_s": "95",
            "kind": "voice",
        }
    )
    assert call["duration_s"] == 95
    assert errors_of(registry.get("Call"), {"caller": "ph1", "callee": "ph2", "duration_s": -4}) == {
        "data.duration_s": "number.range"
    }
    transfer = registry.get("Transfer").validate(
        {"payer": "acc1", "beneficiary": "w1", "amount": "15 000,50", "currency": "MAD", "date": "2024-02-01"}
    )
    assert transfer["amount"] == 15000.5


# --------------------------------------------------------------------------- strict loading


PERSON_MINI = """
name: Mini
label: {ar: مصغر, fr: Mini, en: Mini}
plural: {ar: مصغرات, fr: Minis, en: Minis}
description: A minimal type for loader tests.
properties:
  title: {type: string, label: {ar: عنوان, fr: Titre, en: Title}}
"""


def _write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_loader_accepts_a_minimal_schema(tmp_path: Path) -> None:
    _write(tmp_path, "Mini", PERSON_MINI)
    reg = load_registry(tmp_path)
    assert reg.names() == ["Mini"] and reg.get("Mini").validate({"title": " x "}) == {"title": "x"}


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda t: t.replace("type: string", "type: money"), "unknown type"),
        (lambda t: t.replace("fr: Titre, ", ""), "'fr'"),
        (lambda t: t.replace("ar: مصغرات, ", ""), "'ar'"),
        (lambda t: t.replace("description: A minimal type for loader tests.\n", ""), "description"),
        (lambda t: t + "colour: blue\n", "unknown key"),
        (lambda t: t.replace("name: Mini", "name: Other"), "does not match"),
        (lambda t: t + "caption: [nope]\n", "unknown property"),
        (lambda t: t + "required_any: [[title, nope]]\n", "unknown property"),
        (lambda t: t.replace("{type: string,", "{type: string, past_only: true,"), "past_only"),
        (lambda t: t.replace("{type: string,", "{type: enum,"), "enum"),
        (lambda t: t.replace("{type: string,", "{type: enum, values_from: nowhere,"), "unknown vocabulary"),
        (lambda t: t.replace("{type: string,", "{type: entity,"), "range"),
        (lambda t: t.replace("{type: string,", "{type: entity, range: Ghost,"), "unknown range"),
        (lambda t: t.replace("{type: string,", "{type: string, requird: true,"), "unknown key"),
        (lambda t: t + "label: {ar: ب, fr: b, en: b}\n", "duplicate key"),
        (lambda t: t.replace("properties:", "properties: [\n"), "not valid YAML"),
    ],
)
def test_loader_refuses_bad_schemas(tmp_path: Path, mutation: Any, message: str) -> None:
    _write(tmp_path, "Mini", mutation(PERSON_MINI))
    with pytest.raises(SchemaError, match=re.escape(message)):
        load_registry(tmp_path)


EDGE_MINI = """
name: Link
label: {ar: رابط, fr: Lien, en: Link}
plural: {ar: روابط, fr: Liens, en: Links}
description: A minimal relation.
edge: {source: a, target: b, label: {ar: مرتبط, fr: lié à, en: linked to}}
properties:
  a: {type: entity, range: Mini, required: true, label: {ar: أ, fr: A, en: A}}
  b: {type: entity, range: Mini, required: true, label: {ar: ب, fr: B, en: B}}
  note: {type: string, label: {ar: ملاحظة, fr: Note, en: Note}}
"""


def test_loader_checks_edges(tmp_path: Path) -> None:
    _write(tmp_path, "Mini", PERSON_MINI)
    _write(tmp_path, "Link", EDGE_MINI)
    reg = load_registry(tmp_path)
    assert [r.name for r in reg.relations()] == ["Link"] and reg.get("Link").edge is not None

    for bad, message in [
        (EDGE_MINI.replace("target: b", "target: note"), "must be a required, single entity property"),
        (EDGE_MINI.replace("target: b", "target: zz"), "must name one of the properties"),
        (EDGE_MINI.replace("target: b", "target: a"), "different"),
        (EDGE_MINI.replace("required: true, label: {ar: ب", "label: {ar: ب"), "required"),
        (EDGE_MINI.replace("a: {type: entity, range: Mini", "a: {type: entity, range: Link"), "is a relation"),
    ]:  # fmt: skip
        _write(tmp_path, "Link", bad)
        with pytest.raises(SchemaError, match=re.escape(message)):
            load_registry(tmp_path)


# --------------------------------------------------------------------------- generated docs


def test_docs_schema_md_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "amane.model.docs", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert text == docs.render()
    for name in CONTRACT:
        assert f"### {name}" in text
    assert "| `offence_category` | enum |" in text


def test_docs_check_fails_on_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "schema.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert docs.main(["--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docs.main(["--output", str(stale)]) == 0
    assert docs.main(["--check", "--output", str(stale)]) == 0
