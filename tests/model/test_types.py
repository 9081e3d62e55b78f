"""Value types: real-looking valid and invalid inputs, with the rule each one breaks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from amane.model.errors import InvalidValue
from amane.model.types import (
    LOCAL_TZ,
    TYPES,
    crypto_chain,
    eip55_checksum,
    get_type,
    keccak256,
    name_key,
    segwit_decode,
)


@dataclass(frozen=True)
class Prop:
    """A stand-in for schema.Property carrying only what value types read."""

    past_only: bool = False
    values: dict[str, dict[str, str]] | None = None
    range: tuple[str, ...] = ()
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None


def clean(type_name: str, raw: Any, prop: Prop | None = None) -> Any:
    return get_type(type_name).clean(raw, prop=prop)


def rule_of(type_name: str, raw: Any, prop: Prop | None = None) -> str:
    with pytest.raises(InvalidValue) as info:
        clean(type_name, raw, prop)
    assert info.value.message, "every refusal explains itself"
    return str(info.value.rule)


def test_registry_lists_every_type_once() -> None:
    expected = {
        "string", "text", "name", "identifier", "date", "datetime", "phone", "email", "cin", "plate",
        "vin", "iban", "crypto", "country", "region", "province", "commune", "coordinates", "number",
        "integer", "boolean", "enum", "entity", "url",
    }  # fmt: skip
    assert set(TYPES) == expected
    for name, vtype in TYPES.items():
        assert vtype.name == name
        assert vtype.doc, f"{name} has no documentation line"
        assert vtype.input_kind in {
            "text", "textarea", "date", "datetime-local", "number", "select", "email", "tel", "entity",
            "coordinates",
        }  # fmt: skip
    with pytest.raises(KeyError):
        get_type("money")


# --------------------------------------------------------------------------- text


def test_string_trims_and_collapses_whitespace_and_enforces_length() -> None:
    assert clean("string", "  Hay   Hassani,\t Casablanca ") == "Hay Hassani, Casablanca"
    assert clean("string", 42) == "42"
    assert rule_of("string", "x" * 501) == "string.too_long"
    assert rule_of("string", "x" * 11, Prop(max_length=10)) == "string.too_long"
    assert rule_of("string", {"a": 1}) == "string.type"


def test_text_keeps_lines() -> None:
    assert clean("text", "  Ligne 1  \r\nLigne 2\n\n") == "Ligne 1\nLigne 2"
    assert rule_of("text", "a" * 20_001) == "text.too_long"


def test_name_is_stored_as_written_and_keyed_simply() -> None:
    vtype = get_type("name")
    assert clean("name", "  Mohammed   El Alaoui ") == "Mohammed El Alaoui"
    assert clean("name", "مُحَمَّد العلـوي") == "مُحَمَّد العلـوي"
    assert vtype.keys("مُحَمَّد العلـوي") == ["محمد العلوي"]
    assert vtype.keys("إبراهيم") == vtype.keys("ابراهيم") == vtype.keys("أبراهيم")
    assert vtype.keys("Hélène EL-ALAOUI") == ["helene el alaoui"]
    assert vtype.keys("Fatima Zahra") == vtype.keys("FATIMA  ZAHRA")
    assert name_key("فاطمة الزهراء") == name_key("فاطمه الزهراء")
    assert rule_of("name", "12345") == "name.letters"


def test_identifier_keys_ignore_separators() -> None:
    assert clean("identifier", " 35-209900-176148-1 ") == "35-209900-176148-1"
    assert get_type("identifier").keys("35-209900-176148-1") == ["352099001761481"]


# --------------------------------------------------------------------------- dates


def test_date_formats() -> None:
    assert clean("date", "1985-03-12") == "1985-03-12"
    assert clean("date", "12/03/1985") == "1985-03-12"
    assert clean("date", "١٢/٠٣/١٩٨٥") == "1985-03-12"
    assert clean("date", date(1985, 3, 12)) == "1985-03-12"
    assert clean("date", "2024-02-29") == "2024-02-29"
    assert rule_of("date", "2023-02-29") == "date.format"
    assert rule_of("date", "31/04/2020") == "date.format"
    assert rule_of("date", "March 12") == "date.format"
    assert rule_of("date", 19850312) == "date.format"
    assert rule_of("date", "1700-01-01") == "date.range"


def test_date_in_the_future_is_refused_only_when_past_only() -> None:
    tomorrow = (datetime.now(LOCAL_TZ).date() + timedelta(days=1)).isoformat()
    today = datetime.now(LOCAL_TZ).date().isoformat()
    assert clean("date", tomorrow) == tomorrow  # an expiry date may be in the future
    assert rule_of("date", tomorrow, Prop(past_only=True)) == "date.future"
    assert clean("date", today, Prop(past_only=True)) == today


def test_datetime_normalised_to_utc() -> None:
    # Morocco is UTC+1 outside Ramadan.
    assert clean("datetime", "2024-06-01 10:00") == "2024-06-01T09:00:00Z"
    assert clean("datetime", "2024-06-01T10:00:00") == "2024-06-01T09:00:00Z"
    assert clean("datetime", "01/06/2024 10:00") == "2024-06-01T09:00:00Z"
    assert clean("datetime", "2024-06-01T10:00:00Z") == "2024-06-01T10:00:00Z"
    assert clean("datetime", "2024-06-01T10:00:00+02:00") == "2024-06-01T08:00:00Z"
    assert clean("datetime", "2024-06-01T10:00:00.123456+00:00") == "2024-06-01T10:00:00Z"
    # During Ramadan 2024 (11 March - 14 April) Morocco ran on UTC+0.
    assert clean("datetime", "2024-03-20 10:00") == "2024-03-20T10:00:00Z"
    assert rule_of("datetime", "yesterday") == "datetime.format"
    assert rule_of("datetime", "2024-13-01 10:00") == "datetime.format"


def test_datetime_future_refused_when_past_only() -> None:
    future = (datetime.now(LOCAL_TZ) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    assert rule_of("datetime", future, Prop(past_only=True)) == "date.future"
    assert clean("datetime", future).endswith("Z")


# --------------------------------------------------------------------------- contact


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0612345678", "+212612345678"),
        ("06 12 34 56 78", "+212612345678"),
        ("06.12.34.56.78", "+212612345678"),
        ("+212 6 12 34 56 78", "+212612345678"),
        ("00212612345678", "+212612345678"),
        ("0712345678", "+212712345678"),
        ("0522-22-33-44", "+212522223344"),
        ("0537 77 88 99", "+212537778899"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+34 612 34 56 78", "+34612345678"),
        ("٠٦١٢٣٤٥٦٧٨", "+212612345678"),
    ],
)
def test_phone_normalised_to_e164(raw: str, expected: str) -> None:
    assert clean("phone", raw) == expected
    assert get_type("phone").keys(expected) == [expected]


@pytest.mark.parametrize("raw", ["0612", "06123456789", "+33 1", "12", "phone", "+212 1 23 45 67 89"])
def test_phone_invalid(raw: str) -> None:
    assert rule_of("phone", raw) == "phone.invalid"


def test_email() -> None:
    assert clean("email", "Karim.Bennani@Menara.MA") == "Karim.Bennani@menara.ma"
    assert clean("email", "mailto:contact@dgsn.gov.ma") == "contact@dgsn.gov.ma"
    assert get_type("email").keys("Karim.Bennani@menara.ma") == ["karim.bennani@menara.ma"]
    for bad in ["karim@", "@menara.ma", "karim@menara", "karim bennani@menara.ma", "k..b@menara.ma"]:
        assert rule_of("email", bad) == "email.invalid"


def test_url() -> None:
    assert clean("url", "https://Example.MA/Page?q=1") == "https://example.ma/Page?q=1"
    assert clean("url", "www.hespress.com/politique") == "http://www.hespress.com/politique"
    onion = "http://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion/"
    assert clean("url", onion) == onion
    for bad in ["ftp://files.example.ma", "javascript:alert(1)", "http://abc.onion", "http://", "not a url"]:
        assert rule_of("url", bad) == "url.invalid"


# --------------------------------------------------------------------------- Moroccan identifiers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BE123456", "BE123456"),
        ("k12345", "K12345"),
        ("be-123 456", "BE123456"),
        ("A1", "A1"),
        ("JC 45", "JC45"),
    ],
)
def test_cin_valid(raw: str, expected: str) -> None:
    assert clean("cin", raw) == expected
    assert get_type("cin").keys(expected) == [expected]


@pytest.mark.parametrize("raw", ["123456", "ABC12345", "B1234567", "BE", "É12345", "BE12A45"])
def test_cin_invalid(raw: str) -> None:
    assert rule_of("cin", raw) == "cin.format"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345-أ-6", "12345-أ-6"),
        ("12345-A-6", "12345-أ-6"),
        ("12345 | ب | 26", "12345-ب-26"),
        ("12345 ب 26", "12345-ب-26"),
        ("12345/d/40", "12345-د-40"),
        ("4567-هـ-1", "4567-هـ-1"),
        ("4567-ه-1", "4567-هـ-1"),
        ("4567-H-1", "4567-هـ-1"),
        ("4567-E-1", "4567-هـ-1"),
        ("88-W-59", "88-و-59"),
        ("1-T-89", "1-ط-89"),
        ("00123-A-06", "123-أ-6"),
        ("١٢٣٤٥-د-٦", "12345-د-6"),
        ("6-أ-12345", "12345-أ-6"),  # right-to-left text pasted in visual order
        ("WW-123456", "WW-123456"),
        ("123456 WW", "WW-123456"),
        ("ww 4587", "WW-4587"),
    ],
)
def test_plate_valid(raw: str, expected: str) -> None:
    assert clean("plate", raw) == expected
    assert get_type("plate").keys(expected) == [expected]


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("12345-X-6", "plate.letter"),
        ("12345-ق-6", "plate.letter"),
        ("12345-A-90", "plate.format"),
        ("12345-A-0", "plate.format"),
        ("123456-A-6", "plate.format"),
        ("12345-A", "plate.format"),
        ("AB-123-CD", "plate.format"),
        ("WW-1234567", "plate.format"),
        ("0-A-6", "plate.format"),
    ],
)
def test_plate_invalid(raw: str, rule: str) -> None:
    assert rule_of("plate", raw) == rule


def test_vin() -> None:
    assert clean("vin", "1hgcm8-2633a004352") == "1HGCM82633A004352"
    assert clean("vin", "VF1RFB00X57123456") == "VF1RFB00X57123456"
    assert rule_of("vin", "1HGCM82633A00435") == "vin.format"
    assert rule_of("vin", "1HGCM82633O004352") == "vin.format"  # letter O instead of zero
    assert rule_of("vin", "1HGCM82633I004352") == "vin.format"


# --------------------------------------------------------------------------- banking


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MA64011519000001205000534921", "MA64011519000001205000534921"),
        ("MA64 0115 1900 0001 2050 0053 4921", "MA64011519000001205000534921"),
        ("ma64-0115-1900-0001-2050-0053-4921", "MA64011519000001205000534921"),
        ("FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
        ("FR1420041010050500013M02606", "FR1420041010050500013M02606"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("011 519 0000012050005349 21", "011519000001205000534921"),  # Moroccan RIB
    ],
)
def test_iban_and_rib_valid(raw: str, expected: str) -> None:
    assert clean("iban", raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("MA64011519000001205000534922", "iban.checksum"),  # last digit changed
        ("MA65011519000001205000534921", "iban.checksum"),  # check digits changed
        ("FR7630006000011234567890188", "iban.checksum"),
        ("DE8937040044053201300", "iban.format"),  # one digit short
        ("XX89370400440532013000", "iban.format"),  # no such IBAN country
        ("MA6401151900000120500053492", "iban.format"),
        ("011519000001205000534922", "rib.key"),  # RIB with a wrong key
        ("01151900000120500053492", "iban.format"),  # 23 digits
        ("not an account", "iban.format"),
    ],
)
def test_iban_and_rib_invalid(raw: str, rule: str) -> None:
    assert rule_of("iban", raw) == rule


def test_moroccan_iban_with_valid_checksum_but_wrong_rib_key_is_refused() -> None:
    rib = "011519000001205000534922"  # wrong RIB key...
    check = 98 - int("".join(str(int(c, 36)) for c in rib + "MA00")) % 97
    iban = f"MA{check:02d}{rib}"  # ...wrapped in correct IBAN check digits
    assert rule_of("iban", iban) == "rib.key"


def test_rib_and_its_iban_share_one_key() -> None:
    vtype = get_type("iban")
    assert vtype.keys("011519000001205000534921") == ["MA64011519000001205000534921"]
    assert vtype.keys("MA64011519000001205000534921") == ["MA64011519000001205000534921"]


# --------------------------------------------------------------------------- crypto


def test_keccak256_known_vectors() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"


@pytest.mark.parametrize(
    "address",
    [  # EIP-55 test vectors
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0xde709f2102306220921060314715629080e2fb77",
    ],
)
def test_eip55(address: str) -> None:
    assert eip55_checksum(address.lower()) == address
    assert clean("crypto", address) == address
    assert clean("crypto", address.lower()) == address
    assert get_type("crypto").keys(address) == [address.lower()]


def test_ethereum_bad_checksum_refused() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    bad = good[:-1] + "D"  # case of the last letter flipped
    assert rule_of("crypto", bad) == "crypto.invalid"


@pytest.mark.parametrize(
    ("address", "chain"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BTC"),  # genesis block
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "BTC"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "BTC"),  # P2SH
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "BTC"),  # BIP-173, upper case
        ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", "BTC"),  # BIP-173 P2WSH
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "BTC"),  # BIP-350 taproot
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "BTC-TEST"),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TRON"),  # USDT TRC-20 contract
    ],
)
def test_crypto_valid(address: str, chain: str) -> None:
    value = clean("crypto", address)
    assert value == (address.lower() if address.lower().startswith(("bc1", "tb1")) else address)
    assert crypto_chain(value) == chain
    assert get_type("crypto").keys(value) == [value]


def test_segwit_program_decoded() -> None:
    decoded = segwit_decode("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
    assert decoded == ("bc", 0, bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6"))


@pytest.mark.parametrize(
    "address",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # genesis address, last character changed
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # bech32 checksum broken
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7KV8F3T4",  # mixed case (BIP-173)
        "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",  # bad version
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",  # 39 hex digits
        "hello",
    ],
)
def test_crypto_invalid(address: str) -> None:
    assert rule_of("crypto", address) == "crypto.invalid"


# --------------------------------------------------------------------------- places


def test_country() -> None:
    assert clean("country", "ma") == "MA"
    assert clean("country", " FR ") == "FR"
    assert clean("country", "UK") == "GB"
    assert rule_of("country", "XX") == "country.code"
    assert rule_of("country", "MAR") == "country.code"


def test_moroccan_administrative_units() -> None:
    assert clean("region", "06") == "06"
    assert clean("region", "6") == "06"
    assert rule_of("region", "13") == "region.unknown"
    assert clean("province", "06.141") == "06.141"
    assert rule_of("province", "06.999") == "province.unknown"
    assert clean("commune", "01.511.01.0") == "01.511.01.0"
    assert rule_of("commune", "01.511") == "commune.unknown"
    regions = get_type("region").options()
    assert regions is not None and len(regions) == 12
    casablanca_settat = dict(regions)["06"]
    assert casablanca_settat["fr"] == "Casablanca-Settat"
    assert casablanca_settat["ar"] == "الدار البيضاء-سطات"
    communes = get_type("commune").options()
    assert communes is not None and len(communes) > 1400


@pytest.mark.parametrize(
    "raw",
    ["33.5731,-7.5898", "33.5731, -7.5898", [33.5731, -7.5898], (33.5731, -7.5898),
     {"lat": 33.5731, "lon": -7.5898}, {"latitude": "33.5731", "longitude": "-7.5898"}],
)  # fmt: skip
def test_coordinates_valid(raw: Any) -> None:
    assert clean("coordinates", raw) == {"lat": 33.5731, "lon": -7.5898}


def test_coordinates_rounded() -> None:
    assert clean("coordinates", "35.7595123456,-5.8339876543") == {"lat": 35.759512, "lon": -5.833988}


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("95,10", "coordinates.range"),
        ([33.5, -190], "coordinates.range"),
        ("a,b", "coordinates.format"),
        ("33.5", "coordinates.format"),
        ([True, 1], "coordinates.format"),
        ({"lat": 33.5}, "coordinates.format"),
        ("nan,1", "coordinates.format"),
        (33.5, "coordinates.format"),
    ],
)
def test_coordinates_invalid(raw: Any, rule: str) -> None:
    assert rule_of("coordinates", raw) == rule


# --------------------------------------------------------------------------- numbers and choices


def test_numbers() -> None:
    assert clean("number", "12,5") == 12.5
    assert clean("number", "1 250.75") == 1250.75
    assert clean("number", 3) == 3.0
    assert clean("integer", "2019") == 2019
    assert clean("integer", 2019.0) == 2019
    assert rule_of("integer", "20.5") == "integer.format"
    assert rule_of("number", "douze") == "number.format"
    assert rule_of("number", True) == "number.format"
    assert rule_of("number", float("inf")) == "number.format"
    assert rule_of("integer", 1850, Prop(minimum=1900, maximum=2100)) == "number.range"
    assert rule_of("number", -1, Prop(minimum=0)) == "number.range"


def test_boolean() -> None:
    assert clean("boolean", "oui") is True
    assert clean("boolean", "نعم") is True
    assert clean("boolean", False) is False
    assert clean("boolean", "0") is False
    assert rule_of("boolean", "peut-être") == "boolean.format"


SEX = Prop(
    values={
        "M": {"ar": "ذكر", "fr": "Masculin", "en": "Male"},
        "F": {"ar": "أنثى", "fr": "Féminin", "en": "Female"},
    }
)


def test_enum_accepts_codes_and_labels() -> None:
    assert clean("enum", "M", SEX) == "M"
    assert clean("enum", "f", SEX) == "F"
    assert clean("enum", "Féminin", SEX) == "F"
    assert clean("enum", "ذكر", SEX) == "M"
    with pytest.raises(InvalidValue) as info:
        clean("enum", "X", SEX)
    assert info.value.rule == "enum.value"
    assert "M, F" in info.value.message
    assert get_type("enum").options(SEX) == [
        ("M", {"ar": "ذكر", "fr": "Masculin", "en": "Male"}),
        ("F", {"ar": "أنثى", "fr": "Féminin", "en": "Female"}),
    ]


def test_entity_reference() -> None:
    assert clean("entity", " p_01HZX3-abc ") == "p_01HZX3-abc"
    for bad in ["", "a b", "x" * 65, 12, "../etc"]:
        assert rule_of("entity", bad) == "entity.format"


def test_empty_detection() -> None:
    vtype = get_type("string")
    assert vtype.is_empty(None) and vtype.is_empty("  ") and vtype.is_empty([]) and vtype.is_empty({})
    assert not vtype.is_empty(0) and not vtype.is_empty(False)
