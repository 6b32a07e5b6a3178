"""The funds ledger (扶贫资金): accounts, transfers and their entries, approvals, idempotent requests.

Importing the package registers its per-region settings (:mod:`.settings`) with the reference data.
"""

from app.domain.funds import settings as _settings  # noqa: F401  (registers the settings)
