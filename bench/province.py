"""The benchmark province: 甘肃省 (62) with its 14 prefectures and 86 county-level divisions, real codes and
names; townships and villages below them are synthetic but well formed (镇 codes 100–199, 村 codes 201–205).

A dataset of N households fills the tree from its first township on, ~333 households per village, so that a
smaller dataset is the first part of the larger one: the benchmark township is the same in every size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

PROVINCE_CODE, PROVINCE_NAME = "620000000000", "甘肃省"
VILLAGES_PER_TOWNSHIP = 5
FULL_TOWNSHIPS = 1_200  # x 5 villages = 6,000 villages for 2,000,000 households
FULL_HOUSEHOLDS = 2_000_000

# Prefecture code and name, then its counties as (code, name).
PREFECTURES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("6201", "兰州市", (
        ("620102", "城关区"), ("620103", "七里河区"), ("620104", "西固区"), ("620105", "安宁区"),
        ("620111", "红古区"), ("620121", "永登县"), ("620122", "皋兰县"), ("620123", "榆中县"),
    )),
    ("6202", "嘉峪关市", ()),
    ("6203", "金昌市", (("620302", "金川区"), ("620321", "永昌县"))),
    ("6204", "白银市", (
        ("620402", "白银区"), ("620403", "平川区"), ("620421", "靖远县"), ("620422", "会宁县"),
        ("620423", "景泰县"),
    )),
    ("6205", "天水市", (
        ("620502", "秦州区"), ("620503", "麦积区"), ("620521", "清水县"), ("620522", "秦安县"),
        ("620523", "甘谷县"), ("620524", "武山县"), ("620525", "张家川回族自治县"),
    )),
    ("6206", "武威市", (
        ("620602", "凉州区"), ("620621", "民勤县"), ("620622", "古浪县"), ("620623", "天祝藏族自治县"),
    )),
    ("6207", "张掖市", (
        ("620702", "甘州区"), ("620721", "肃南裕固族自治县"), ("620722", "民乐县"), ("620723", "临泽县"),
        ("620724", "高台县"), ("620725", "山丹县"),
    )),
    ("6208", "平凉市", (
        ("620802", "崆峒区"), ("620821", "泾川县"), ("620822", "灵台县"), ("620823", "崇信县"),
        ("620825", "庄浪县"), ("620826", "静宁县"), ("620881", "华亭市"),
    )),
    ("6209", "酒泉市", (
        ("620902", "肃州区"), ("620921", "金塔县"), ("620922", "瓜州县"), ("620923", "肃北蒙古族自治县"),
        ("620924", "阿克塞哈萨克族自治县"), ("620981", "玉门市"), ("620982", "敦煌市"),
    )),
    ("6210", "庆阳市", (
        ("621002", "西峰区"), ("621021", "庆城县"), ("621022", "环县"), ("621023", "华池县"),
        ("621024", "合水县"), ("621025", "正宁县"), ("621026", "宁县"), ("621027", "镇原县"),
    )),
    ("6211", "定西市", (
        ("621102", "安定区"), ("621121", "通渭县"), ("621122", "陇西县"), ("621123", "渭源县"),
        ("621124", "临洮县"), ("621125", "漳县"), ("621126", "岷县"),
    )),
    ("6212", "陇南市", (
        ("621202", "武都区"), ("621221", "成县"), ("621222", "文县"), ("621223", "宕昌县"),
        ("621224", "康县"), ("621225", "西和县"), ("621226", "礼县"), ("621227", "徽县"),
        ("621228", "两当县"),
    )),
    ("6229", "临夏回族自治州", (
        ("622901", "临夏市"), ("622921", "临夏县"), ("622922", "康乐县"), ("622923", "永靖县"),
        ("622924", "广河县"), ("622925", "和政县"), ("622926", "东乡族自治县"),
        ("622927", "积石山保安族东乡族撒拉族自治县"),
    )),
    ("6230", "甘南藏族自治州", (
        ("623001", "合作市"), ("623021", "临潭县"), ("623022", "卓尼县"), ("623023", "舟曲县"),
        ("623024", "迭部县"), ("623025", "玛曲县"), ("623026", "碌曲县"), ("623027", "夏河县"),
    )),
)  # fmt: skip

COUNTIES = tuple((code, name) for _, _, counties in PREFECTURES for code, name in counties)
_PLACE_HEADS = "红石马杨柳李王张刘陈高何罗郭赵孙黄新大小东西南北上下中前后沙水石泉川河"
_PLACE_TAILS = (
    "家庄",
    "家湾",
    "家沟",
    "家河",
    "家坪",
    "家岘",
    "家山",
    "家川",
    "家塬",
    "家峪",
    "家堡",
    "家岔",
)


def code(prefix: str) -> str:
    return prefix.ljust(12, "0")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True, slots=True)
class Village:
    code: str
    name: str
    county_code: str
    township_name: str
    households: int


def townships_per_county(county_index: int) -> int:
    """1,200 townships over 86 counties: 14 each, 13 in the last four."""
    return 14 if county_index < len(COUNTIES) - 4 else 13


def township_name(county_index: int, township_index: int) -> str:
    head = _PLACE_HEADS[(county_index * 7 + township_index) % len(_PLACE_HEADS)]
    tail = "镇" if township_index < 9 else "乡"
    return f"{head}{_PLACE_HEADS[(county_index + township_index * 3) % len(_PLACE_HEADS)]}{tail}"


def village_name(township_number: int, village_index: int) -> str:
    head = _PLACE_HEADS[(township_number * 5 + village_index) % len(_PLACE_HEADS)]
    return f"{head}{_PLACE_TAILS[(township_number + village_index) % len(_PLACE_TAILS)]}村"


def township_codes() -> Iterator[tuple[str, str, int]]:
    """Every township of the full province in code order: (9-digit prefix, name, county index)."""
    for county_index, (county_code, _) in enumerate(COUNTIES):
        for t in range(townships_per_county(county_index)):
            yield f"{county_code}{100 + t:03d}", township_name(county_index, t), county_index


@dataclass(frozen=True)
class Province:
    regions: list[Region]
    villages: list[Village]

    @property
    def bench_township(self) -> str:
        """The township the benchmark's township reviewer works in: the first one, present in every size."""
        return self.villages[0].code[:9] + "000"

    @property
    def bench_county(self) -> str:
        return self.villages[0].county_code


