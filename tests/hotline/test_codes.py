"""Tracking codes: unguessable, read back however a person types them, typos caught."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openmnr.hotline import codes
from openmnr.hotline.errors import InvalidTrackingCode

new_codes = st.builds(codes.new_code)


@settings(max_examples=50)
@given(new_codes)
def test_a_code_reads_back_as_shown_or_as_typed(code):
    shown = codes.display(code)
    assert codes.normalise(shown) == code
    assert codes.normalise(f"  {shown.lower().replace('-', ' ')} ") == code


@settings(max_examples=100)
@given(new_codes, st.data())
def test_any_single_mistyped_character_is_caught(code, data):
    position = data.draw(st.integers(0, len(code) - 1))
    wrong = data.draw(st.sampled_from([c for c in codes.ALPHABET if c != code[position]]))
    with pytest.raises(InvalidTrackingCode):
        codes.normalise(code[:position] + wrong + code[position + 1 :])


def test_letters_that_look_alike_are_read_as_digits():
    code = "0" * 10 + "1" * 9
    code += codes._check_character(code)
    assert codes.normalise("O" * 10 + "Il" * 4 + "L" + code[-1]) == code


def test_codes_are_random_and_long_enough_to_be_unguessable():
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert len(codes.ALPHABET) ** codes.RANDOM_LENGTH >= 2**95


@pytest.mark.parametrize("text", ["", "ABCD", "U" * 20, "!" * 20, "0" * 21])
def test_what_cannot_be_a_code_is_refused(text):
    with pytest.raises(InvalidTrackingCode):
        codes.normalise(text)
