"""Pure rules of 12-digit region codes."""

from __future__ import annotations

import pytest

from app.domain.regions import codes


@pytest.mark.parametrize(
    ("code", "level", "prefix", "parent"),
    [
        ("000000000000", "national", "", None),
        ("620000000000", "province", "62", "000000000000"),
        ("620500000000", "prefecture", "6205", "620000000000"),
        ("620522000000", "county", "620522", "620500000000"),
        ("620522100000", "township", "620522100", "620522000000"),
        ("620522100201", "village", "620522100201", "620522100000"),
    ],
)
def test_level_prefix_and_parent_derive_from_the_code(
    code: str, level: str, prefix: str, parent: str | None
) -> None:
    assert codes.level_of(code) == level
    assert codes.region_prefix(code) == prefix
    assert codes.parent_of(code) == parent
    assert codes.code_of_prefix(prefix) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("62052210020", "12 digits"),
        ("6205221002011", "12 digits"),
        ("62052210020a", "12 digits"),
        ("６２０５２２１００２０１", "12 digits"),  # full-width digits are not ASCII digits
        ("000522000000", "province"),
        ("620000100000", "below an empty"),
        ("620500000201", "below an empty"),
        ("620522000201", "below an empty"),
    ],
)
def test_malformed_codes_are_refused_with_a_reason(code: str, reason: str) -> None:
    with pytest.raises(codes.InvalidRegionCode, match=reason):
        codes.validate_code(code)
    assert not codes.is_valid_code(code)


def test_ancestors_run_from_the_root_to_the_parent() -> None:
    assert codes.ancestors_of("620522100201") == [
        "000000000000",
        "620000000000",
        "620500000000",
        "620522000000",
        "620522100000",
    ]
    assert codes.ancestors_of("000000000000") == []


def test_subtree_bounds_hold_exactly_the_codes_with_the_prefix() -> None:
    low, high = codes.subtree_bounds("620522100")
    inside = ["620522100000", "620522100201", "620522100999"]
    outside = ["620522101000", "620522099999", "620523000000", "620522000000"]
    assert all(low <= code <= high for code in inside)
    assert not any(low <= code <= high for code in outside)
    assert codes.subtree_bounds("") == ("000000000000", "999999999999")


def test_a_prefix_of_the_wrong_length_is_not_a_region() -> None:
    with pytest.raises(codes.InvalidRegionCode):
        codes.code_of_prefix("62052")