def build_province(households: int) -> Province:
    """The regions holding ``households`` households: as many villages as ~333 households fill, from the
    first township on, each village's size varied by up to a third while the total stays exact."""
    full_villages = FULL_TOWNSHIPS * VILLAGES_PER_TOWNSHIP
    village_count = max(1, min(full_villages, round(households * full_villages / FULL_HOUSEHOLDS)))
    sizes = [households // village_count + (i < households % village_count) for i in range(village_count)]
    for i in range(0, village_count - 1, 2):  # move households between neighbours, keeping the sum
        shift = (i * 7919) % (sizes[i] // 3 + 1)
        sizes[i], sizes[i + 1] = sizes[i] + shift, sizes[i + 1] - shift

    regions = [Region(PROVINCE_CODE, PROVINCE_NAME, "province", "000000000000")]
    regions += [Region(code(prefix), name, "prefecture", PROVINCE_CODE) for prefix, name, _ in PREFECTURES]
    villages: list[Village] = []
    seen = {region.code for region in regions}
    county_names = dict(COUNTIES)
    for number, (township, name, _) in enumerate(township_codes()):
        if len(villages) == village_count:
            break
        county_code, prefecture_code = code(township[:6]), code(township[:4])
        for parent, this, this_name, level in (
            (prefecture_code, county_code, county_names[township[:6]], "county"),
            (county_code, code(township), name, "township"),
        ):
            if this not in seen:
                seen.add(this)
                regions.append(Region(this, this_name, level, parent))
        for v in range(VILLAGES_PER_TOWNSHIP):
            if len(villages) == village_count:
                break
            village = Village(
                f"{township}{201 + v:03d}", village_name(number, v), county_code, name, sizes[len(villages)]
            )
            villages.append(village)
            regions.append(Region(village.code, village.name, "village", code(township)))
    return Province(regions, villages)
