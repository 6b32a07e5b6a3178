"""The README's operations section names every setting the service reads (app/settings.py)."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    prefix = Settings.model_config.get("env_prefix", "")
    missing = [
        f"{prefix}{name}".upper() for name in Settings.model_fields if f"{prefix}{name}".upper() not in text
    ]
    assert not missing, f"README.md does not name these settings (see its Operations section): {missing}"
