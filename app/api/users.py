"""User management for admins and county officers, limited to their scope and the roles they hold."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import PageDep, PrincipalDep, SessionDep
from app.api.schemas.common import Page, RegionCodeStr
from app.api.schemas.users import UserCreate, UserRead, UserUpdate
from app.domain.users import service

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", summary="List users in your scope", response_model=Page[UserRead])
async def list_users(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    region: Annotated[RegionCodeStr | None, Query(description="Only users in this region's subtree")] = None,
) -> Page[UserRead]:
    result = await service.list_users(session, principal, page, region=region)
    return Page[UserRead](
        items=[UserRead.model_validate(u) for u in result.items], next_cursor=result.next_cursor
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    description="The region must lie in your scope, and you can only grant roles you hold yourself.",
    response_model=UserRead,
)
async def create_user(body: UserCreate, principal: PrincipalDep, session: SessionDep) -> UserRead:
    user = await service.create_user(session, principal, service.NewUser(**body.model_dump()))
    return UserRead.model_validate(user)


@router.get("/{user_id}", summary="A user", response_model=UserRead)
async def get_user(user_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> UserRead:
    return UserRead.model_validate(await service.get_user(session, principal, user_id))


@router.patch(
    "/{user_id}",
    summary="Change a user",
    description="Only the fields sent change. Changing the password, roles, region or grant, or disabling "
    "the account, ends all of the user's sessions.",
    response_model=UserRead,
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, principal: PrincipalDep, session: SessionDep
) -> UserRead:
    user = await service.update_user(session, principal, user_id, body.model_dump(exclude_unset=True))
    return UserRead.model_validate(user)
