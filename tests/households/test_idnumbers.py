"""Resident ID numbers (GB 11643): check character, normalisation, derived birth date and sex, masking."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.households.idnumbers import (
    InvalidIdNumber,
    check_character,
    mask_account,
    mask_id_number,
    mask_phone,
    parse_id_number,
)

# The worked example of GB 11643-1999 (Appendix): 11010519491231002X, a woman born 1949-12-31.
STANDARD_EXAMPLE = "11010519491231002X"
# Computed by hand: 620522 19900101 123 → weighted sum 210, 210 mod 11 = 1 → check character "0".
HAND_CHECKED = "620522199001011230"


def test_the_standards_own_example_with_check_character_x_is_valid() -> None:
    parsed = parse_id_number(STANDARD_EXAMPLE)
    assert parsed.value == STANDARD_EXAMPLE
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"  # 17th digit 2 is even


def test_a_lowercase_x_is_normalised_to_uppercase() -> None:
    assert parse_id_number(STANDARD_EXAMPLE.lower()).value == STANDARD_EXAMPLE


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_id_number(f"  {HAND_CHECKED} ").value == HAND_CHECKED


def test_check_character_follows_iso_7064_mod_11_2() -> None:
    assert check_character(HAND_CHECKED[:17]) == "0"
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"


def test_odd_sequence_digit_is_male_and_birth_date_is_derived() -> None:
    parsed = parse_id_number(HAND_CHECKED)
    assert parsed.sex == "M"  # 17th digit 3 is odd
    assert parsed.birth_date == date(1990, 1, 1)


@pytest.mark.parametrize("wrong", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X"])
def test_every_wrong_check_character_is_refused(wrong: str) -> None:
    with pytest.raises(InvalidIdNumber, match="check character"):
        parse_id_number(HAND_CHECKED[:17] + wrong)


def test_a_transposition_of_two_digits_is_caught_by_the_check_character() -> None:
    swapped = HAND_CHECKED[:14] + HAND_CHECKED[15] + HAND_CHECKED[14] + HAND_CHECKED[16:]
    assert swapped != HAND_CHECKED
    with pytest.raises(InvalidIdNumber):
        parse_id_number(swapped)


def _valid(first17: str) -> str:
    return first17 + check_character(first17)


@pytest.mark.parametrize(
    "birth",
    ["19900230", "19900229", "19901301", "19900001", "19900100", "19900431"],
    ids=["feb-30", "feb-29-non-leap", "month-13", "month-0", "day-0", "apr-31"],
)
def test_impossible_birth_dates_are_refused_even_with_a_correct_check_character(birth: str) -> None:
    with pytest.raises(InvalidIdNumber, match="not a date"):
        parse_id_number(_valid(f"620522{birth}123"))


def test_feb_29_of_a_leap_year_is_a_date() -> None:
    assert parse_id_number(_valid("620522200002291234"[:17])).birth_date == date(2000, 2, 29)


def test_a_birth_date_in_the_future_is_refused() -> None:
    number = _valid("620522203001011234"[:17])
    with pytest.raises(InvalidIdNumber, match="out of range"):
        parse_id_number(number, today=date(2026, 1, 1))


def test_born_today_is_accepted_and_tomorrow_is_not() -> None:
    number = _valid("620522202601021234"[:17])
    assert parse_id_number(number, today=date(2026, 1, 2)).birth_date == date(2026, 1, 2)
    with pytest.raises(InvalidIdNumber):
        parse_id_number(number, today=date(2026, 1, 1))


def test_a_birth_year_before_1880_is_refused() -> None:
    with pytest.raises(InvalidIdNumber, match="out of range"):
        parse_id_number(_valid("620522187901011234"[:17]))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "62052219900101123",  # 17 characters
        "6205221990010112370",  # 19 characters
        "620522900101123",  # the old 15-digit form
        "62052219900101123A",  # a letter other than X
        "X20522199001011237",  # X anywhere but last
        "6205221990010112 7",
        "６２０５２２１９９００１０１１２３７",  # full-width digits
    ],
)
def test_wrong_length_or_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdNumber, match="17 digits"):
        parse_id_number(raw)


def test_masking_keeps_the_region_and_the_last_four_only() -> None:
    assert mask_id_number("620522199001011234") == "620522********1234"
    assert mask_id_number(STANDARD_EXAMPLE) == "110105********002X"
    assert len(mask_id_number(HAND_CHECKED)) == 18


def test_phone_and_account_masks_keep_only_the_ends() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_account("6230520012345678") == "************5678"
