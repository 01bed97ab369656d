"""Reading scanned and typed label text into lookup keys."""
import random
import string
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.codes import batch_code
from inspector.codes.labels import read_code

GTIN = "09521234543213"
BAD_GTIN = "09521234543214"
GS = "\x1d"
# GS1 AI encodable character set 82: what a lot or serial may contain.
CSET_82 = "!\"%&'()*+,-./:;<=>?_" + string.digits + string.ascii_letters


def assert_gs1(text, gtin=GTIN, lot=None, serial=None, expiry=None):
    label = read_code(text)
    assert (label.kind, label.error) == ("gs1", None)
    assert (label.gtin, label.lot, label.serial, label.expiry) == (gtin, lot, serial, expiry)
    return label


def assert_malformed(text, says):
    label = read_code(text)
    assert label.kind == "malformed"
    assert says in label.error
    assert label.lookup() is None
    return label


# --- GS1 element strings -------------------------------------------------------------------

@pytest.mark.parametrize("text, lot, serial, expiry", [
    (f"01{GTIN}10AB12{GS}21XYZ", "AB12", "XYZ", None),
    (f"01{GTIN}10AB12", "AB12", None, None),
    (f"01{GTIN}21SER-9", None, "SER-9", None),
    (f"01{GTIN}1726123110AB12", "AB12", None, "2026-12-31"),
    (f"01{GTIN}10AB12{GS}17261231", "AB12", None, "2026-12-31"),
    (f"{GS}01{GTIN}10AB12{GS}", "AB12", None, None),
    (f"01{GTIN}17261200{GS}10AB12\r\n", "AB12", None, "2026-12-31"),
])
def test_element_strings_with_and_without_separators(text, lot, serial, expiry):
    assert_gs1(text, lot=lot, serial=serial, expiry=expiry)


def test_variable_field_running_into_the_next_without_separator_is_refused():
    assert_malformed(f"01{GTIN}10{'A' * 20}21XY", "no separator")


@pytest.mark.parametrize("prefix", ["]d2", "]Q3", "]C1", "]e0"])
def test_symbology_identifiers_are_stripped(prefix):
    assert_gs1(f"{prefix}01{GTIN}10AB12{GS}21XYZ", lot="AB12", serial="XYZ")


def test_symbology_identifier_before_a_digital_link():
    assert_gs1(f"]Q1https://id.example.org/01/{GTIN}/10/B123", lot="B123")


# --- bracketed human-readable form ---------------------------------------------------------

@pytest.mark.parametrize("text, lot, serial, expiry", [
    (f"(01){GTIN}(10)AB12", "AB12", None, None),
    (f"(01) {GTIN} (17) 261231 (21) S1", None, "S1", "2026-12-31"),
    (f"(01){GTIN}(10)AB12(21)XYZ", "AB12", "XYZ", None),
])
def test_bracketed_form(text, lot, serial, expiry):
    assert_gs1(text, lot=lot, serial=serial, expiry=expiry)


# --- GS1 Digital Link ----------------------------------------------------------------------

@pytest.mark.parametrize("text, gtin, lot, serial, expiry", [
    (f"https://id.example.org/01/{GTIN}/10/B123", GTIN, "B123", None, None),
    (f"https://example.com/some/prefix/01/{GTIN}/21/XYZ?17=261231", GTIN, None, "XYZ", "2026-12-31"),
    (f"http://resolver.acme.cn/01/{GTIN}/10/AB%2F12", GTIN, "AB/12", None, None),
    ("https://gs1.example/dl/01/00614141123452/10/L%2D7", "00614141123452", "L-7", None, None),
    ("https://x.example/01/00000096385074/21/Z1", "00000096385074", None, "Z1", None),
    (f"https://id.example.org/01/{GTIN}/10/LOT1?utm_source=label", GTIN, "LOT1", None, None),
    (f"HTTPS://ID.EXAMPLE.ORG/01/{GTIN}/10/B123/21/S9?17=270630", GTIN, "B123", "S9", "2027-06-30"),
])
def test_digital_link_on_any_domain(text, gtin, lot, serial, expiry):
    assert_gs1(text, gtin=gtin, lot=lot, serial=serial, expiry=expiry)


@pytest.mark.parametrize("text, says", [
    ("https://example.com/products/42", "not a GS1 Digital Link"),
    (f"https://id.example.org/01/{GTIN}/10", "no value"),
    (f"https://id.example.org/01/{GTIN}/10/A%20B", "GS1 rules at field (10)"),
])
def test_broken_digital_links(text, says):
    assert_malformed(text, says)


# --- GS1 codes that cannot name a batch ----------------------------------------------------

