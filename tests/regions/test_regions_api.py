"""The region tree over HTTP: look-up with ancestors, scoped listing and paging, and the CSV import."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest

from tests.conftest import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_TOWNSHIP,
    OTHER_VILLAGE,
    PREFECTURE,
    PROVINCE,
    TOWNSHIP_A,
    TOWNSHIP_B,
    TREE,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    VILLAGE_B2,
    Account,
    assert_problem,
)

NATIONAL = "000000000000"
REGIONS = "/api/v1/regions"
IMPORT = "/api/v1/regions/import"
AccountFactory = Callable[..., Awaitable[Account]]

# Regions a county admin adds below 秦安县: a new township with two villages, and a third village under
# an existing township. Children come before their parent on purpose: the file's order must not matter.
NEW_TOWNSHIP = "620522102000"
NEW_VILLAGE_1, NEW_VILLAGE_2 = "620522102201", "620522102202"
NEW_VILLAGE_A3 = "620522100203"
NEW_ROWS = [
    (NEW_VILLAGE_1, "陈家河村"),
    (NEW_VILLAGE_A3, "杨家坪村"),
    (NEW_TOWNSHIP, "莲花镇"),
    (NEW_VILLAGE_2, "赵家岘村"),
]


def csv_file(rows: list[tuple[str, str]], *, header: str = "code,name", newline: str = "\n") -> str:
    return newline.join([header, *(f"{code},{name}" for code, name in rows)]) + newline


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes | str, filename: str = "regions.csv"
) -> httpx.Response:
    content = data.encode() if isinstance(data, str) else data
    return await client.post(IMPORT, files={"file": (filename, content, "text/csv")}, headers=headers)


async def all_codes(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    """Every region code the caller can list (all pages)."""
    codes: list[str] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "500", **({"cursor": cursor} if cursor else {})}
        response = await client.get(REGIONS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        codes += [item["code"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return codes


def encode_cursor(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()


# Look-up -------------------------------------------------------------------------------------------------


async def test_region_detail_lists_ancestors_from_the_national_root_down_to_the_parent(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(f"{REGIONS}/{VILLAGE_A1}", headers=officer.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == body["region_code"] == VILLAGE_A1
    assert body["name"] == TREE[VILLAGE_A1]
    assert body["level"] == "village"
    assert body["parent_code"] == TOWNSHIP_A
    assert [a["code"] for a in body["ancestors"]] == [NATIONAL, PROVINCE, PREFECTURE, COUNTY, TOWNSHIP_A]
    assert [a["level"] for a in body["ancestors"]] == [
        "national",
        "province",
        "prefecture",
        "county",
        "township",
    ]
    assert [a["name"] for a in body["ancestors"][1:]] == [
        TREE[PROVINCE],
        TREE[PREFECTURE],
        TREE[COUNTY],
        TREE[TOWNSHIP_A],
    ]


async def test_callers_own_region_shows_the_ancestors_above_their_scope(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")

    response = await client.get(f"{REGIONS}/{TOWNSHIP_A}", headers=reviewer.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region_code"] == TOWNSHIP_A
    assert body["level"] == "township"
    assert [a["code"] for a in body["ancestors"]] == [NATIONAL, PROVINCE, PREFECTURE, COUNTY]


async def test_national_root_has_no_ancestors(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    nationwide = await account_factory(NATIONAL, "data_consumer")

    response = await client.get(f"{REGIONS}/{NATIONAL}", headers=nationwide.headers)

    assert response.status_code == 200, response.text
    assert response.json()["ancestors"] == []
    assert response.json()["parent_code"] is None


@pytest.mark.parametrize(
    "code",
    [
        "abc",
        "62052210020",  # 11 digits
        "6205221002011",  # 13 digits
        "620522000201",  # village group set below an empty township group
        "００００００００００００",  # full-width digits
    ],
)
async def test_malformed_region_code_is_a_404_problem(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, code: str
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(f"{REGIONS}/{code}", headers=officer.headers)

    assert_problem(response, 404, "region.not_found")


async def test_missing_region_code_is_a_404_problem(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(f"{REGIONS}/620522199000", headers=officer.headers)

    assert_problem(response, 404, "region.not_found")


async def test_region_outside_scope_is_indistinguishable_from_a_missing_one(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    outside = await client.get(f"{REGIONS}/{OTHER_VILLAGE}", headers=officer.headers)
    missing = await client.get(f"{REGIONS}/620522199000", headers=officer.headers)

    assert_problem(outside, 404, "region.not_found")
    assert outside.json()["detail"] == missing.json()["detail"]


async def test_regions_need_a_token(client: httpx.AsyncClient, tree: dict[str, str]) -> None:
    assert_problem(await client.get(f"{REGIONS}/{COUNTY}"), 401, "auth.missing_token")
    assert_problem(await client.get(REGIONS), 401, "auth.missing_token")


# Listing -------------------------------------------------------------------------------------------------


async def test_children_of_a_region_are_listed_in_code_order(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    townships = await client.get(REGIONS, params={"parent": COUNTY}, headers=officer.headers)
    villages = await client.get(REGIONS, params={"parent": TOWNSHIP_B}, headers=officer.headers)

    assert townships.status_code == 200, townships.text
    assert [r["code"] for r in townships.json()["items"]] == [TOWNSHIP_A, TOWNSHIP_B]
    assert all(r["parent_code"] == COUNTY and r["level"] == "township" for r in townships.json()["items"])
    assert townships.json()["next_cursor"] is None
    assert [r["code"] for r in villages.json()["items"]] == [VILLAGE_B1, VILLAGE_B2]
    assert [r["name"] for r in villages.json()["items"]] == [TREE[VILLAGE_B1], TREE[VILLAGE_B2]]


async def test_township_reviewer_listing_the_county_children_sees_only_their_own_township(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")

    response = await client.get(REGIONS, params={"parent": COUNTY}, headers=reviewer.headers)

    assert response.status_code == 200, response.text
    assert [r["code"] for r in response.json()["items"]] == [TOWNSHIP_A]


async def test_children_of_a_region_outside_scope_are_an_empty_list(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(REGIONS, params={"parent": OTHER_COUNTY}, headers=officer.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


async def test_list_without_filters_is_the_whole_scope_in_code_order(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    reviewer = await account_factory(TOWNSHIP_A, "township_reviewer")

    assert await all_codes(client, reviewer.headers) == [TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2]


async def test_level_filter_lists_only_villages_in_scope(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")
    province = await account_factory(PROVINCE, "data_consumer")

    assert await all_codes(client, officer.headers, level="village") == [
        VILLAGE_A1,
        VILLAGE_A2,
        VILLAGE_B1,
        VILLAGE_B2,
    ]
    assert await all_codes(client, province.headers, level="village") == sorted(
        [VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, VILLAGE_B2, OTHER_VILLAGE]
    )
    assert await all_codes(client, province.headers, level="county") == [OTHER_COUNTY, COUNTY]
    assert await all_codes(client, province.headers, level="township", parent=OTHER_COUNTY) == [
        OTHER_TOWNSHIP
    ]


async def test_unknown_level_is_422(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(REGIONS, params={"level": "hamlet"}, headers=officer.headers)

    assert_problem(response, 422, "validation")


@pytest.mark.parametrize("parent", ["abc", "62052200000", "620522000201"])
async def test_malformed_parent_is_422(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, parent: str
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(REGIONS, params={"parent": parent}, headers=officer.headers)

    body = assert_problem(response, 422, "region.invalid_code")
    assert body["errors"][0]["loc"] == ["query", "parent"]


async def test_limit_one_walks_every_page_without_duplicates_or_gaps(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    province = await account_factory(PROVINCE, "data_consumer")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        response = await client.get(REGIONS, params=params, headers=province.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) == 1
        seen.append(body["items"][0]["code"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages <= len(TREE), "the cursor never ends"

    assert seen == sorted(TREE)
    assert len(set(seen)) == len(seen) == len(TREE)
    assert seen == await all_codes(client, province.headers)


async def test_paging_with_a_parent_filter_keeps_the_filter(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    first = await client.get(REGIONS, params={"parent": TOWNSHIP_A, "limit": "1"}, headers=officer.headers)
    cursor = first.json()["next_cursor"]
    second = await client.get(
        REGIONS, params={"parent": TOWNSHIP_A, "limit": "1", "cursor": cursor}, headers=officer.headers
    )

    assert [r["code"] for r in first.json()["items"]] == [VILLAGE_A1]
    assert [r["code"] for r in second.json()["items"]] == [VILLAGE_A2]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%",
        encode_cursor({"code": COUNTY}),  # JSON, but not a list
        encode_cursor([COUNTY, "extra"]),  # too many keys
        encode_cursor([620522000000]),  # wrong type
        encode_cursor([]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not JSON
    ],
)
async def test_invalid_cursor_is_a_422_problem(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, cursor: str
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(REGIONS, params={"cursor": cursor}, headers=officer.headers)

    body = assert_problem(response, 422, "pagination.invalid_cursor")
    assert body["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
async def test_limit_outside_1_to_500_is_422(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, limit: str
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    response = await client.get(REGIONS, params={"limit": limit}, headers=officer.headers)

    body = assert_problem(response, 422, "validation")
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_limits_1_and_500_are_accepted(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    officer = await account_factory(COUNTY, "county_officer")

    for limit in ("1", "500"):
        response = await client.get(REGIONS, params={"limit": limit}, headers=officer.headers)
        assert response.status_code == 200, response.text


# Import --------------------------------------------------------------------------------------------------


@pytest.fixture
async def county_admin(tree: dict[str, str], account_factory: AccountFactory) -> Account:
    return await account_factory(COUNTY, "admin")


async def test_admin_imports_townships_and_villages_with_parents_in_the_same_file_in_any_order(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    response = await upload(client, county_admin.headers, csv_file(NEW_ROWS))

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 4, "updated": 0, "unchanged": 0}
    township = (await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers)).json()
    assert (township["name"], township["level"], township["parent_code"]) == ("莲花镇", "township", COUNTY)
    village = (await client.get(f"{REGIONS}/{NEW_VILLAGE_2}", headers=county_admin.headers)).json()
    assert (village["name"], village["level"]) == ("赵家岘村", "village")
    assert [a["code"] for a in village["ancestors"]] == [NATIONAL, PROVINCE, PREFECTURE, COUNTY, NEW_TOWNSHIP]
    assert await all_codes(client, county_admin.headers, parent=NEW_TOWNSHIP) == [
        NEW_VILLAGE_1,
        NEW_VILLAGE_2,
    ]
    assert await all_codes(client, county_admin.headers, parent=TOWNSHIP_A) == [
        VILLAGE_A1,
        VILLAGE_A2,
        NEW_VILLAGE_A3,
    ]


async def test_importing_the_same_file_again_changes_nothing(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    data = csv_file(NEW_ROWS)
    assert (await upload(client, county_admin.headers, data)).status_code == 200
    before = (await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers)).json()
    codes_before = await all_codes(client, county_admin.headers)

    again = await upload(client, county_admin.headers, data)

    assert again.status_code == 200, again.text
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 4}
    assert (await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers)).json() == before
    assert await all_codes(client, county_admin.headers) == codes_before


async def test_a_renamed_row_is_counted_as_updated_and_renames_the_region(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    rows = [(code, name) for code, name in TREE.items() if code.startswith("620522")]
    renamed = [(code, "兴国镇（新）" if code == TOWNSHIP_A else name) for code, name in rows]

    response = await upload(client, county_admin.headers, csv_file(renamed))

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 0, "updated": 1, "unchanged": len(rows) - 1}
    township = (await client.get(f"{REGIONS}/{TOWNSHIP_A}", headers=county_admin.headers)).json()
    assert township["name"] == "兴国镇（新）"
    village = (await client.get(f"{REGIONS}/{VILLAGE_A1}", headers=county_admin.headers)).json()
    assert village["ancestors"][-1]["name"] == "兴国镇（新）"


async def test_a_file_with_bad_rows_is_refused_line_by_line_and_imports_nothing(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    data = "\n".join(
        [
            "code,name",
            f"{NEW_TOWNSHIP},莲花镇",  # 2: fine on its own
            "62052210200X,坏码村",  # 3: bad code
            f"{NEW_VILLAGE_1},",  # 4: missing name
            f"{NEW_TOWNSHIP},莲花镇",  # 5: duplicate of line 2
            f"{NEW_VILLAGE_2},赵家岘村,多余",  # 6: three columns
            f"{TOWNSHIP_A},兴国镇（新）",  # 7: a valid rename, which must not happen either
            "",
        ]
    )

    response = await upload(client, county_admin.headers, data)

    body = assert_problem(response, 422, "region.import")
    errors = {(tuple(e["loc"]), e["code"]) for e in body["errors"]}
    assert errors == {
        (("file", 3, "code"), "invalid_code"),
        (("file", 4, "name"), "name"),
        (("file", 5, "code"), "duplicate"),
        (("file", 6), "columns"),
    }
    assert all(e["message"] for e in body["errors"])
    assert_problem(await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers), 404)
    township = (await client.get(f"{REGIONS}/{TOWNSHIP_A}", headers=county_admin.headers)).json()
    assert township["name"] == TREE[TOWNSHIP_A]


@pytest.mark.parametrize(
    ("row", "loc", "code"),
    [
        ("000000000000,全国", ["file", 2, "code"], "invalid_code"),
        (f"{NEW_TOWNSHIP},{'长' * 101}", ["file", 2, "name"], "name"),
        (f"{NEW_TOWNSHIP}", ["file", 2], "columns"),
        ("620522 102000,莲花镇", ["file", 2, "code"], "invalid_code"),
    ],
)
async def test_each_kind_of_bad_row_names_its_line_and_column(
    client: httpx.AsyncClient, county_admin: Account, row: str, loc: list[object], code: str
) -> None:
    response = await upload(client, county_admin.headers, f"code,name\n{row}\n")

    body = assert_problem(response, 422, "region.import")
    assert [(e["loc"], e["code"]) for e in body["errors"]] == [(loc, code)]


@pytest.mark.parametrize("header", ["id,title", "name,code", "", "620522102000,莲花镇"])
async def test_a_bad_header_is_refused_on_line_1_and_imports_nothing(
    client: httpx.AsyncClient, county_admin: Account, header: str
) -> None:
    data = f"{header}\n{NEW_TOWNSHIP},莲花镇\n"

    response = await upload(client, county_admin.headers, data)

    body = assert_problem(response, 422, "region.import.header")
    assert body["errors"][0]["loc"] == ["file", 1]
    assert_problem(await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers), 404)


async def test_a_file_with_only_a_header_is_refused(client: httpx.AsyncClient, county_admin: Account) -> None:
    response = await upload(client, county_admin.headers, "code,name\n\n")

    assert_problem(response, 422, "region.import.empty")


async def test_a_row_whose_parent_exists_neither_in_the_database_nor_the_file_is_refused(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    orphan = "620522103201"  # its township 620522103000 exists nowhere
    data = csv_file([(NEW_TOWNSHIP, "莲花镇"), (orphan, "孤儿村"), (NEW_VILLAGE_1, "陈家河村")])

    response = await upload(client, county_admin.headers, data)

    body = assert_problem(response, 422, "region.import")
    assert [(e["loc"], e["code"]) for e in body["errors"]] == [(["file", 3, "code"], "no_parent")]
    assert "620522103000" in body["errors"][0]["message"]
    for code in (NEW_TOWNSHIP, orphan, NEW_VILLAGE_1):
        assert_problem(await client.get(f"{REGIONS}/{code}", headers=county_admin.headers), 404)


async def test_a_row_outside_the_admins_scope_is_refused_and_nothing_is_imported(
    client: httpx.AsyncClient, county_admin: Account, account_factory: AccountFactory
) -> None:
    province = await account_factory(PROVINCE, "data_consumer")
    data = csv_file([(NEW_TOWNSHIP, "莲花镇"), ("620521101000", "红堡镇"), (OTHER_TOWNSHIP, "改名镇")])

    response = await upload(client, county_admin.headers, data)

    body = assert_problem(response, 422, "region.import")
    assert [(e["loc"], e["code"]) for e in body["errors"]] == [
        (["file", 3, "code"], "out_of_scope"),
        (["file", 4, "code"], "out_of_scope"),
    ]
    assert_problem(await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers), 404)
    assert_problem(await client.get(f"{REGIONS}/620521101000", headers=province.headers), 404)
    other = (await client.get(f"{REGIONS}/{OTHER_TOWNSHIP}", headers=province.headers)).json()
    assert other["name"] == TREE[OTHER_TOWNSHIP]


async def test_township_admin_cannot_import_into_a_sibling_township_or_rename_the_county(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(TOWNSHIP_A, "admin")
    officer = await account_factory(COUNTY, "county_officer")

    response = await upload(
        client,
        admin.headers,
        csv_file([(NEW_VILLAGE_A3, "杨家坪村"), ("620522101203", "新村"), (COUNTY, "秦安新县")]),
    )

    body = assert_problem(response, 422, "region.import")
    assert [e["loc"] for e in body["errors"]] == [["file", 3, "code"], ["file", 4, "code"]]
    assert await all_codes(client, officer.headers) == sorted(c for c in TREE if c.startswith("620522"))
    assert (await client.get(f"{REGIONS}/{COUNTY}", headers=officer.headers)).json()["name"] == TREE[COUNTY]


async def test_township_admin_imports_villages_of_their_own_township(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory
) -> None:
    admin = await account_factory(TOWNSHIP_A, "admin")

    response = await upload(client, admin.headers, csv_file([(NEW_VILLAGE_A3, "杨家坪村")]))

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert await all_codes(client, admin.headers) == [TOWNSHIP_A, VILLAGE_A1, VILLAGE_A2, NEW_VILLAGE_A3]


async def test_a_gb18030_file_with_windows_line_ends_is_imported(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    data = csv_file(NEW_ROWS, newline="\r\n").encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test is only worth something if the bytes are not UTF-8

    response = await upload(client, county_admin.headers, data)

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 4, "updated": 0, "unchanged": 0}
    for code, name in NEW_ROWS:
        assert (await client.get(f"{REGIONS}/{code}", headers=county_admin.headers)).json()["name"] == name


async def test_a_utf8_file_with_a_byte_order_mark_is_imported(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    data = b"\xef\xbb\xbf" + csv_file(NEW_ROWS).encode("utf-8")

    response = await upload(client, county_admin.headers, data)

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 4, "updated": 0, "unchanged": 0}
    assert (await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers)).json()[
        "name"
    ] == "莲花镇"


async def test_a_file_in_neither_utf8_nor_gb18030_is_refused(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    data = b"code,name\n" + NEW_TOWNSHIP.encode() + b",\xff\xff\n"

    response = await upload(client, county_admin.headers, data)

    assert_problem(response, 422, "region.import.encoding")
    assert_problem(await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers), 404)


async def test_a_malformed_csv_file_is_refused_not_a_server_error(
    client: httpx.AsyncClient, county_admin: Account
) -> None:
    # One cell larger than the csv module's field limit (128 KiB): the parser itself fails.
    data = f'code,name\n{NEW_TOWNSHIP},"{"长" * 200_000}"\n'

    response = await upload(client, county_admin.headers, data)

    body = assert_problem(response, 422, "region.import.csv")
    assert body["errors"][0]["loc"] == ["file", 2]
    assert_problem(await client.get(f"{REGIONS}/{NEW_TOWNSHIP}", headers=county_admin.headers), 404)


async def test_import_without_a_file_field_is_422(client: httpx.AsyncClient, county_admin: Account) -> None:
    response = await client.post(
        IMPORT,
        files={"upload": ("regions.csv", b"code,name\n", "text/csv")},
        headers=county_admin.headers,
    )

    body = assert_problem(response, 422, "validation")
    assert body["errors"][0]["loc"] == ["body", "file"]


@pytest.mark.parametrize(
    ("region", "role"),
    [
        (COUNTY, "county_officer"),
        (VILLAGE_A1, "village_clerk"),
        (COUNTY, "data_consumer"),
        (TOWNSHIP_A, "township_reviewer"),
        (COUNTY, "finance_officer"),
        (COUNTY, "inspector"),
    ],
)
async def test_roles_other_than_admin_cannot_import_and_nothing_changes(
    client: httpx.AsyncClient, tree: dict[str, str], account_factory: AccountFactory, region: str, role: str
) -> None:
    caller = await account_factory(region, role)
    officer = await account_factory(COUNTY, "county_officer")
    data = csv_file([(NEW_VILLAGE_A3, "杨家坪村"), (VILLAGE_A1, "改名村")])

    response = await upload(client, caller.headers, data)

    assert_problem(response, 403, "auth.forbidden")
    assert await all_codes(client, officer.headers) == sorted(c for c in TREE if c.startswith("620522"))
    village = (await client.get(f"{REGIONS}/{VILLAGE_A1}", headers=officer.headers)).json()
    assert village["name"] == TREE[VILLAGE_A1]


async def test_import_needs_a_token(client: httpx.AsyncClient, tree: dict[str, str]) -> None:
    response = await client.post(IMPORT, files={"file": ("r.csv", b"code,name\n", "text/csv")})

    assert_problem(response, 401, "auth.missing_token")
