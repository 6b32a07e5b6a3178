"""The project library (项目库): projects, their workflow, beneficiary households and income sharing."""

from app.domain.projects import settings as _settings  # noqa: F401  (registers the settings)
