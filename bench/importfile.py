"""A CSV file in the import layout (docs/households-import.md): new households, one row per member.

Each run of the benchmark imports new people: household numbers and ID numbers carry the run's number, so
a second run inserts again instead of matching (and updating) what the first one imported.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from app.domain.households import layout
from bench.people import Births, IdNumbers, name, surname
from bench.registry import CAUSES, FUELS, SIZES, STRUCTURES, WATERS

CURRENT_ATTRIBUTES = ("general",) * 7 + ("dibao",) * 2 + ("tekun",)  # 五保 ended with 2020


def write_import_csv(path: Path, *, rows: int, villages: list[str], run: int, seed: int = 7) -> int:
    """Write ``rows`` member rows (whole households, the last one cut to fit) into ``path``; return the
    number of households. ``villages``: codes of villages the importer may write to."""
    rng = random.Random(f"{seed}:{run}")
    births = Births()
    id_numbers = IdNumbers(f"99{run % 10_000:04d}000000")  # an area code no loaded person has
    written = households = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(layout.KEYS)
        while written < rows:
            households += 1
            village = villages[households % len(villages)]
            family, head_year, head_male = surname(rng), rng.randint(1950, 1985), rng.random() < 0.85
            status = "registered" if rng.random() < 0.65 else "exited"
            household = {
                "household_number": f"I{run:04d}{households:07d}",
                "region_code": village,
                "group_name": f"{rng.randint(1, 8)}组",
                "address": f"{rng.randint(1, 8)}组{rng.randint(1, 120)}号",
                "phone": f"13{rng.randrange(10**9):09d}",
                "bank_name": "甘肃省农村信用社",
                "bank_account": f"62{rng.randrange(10**17):017d}",
                "identification_standard": "national",
                "attribute": rng.choice(CURRENT_ATTRIBUTES),
                "category": "targeted",
                "primary_cause": rng.choice(CAUSES),
                "other_causes": "",
                "housing_area": str(rng.randint(40, 140)),
                "housing_structure": rng.choice(STRUCTURES),
                "housing_year_built": str(rng.randint(1970, 2018)),
                "housing_safety_grade": "A",
                "is_relocated": "否",
                "has_electricity": "是",
                "fuel": rng.choice(FUELS),
                "drinking_water": rng.choice(WATERS),
                "status": status,
                "registered_year": str(rng.randint(2014, 2016)),
                "exited_year": str(rng.randint(2017, 2020)) if status == "exited" else "",
            }
            size = min(int(rng.choice(SIZES)), rows - written)
            for index in range(size):
                relation = "head" if index == 0 else "spouse" if index == 1 else "child"
                year = head_year + (rng.randint(-3, 3) if index < 2 else rng.randint(22, 34))
                is_male = head_male if index == 0 else not head_male if index == 1 else rng.random() < 0.5
                member = {
                    "member_name": name(
                        rng, family if relation != "spouse" else surname(rng), is_male=is_male
                    ),
                    "member_id_number": id_numbers.next(births.pick(rng, year), is_male=is_male),
                    "member_relation": relation,
                    "member_education": "junior" if 2020 - year > 15 else "primary",
                    "member_schooling": "none",
                    "member_health": "healthy",
                    "member_labour_ability": "ordinary" if 16 <= 2020 - year <= 60 else "none",
                    "member_migrant_work_months": "0",
                    "member_has_medical_insurance": "是",
                    "member_has_pension_insurance": "是",
                }
                out.writerow([{**household, **member}[key] for key in layout.KEYS])
                written += 1
    return households
