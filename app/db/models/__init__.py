"""Every mapped table, imported here so Alembic and the test fixtures see the whole schema."""

from app.db.models.auth import ApiClient, LoginThrottle, RefreshToken, User
from app.db.models.regions import Region

__all__ = ["ApiClient", "LoginThrottle", "RefreshToken", "Region", "User"]
