"""Responsibility chains (责任链): work units, cadres, assignments, the chain of a household, coverage.

Importing the package registers its per-region settings (:mod:`.settings`) with the reference data.
"""

from app.domain.responsibility import settings as _settings  # noqa: F401  (registers the settings)
