"""Machine clients (provincial systems, dashboards, scripts) for the client-credentials grant: admins only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page
from app.api.schemas.users import ClientCreate, ClientRead, ClientUpdate, ClientWithSecretRead
from app.domain.users import service

router = APIRouter(prefix="/api/v1/clients", tags=["clients"])


def _with_secret(created: service.ClientWithSecret) -> ClientWithSecretRead:
    return ClientWithSecretRead(
        **ClientRead.model_validate(created.client).model_dump(), client_secret=created.client_secret
    )


@router.get("", summary="List machine clients in your scope", response_model=Page[ClientRead])
async def list_clients(principal: PrincipalDep, session: SessionDep, page: PageDep) -> Page[ClientRead]:
    result = await service.list_clients(session, principal, page)
    return Page[ClientRead](
        items=[ClientRead.model_validate(c) for c in result.items], next_cursor=result.next_cursor
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a machine client",
    description="Returns the client id and secret; the secret is shown only this once.",
    response_model=ClientWithSecretRead,
)
async def create_client(
    body: ClientCreate, principal: PrincipalDep, session: SessionDep
) -> ClientWithSecretRead:
    return _with_secret(
        await service.create_client(session, principal, service.NewClient(**body.model_dump()))
    )


@router.get("/{client_id}", summary="A machine client", response_model=ClientRead)
async def get_client(client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> ClientRead:
    return ClientRead.model_validate(await service.get_client(session, principal, client_id))


@router.patch("/{client_id}", summary="Change a machine client", response_model=ClientRead)
async def update_client(
    client_id: uuid.UUID, body: ClientUpdate, principal: PrincipalDep, session: SessionDep
) -> ClientRead:
    client = await service.update_client(session, principal, client_id, body.model_dump(exclude_unset=True))
    return ClientRead.model_validate(client)


@router.post(
    "/{client_id}/secret",
    summary="Issue a new secret",
    description="The old secret stops working at once; the new one is shown only this once.",
    response_model=ClientWithSecretRead,
)
async def rotate_secret(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> ClientWithSecretRead:
    return _with_secret(await service.rotate_client_secret(session, principal, client_id))
