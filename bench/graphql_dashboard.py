"""A dashboard's county overview over GraphQL against the same figures over REST, in process (httpx on the
ASGI app, no network), on a database holding the demo county (秦安县, 17 townships, ~2,800 households):

    FUPIN_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_g1_demo fupin db upgrade
    FUPIN_DATABASE_URL=... FUPIN_JWT_SECRET=... fupin demo load
    python -m bench.graphql_dashboard --database-url postgresql+asyncpg://… [--repeat 200]

Times, as the demo user ``county``, after a warm-up, one after the other in one run:

* ``graphql``: the README's county overview, one POST /graphql (the county's statistics with exits and funds,
  and its 17 townships with theirs);
* ``rest``: the same figures the REST way: the county's children (GET /api/v1/regions?parent=) and one
  GET /api/v1/regions/{code}/stats per region (18 requests);
* ``graphql households``: a page of 50 households of the county with their members, incomes and indicators.

Prints medians and p99 in milliseconds as a markdown table (bench/RESULTS.md, "GraphQL dashboard queries").
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from app.main import create_app
from app.settings import Settings

COUNTY = "620522000000"
OVERVIEW = """
query CountyOverview($county: String!, $year: Int!) {
  region(code: $county) {
    name
    stats(year: $year) {
      households poorPeople ruralPopulation povertyIncidence
      exits { year households people }
      funds { received disbursed balanceRatio }
    }
    children {
      name
      stats(year: $year) { households poorPeople povertyIncidence coverage { ratio } funds { balanceRatio } }
    }
  }
}
"""
HOUSEHOLDS = """
query($region: String!) {
  households(filter: {region: $region}, first: 50) {
    nodes {
      householdNumber headName status
      members { name relation idNumber }
      incomes { year perCapitaNetIncome }
      indicators { indicator holds }
    }
  }
}
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def time_runs(repeat: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(10):
        await work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def run(database_url: str, secret: str, repeat: int) -> None:
    settings = Settings(
        database_url=database_url,
        jwt_secret=secret,
        log_level="WARNING",
        rate_limit_user_per_minute=0,
        account_check_seconds=10,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            signed_in = await client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "county", "password": "demo"},
            )
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

            async def graphql(query: str, variables: dict[str, object]) -> None:
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                body = response.json()
                if response.status_code != 200 or "errors" in body:
                    raise RuntimeError(f"the query failed: {body}")

            async def overview_graphql() -> None:
                await graphql(OVERVIEW, {"county": COUNTY, "year": 2020})

            async def overview_rest() -> None:
                children = await client.get(
                    "/api/v1/regions", params={"parent": COUNTY, "limit": 100}, headers=headers
                )
                codes = [COUNTY, *(item["code"] for item in children.json()["items"])]
                for code in codes:
                    response = await client.get(
                        f"/api/v1/regions/{code}/stats", params={"year": 2020}, headers=headers
                    )
                    response.raise_for_status()

            async def households_graphql() -> None:
                await graphql(HOUSEHOLDS, {"region": COUNTY})

            rows = []
            for name, work in (
                ("county overview, GraphQL (1 request)", overview_graphql),
                ("county overview, REST (1 + 18 requests)", overview_rest),
                ("50 households with members, incomes, indicators, GraphQL", households_graphql),
            ):
                times = await time_runs(repeat, work)
                rows.append((name, statistics.median(times), percentile(times, 0.99)))
    print("| query | median ms | p99 ms |")
    print("|---|---|---|")
    for name, median, p99 in rows:
        print(f"| {name} | {median:.1f} | {p99:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--jwt-secret", default="bench-secret-" + "x" * 40)
    parser.add_argument("--repeat", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.database_url, arguments.jwt_secret, arguments.repeat))


if __name__ == "__main__":
    main()
