from __future__ import annotations

import httpx

from tests.conftest import COUNTY, VILLAGE_A1, VILLAGE_B1


async def test_village_clerk_sees_own_village_only(client: httpx.AsyncClient, tree, account_factory) -> None:  # type: ignore[no-untyped-def]
    clerk = await account_factory(VILLAGE_A1, "village_clerk")
    assert (await client.get(f"/api/v1/regions/{VILLAGE_A1}", headers=clerk.headers)).status_code == 200
    assert (await client.get(f"/api/v1/regions/{VILLAGE_B1}", headers=clerk.headers)).status_code == 404
    assert (await client.get(f"/api/v1/regions/{COUNTY}", headers=clerk.headers)).status_code == 404