@pytest.mark.parametrize("text", [
    f"01{BAD_GTIN}10AB12",
    f"(01){BAD_GTIN}(10)AB12",
    f"https://id.example.org/01/{BAD_GTIN}/10/B1",
    "https://id.example.org/01/9521234543214/10/B1",
])
def test_bad_gtin_check_digit(text):
    assert_malformed(text, "GTIN check digit fails")


@pytest.mark.parametrize("text", [
    f"01{GTIN}",
    f"01{GTIN}17261231",
    f"(01){GTIN}(17)261231",
    f"https://id.example.org/01/{GTIN}",
    f"]d201{GTIN}",
])
def test_gs1_without_batch_or_serial(text):
    assert_malformed(text, "has a product number (01) but no batch (10) or serial (21)")


@pytest.mark.parametrize("text", ["(10)AB12", "10AB12", "(00)106141412345678908"])
def test_gs1_without_product_number(text):
    assert_malformed(text, "no product number (01)")


@pytest.mark.parametrize("text", ["9521234543213", "]E09521234543213", GTIN])
def test_plain_product_barcode_is_not_a_batch(text):
    assert_malformed(text, "only a product number (GTIN)")


def test_conflicting_repeated_fields():
    assert_malformed(f"(01){GTIN}(10)AB12(10)CD", "two different values for field (10)")


def test_impossible_expiry_date():
    assert_malformed(f"(01){GTIN}(17)261341(10)AB", "field (17)")


# --- native codes --------------------------------------------------------------------------

CODE = batch_code.issue(random.Random(2024))


@pytest.mark.parametrize("text", [
    CODE,
    CODE.lower(),
    batch_code.display(CODE),
    batch_code.display(CODE).lower(),
    "-".join(batch_code.display(CODE).split()),
    f"  {CODE}\r\n",
    f"]Q1{CODE}",
])
def test_native_code_typed_or_scanned(text):
    label = read_code(text)
    assert (label.kind, label.batch_code, label.error) == ("native", CODE, None)
    assert label.lookup() == {"_id": CODE}


def test_native_check_character_failure_is_a_typo():
    wrong = CODE[:-1] + ("2" if CODE[-1] != "2" else "3")
    label = assert_malformed(wrong, "this looks like a typo")
    assert label.typo


@pytest.mark.parametrize("text, says", [
    ("RE123", "has 11 characters"),
    ("RE 2345 678O 9", "never contains 'O'"),
])
def test_native_syntax_errors_are_not_typos(text, says):
    assert not assert_malformed(text, says).typo


# --- everything else -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "\r\n", "]d2"])
def test_empty(text):
    assert read_code(text).error == "The code is empty."


def test_ten_kilobytes_is_too_long():
    label = assert_malformed("0" * 10_240, "too long")
    assert len(label.raw) == 200


@pytest.mark.parametrize("text", [f"RE\x00{CODE}", f"01{GTIN}\x0710AB12", "\x1b[31mRE", f"(01){GTIN}\t(10)AB"])
def test_control_characters(text):
    assert_malformed(text, "control character")


@pytest.mark.parametrize("text", ["hello world", "]", "<GS>", "ÄÖÜ", "ftp://x/01/09521234543213/10/A"])
def test_unrecognised_shapes(text):
    assert_malformed(text, "neither a batch code")


def test_messages_are_single_sentences():
    for text in ["", "x" * 600, f"01{BAD_GTIN}10A", f"01{GTIN}", "hello", f"https://a.example/01/{GTIN}/10"]:
        error = read_code(text).error
        assert error[0].isupper() and error.endswith(".") and error.count(". ") == 0


@given(st.text(max_size=700) | st.binary(max_size=700).map(lambda b: b.decode("latin-1")))
def test_never_raises(text):
    label = read_code(text)
    assert label.kind in {"native", "gs1", "malformed"}
    assert (label.error is None) == (label.kind != "malformed")
    assert len(label.raw) <= 200


@given(st.randoms(use_true_random=False).map(batch_code.issue))
def test_every_issued_code_is_looked_up_by_id(code):
    assert read_code(batch_code.display(code).lower()).lookup() == {"_id": code}


lots = st.text(alphabet=CSET_82, min_size=1, max_size=20)


@given(lots, lots)
def test_digital_link_percent_encoding_round_trips(lot, serial):
    label = assert_gs1(
        f"https://id.example.org/01/{GTIN}/10/{quote(lot, safe='')}/21/{quote(serial, safe='')}", lot=lot, serial=serial
    )
    assert label.lookup() == {"gs1.gtin": GTIN, "gs1.lot": lot}


@given(lots, lots)
def test_element_strings_with_separators_round_trip(lot, serial):
    assert_gs1(f"]d201{GTIN}10{lot}{GS}21{serial}", lot=lot, serial=serial)
