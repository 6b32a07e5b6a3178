"""The caller: who the token says they are, and their own password."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import PrincipalDep, SessionDep
from app.api.schemas.auth import Me, PasswordChange
from app.domain.users import service as users

router = APIRouter(prefix="/api/v1/me", tags=["auth"])


@router.get("", summary="The caller, their roles and scope", response_model=Me)
async def me(principal: PrincipalDep, session: SessionDep) -> Me:
    profile = await users.profile(session, principal)
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        display_name=profile.display_name,
        region_code=principal.region_code,
        region_name=profile.region_name,
        scope_prefix=principal.scope_prefix,
        roles=sorted(principal.roles),
        permissions=sorted(principal.permissions),
    )


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your own password",
    description="Ends every session of the account: sign in again with the new password.",
)
async def change_password(body: PasswordChange, principal: PrincipalDep, session: SessionDep) -> None:
    await users.change_own_password(
        session, principal, current_password=body.current_password, new_password=body.new_password
    )
