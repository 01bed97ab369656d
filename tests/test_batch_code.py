"""Properties of the native batch code: every single typo and adjacent swap is caught."""
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.codes import batch_code
from inspector.codes.batch_code import ALPHABET, BatchCodeError

issued_codes = st.randoms(use_true_random=False).map(batch_code.issue)


@given(issued_codes)
def test_issued_code_normalises_to_itself(code):
    assert batch_code.normalise(code) == code


@given(issued_codes)
def test_issued_code_is_read_back_from_display_and_lower_case(code):
    assert batch_code.normalise(batch_code.display(code)) == code
    assert batch_code.normalise(code.lower()) == code
    assert batch_code.normalise(batch_code.display(code).lower()) == code
    assert batch_code.normalise("-".join(batch_code.display(code).split())) == code


@given(issued_codes)
def test_issued_code_is_short_and_unambiguous(code):
    assert len(code) <= 20
    assert not set(code) & set("0O1I")
    assert batch_code.looks_native(code)


@given(issued_codes)
def test_every_single_substitution_is_detected(code):
    for position in range(len(code)):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            mistyped = code[:position] + replacement + code[position + 1:]
            with pytest.raises(BatchCodeError):
                batch_code.normalise(mistyped)


@given(issued_codes)
def test_every_adjacent_transposition_is_detected(code):
    for position in range(len(code) - 1):
        first, second = code[position], code[position + 1]
        if first == second:
            continue
        swapped = code[:position] + second + first + code[position + 2:]
        with pytest.raises(BatchCodeError):
            batch_code.normalise(swapped)


@given(issued_codes)
def test_a_wrong_body_character_is_reported_as_a_typo(code):
    mistyped = code[:5] + ("2" if code[5] != "2" else "3") + code[6:]
    with pytest.raises(BatchCodeError) as caught:
        batch_code.normalise(mistyped)
    assert caught.value.typo
    assert "this looks like a typo" in str(caught.value)


def test_issue_is_reproducible_from_the_random_source():
    assert batch_code.issue(random.Random(7)) == batch_code.issue(random.Random(7))


@pytest.mark.parametrize("text, says", [
    ("XE23456789A", "starts with RE"),
    ("RE2345678", "has 11 characters"),
    ("RE2345678O9", "never contains 'O'"),
])
def test_syntax_errors_are_not_typos(text, says):
    with pytest.raises(BatchCodeError) as caught:
        batch_code.normalise(text)
    assert says in str(caught.value)
    assert not caught.value.typo
