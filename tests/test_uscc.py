"""The unified social credit code: its check character, its organisation-code check digit, and clear messages."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.codes import uscc
from seed.enterprises import enterprise_docs

UPPER_AND_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def brief_check_character(first17):
    """The GB 32100 check character written out from the standard's description, independent of the library."""
    total = sum(uscc.ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    value = 31 - total % 31
    return uscc.ALPHABET[0 if value == 31 else value]


valid_codes = st.builds(
    lambda head, division, org: uscc.complete(head + division + org),
    st.text(uscc.ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(uscc.ALPHABET, min_size=8, max_size=8),
)


@given(valid_codes)
def test_the_library_check_character_matches_the_standard(code):
    assert uscc.validate(code) == code
    assert code[17] == brief_check_character(code[:17])


@settings(max_examples=300)
@given(valid_codes, st.integers(0, 17), st.sampled_from(UPPER_AND_DIGITS))
def test_every_single_substitution_is_detected(code, position, replacement):
    if code[position] == replacement:
        replacement = UPPER_AND_DIGITS[(UPPER_AND_DIGITS.index(replacement) + 1) % len(UPPER_AND_DIGITS)]
    typo = code[:position] + replacement + code[position + 1:]
    with pytest.raises(uscc.UsccError):
        uscc.validate(typo)


def test_a_published_example_validates_and_splits_into_its_parts():
    # The example in python-stdnum's documentation of stdnum.cn.uscc.
    code = uscc.validate("9 1 110000 600037341L")
    assert code == "91110000600037341L"
    assert uscc.parts(code) == {"registration_authority": "9", "entity_type": "1", "division_code": "110000",
                                "division_province": "Beijing", "organisation_code": "600037341",
                                "check_character": "L"}


def test_a_mistyped_check_character_names_the_right_one():
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate("91110000600037341M")
    assert str(caught.value).startswith("The check character should be L, not M: this looks like a typo")
    assert caught.value.code == "uscc_check_character" and caught.value.typo


@pytest.mark.parametrize("text, code, words", [
    ("", "uscc_missing", "18-character"),
    ("9111000060003734", "uscc_length", "has 16"),
    ("91110000600O37341L", "uscc_character", "did you mean 0?"),
    ("911100006000373I1L", "uscc_character", "did you mean 1?"),
    ("91AB0000600037341L", "uscc_division", "must be digits"),
])
def test_each_kind_of_mistake_gets_its_own_message(text, code, words):
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate(text)
    assert caught.value.code == code and words in str(caught.value)


def test_a_wrong_organisation_check_digit_is_refused_even_with_a_matching_check_character():
    body = "91110000" + "60003734"
    wrong = "2"  # the right one is 1
    first17 = body + wrong
    code = first17 + uscc.check_character(first17)
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate(code)
    assert caught.value.code == "uscc_organisation_check" and "should be 1, not 2" in str(caught.value)


def test_lower_case_spaces_and_hyphens_are_accepted():
    assert uscc.validate("91110000-600037341l") == "91110000600037341L"


def test_seed_enterprises_have_valid_distinct_plainly_fictional_codes():
    docs = enterprise_docs()
    codes = [d["uscc"] for d in docs]
    assert all(uscc.is_valid(c) for c in codes) and len(set(codes)) == len(codes)
    assert all("FAKE" in c for c in codes)
    assert all(uscc.parts(d["uscc"])["division_province"] == d["province"] for d in docs)
    assert codes == [d["uscc"] for d in enterprise_docs()]  # deterministic
