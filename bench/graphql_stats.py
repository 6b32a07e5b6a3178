"""Region statistics over GraphQL at province scale: the whole request, as a dashboard sends it.

    python -m bench.graphql_stats --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench \\
        [--repeat 300]

On the 2,000,000-household database of bench/generate.py (rollups built by its load, or by
``fupin stats rebuild``), in process (httpx on the ASGI app: authentication, the GraphQL layer, the loaders
and the SQL, no network), signed in as the benchmark's province data consumer (``bench_province``). Times,
one after the other after a warm-up:

* the province's ``stats(year)`` with every breakdown (target: p99 under 100 ms);
* a county's townships with their statistics, one query (target: p99 under 50 ms).

Prints medians and p99 as a markdown table (bench/RESULTS.md, "Region statistics").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path

import httpx

from app.main import create_app
from app.settings import Settings
from bench.generate import BENCH_PASSWORD
from bench.graphql_dashboard import percentile, time_runs

PROVINCE = "620000000000"
STATS = """
  households people poorHouseholds poorPeople ruralPopulation povertyIncidence
  byStatus { key households people } byAttribute { key households people }
  byCause { key households people } byCategory { key households people }
  exits { year households people } returns { year households people }
  monitoring { key households people }
  coverage { ratio } funds { received disbursed balance balanceRatio }
"""
PROVINCE_STATS = f"""
query($code: String!, $year: Int!) {{ region(code: $code) {{ name stats(year: $year) {{ {STATS} }} }} }}
"""
TOWNSHIPS = f"""
query($code: String!, $year: Int!) {{
  region(code: $code) {{ name children {{ code name stats(year: $year) {{ {STATS} }} }} }}
}}
"""


async def run(database_url: str, secret: str, repeat: int, county: str) -> None:
    settings = Settings(database_url=database_url, jwt_secret=secret, log_level="WARNING")
    settings = settings.model_copy(update={"rate_limit_user_per_minute": 0})  # one user, many requests
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            signed_in = await client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "bench_province", "password": BENCH_PASSWORD},
            )
            signed_in.raise_for_status()
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

            async def graphql(query: str, code: str) -> dict[str, object]:
                response = await client.post(
                    "/graphql",
                    json={"query": query, "variables": {"code": code, "year": 2020}},
                    headers=headers,
                )
                body: dict[str, object] = response.json()
                if response.status_code != 200 or "errors" in body:
                    raise RuntimeError(f"the query failed: {body}")
                return body

            province = await graphql(PROVINCE_STATS, PROVINCE)
            townships = await graphql(TOWNSHIPS, county)
            region = townships["data"]["region"]  # type: ignore[index]
            rows = []
            for name, query, code in (
                ("province `stats(year)`, every breakdown", PROVINCE_STATS, PROVINCE),
                (
                    f"county {county}: its {len(region['children'])} townships with `stats(year)`",
                    TOWNSHIPS,
                    county,
                ),
            ):
                times = await time_runs(repeat, lambda query=query, code=code: graphql(query, code))  # type: ignore[misc]
                rows.append((name, statistics.median(times), percentile(times, 0.99)))
    stats = province["data"]["region"]["stats"]  # type: ignore[index]
    print(f"province: {stats['households']:,} households, {stats['people']:,} people")
    print("| GraphQL request | median ms | p99 ms |")
    print("|---|---|---|")
    for name, median, p99 in rows:
        print(f"| {name} | {median:.1f} | {p99:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--jwt-secret", default="bench-secret-" + "x" * 40)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    facts = Path(__file__).with_name("data") / f"{args.database_url.rsplit('/', 1)[-1]}.json"
    county = json.loads(facts.read_text())["bench_county"]
    asyncio.run(run(args.database_url, args.jwt_secret, args.repeat, county))


if __name__ == "__main__":
    main()
