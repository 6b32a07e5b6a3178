"""Settings: where the JWT signing key comes from, and what the service refuses to start with."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from app.main import create_app
from app.settings import ConfigurationError, Settings
from tests.auth.support import ec_pem_pair, rsa_pem_pair

POSTGRES_URL = "postgresql+asyncpg://fupin@db.example/fupin"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test passes counts: no FUPIN_* variable of the shell, no .env file of the checkout."""
    for name in (
        "FUPIN_JWT_SECRET",
        "FUPIN_JWT_ALGORITHM",
        "FUPIN_JWT_PRIVATE_KEY",
        "FUPIN_JWT_PUBLIC_KEY",
        "FUPIN_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # the .env file is looked up in the working directory


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, log_level="WARNING", log_json=True, **values)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# The embedded SQLite's generated secret ---------------------------------------------------------------------


def test_sqlite_without_secret_generates_one_beside_the_database_readable_by_owner_only(
    tmp_path: Path,
) -> None:
    database = tmp_path / "fupin.db"

    key = make(database_url=sqlite_url(database)).signing_key

    secret_file = tmp_path / "fupin.db.jwt-secret"
    assert secret_file.read_text() == key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(key.encode()) >= 32


def test_generated_secret_is_reused_by_the_next_settings_instance(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fupin.db")
    first = make(database_url=url)
    key = first.signing_key

    second = make(database_url=url)

    assert second.signing_key == key
    assert second.verification_key == key
    assert first.verification_key == key


def test_each_sqlite_database_gets_its_own_secret(tmp_path: Path) -> None:
    one = make(database_url=sqlite_url(tmp_path / "one.db")).signing_key
    two = make(database_url=sqlite_url(tmp_path / "two.db")).signing_key
    assert one != two


def test_generated_secret_file_is_created_with_its_directory(tmp_path: Path) -> None:
    database = tmp_path / "var" / "lib" / "fupin.db"
    key = make(database_url=sqlite_url(database)).signing_key
    assert (database.parent / "fupin.db.jwt-secret").read_text() == key


def test_default_database_keeps_its_secret_in_the_working_directory(tmp_path: Path) -> None:
    key = make().signing_key
    assert (tmp_path / "fupin.db.jwt-secret").read_text() == key


def test_existing_secret_file_is_read_not_replaced(tmp_path: Path) -> None:
    secret_file = tmp_path / "fupin.db.jwt-secret"
    secret_file.write_text("kept-from-an-earlier-start-" + "k" * 32 + "\n")

    key = make(database_url=sqlite_url(tmp_path / "fupin.db")).signing_key

    assert key == "kept-from-an-earlier-start-" + "k" * 32
    assert secret_file.read_text().strip() == key


def test_configured_secret_wins_over_generating_one(tmp_path: Path) -> None:
    secret = "configured-" + "s" * 40
    settings = make(database_url=sqlite_url(tmp_path / "fupin.db"), jwt_secret=secret)
    assert settings.signing_key == settings.verification_key == secret
    assert not (tmp_path / "fupin.db.jwt-secret").exists()


def test_secret_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = "from-the-environment-" + "e" * 40
    monkeypatch.setenv("FUPIN_JWT_SECRET", secret)
    assert make(database_url=sqlite_url(tmp_path / "fupin.db")).signing_key == secret


# PostgreSQL needs a configured secret -----------------------------------------------------------------------


def test_postgresql_without_secret_refuses_to_sign_naming_fupin_jwt_secret() -> None:
    settings = make(database_url=POSTGRES_URL)
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_SECRET"):
        _ = settings.signing_key
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_SECRET"):
        _ = settings.verification_key


def test_postgresql_without_secret_fails_at_app_creation_not_on_first_request() -> None:
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_SECRET"):
        create_app(make(database_url=POSTGRES_URL))


def test_postgresql_with_secret_signs_with_it() -> None:
    secret = "postgres-" + "p" * 40
    assert make(database_url=POSTGRES_URL, jwt_secret=secret).signing_key == secret


# Secret length ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret", ["", "short", "x" * 31, "密" * 10], ids=["empty", "5 bytes", "31 bytes", "30 bytes"]
)
def test_secret_shorter_than_32_bytes_is_refused_at_construction(secret: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        make(database_url=POSTGRES_URL, jwt_secret=secret)


def test_short_secret_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUPIN_JWT_SECRET", "too-short")
    with pytest.raises(ValidationError, match="FUPIN_JWT_SECRET must be at least 32 bytes"):
        make(database_url=POSTGRES_URL)


@pytest.mark.parametrize("secret", ["x" * 32, "密" * 11], ids=["32 ASCII bytes", "11 characters, 33 bytes"])
def test_secret_of_32_bytes_or_more_is_accepted(secret: str) -> None:
    """The limit is on bytes, not characters."""
    assert make(database_url=POSTGRES_URL, jwt_secret=secret).signing_key == secret


def test_secret_is_not_shown_in_the_settings_repr() -> None:
    secret = "do-not-print-me-" + "z" * 32
    settings = make(database_url=POSTGRES_URL, jwt_secret=secret)
    assert secret not in repr(settings)
    assert secret not in str(settings.model_dump())


# Asymmetric algorithms --------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_asymmetric_algorithm_without_keys_is_refused(algorithm: str, tmp_path: Path) -> None:
    # Even with a secret and an embedded database at hand: the secret is no substitute for the key pair.
    settings = make(
        database_url=sqlite_url(tmp_path / "fupin.db"), jwt_algorithm=algorithm, jwt_secret="s" * 40
    )
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_PRIVATE_KEY"):
        _ = settings.signing_key
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_PUBLIC_KEY"):
        _ = settings.verification_key
    with pytest.raises(ConfigurationError, match=algorithm):
        create_app(settings)


def test_rs256_with_only_the_private_key_fails_at_app_creation() -> None:
    private, _ = rsa_pem_pair()
    settings = make(database_url=POSTGRES_URL, jwt_algorithm="RS256", jwt_private_key=SecretStr(private))
    assert settings.signing_key == private
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_PUBLIC_KEY"):
        create_app(settings)


def test_rs256_with_only_the_public_key_fails_at_app_creation() -> None:
    _, public = rsa_pem_pair()
    settings = make(database_url=POSTGRES_URL, jwt_algorithm="RS256", jwt_public_key=public)
    assert settings.verification_key == public
    with pytest.raises(ConfigurationError, match="FUPIN_JWT_PRIVATE_KEY"):
        create_app(settings)


def test_es256_keys_are_taken_as_pem_text_or_from_pem_files(tmp_path: Path) -> None:
    private, public = ec_pem_pair()
    (tmp_path / "private.pem").write_text(private)
    (tmp_path / "public.pem").write_text(public)

    inline = make(
        database_url=POSTGRES_URL, jwt_algorithm="ES256", jwt_private_key=private, jwt_public_key=public
    )
    from_files = make(
        database_url=POSTGRES_URL,
        jwt_algorithm="ES256",
        jwt_private_key=str(tmp_path / "private.pem"),
        jwt_public_key=str(tmp_path / "public.pem"),
    )

    assert inline.signing_key == from_files.signing_key == private
    assert inline.verification_key == from_files.verification_key == public


def test_unknown_algorithm_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError):
        make(database_url=POSTGRES_URL, jwt_algorithm="none", jwt_secret="s" * 40)
    with pytest.raises(ValidationError):
        make(database_url=POSTGRES_URL, jwt_algorithm="HS512", jwt_secret="s" * 40)
